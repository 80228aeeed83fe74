"""The load's client (chaos/load/locustfile.py) retries a write as the same caller.

The server scopes an idempotency key to its caller, so a retry sent with another token
(or none) is a second write; the integrity check would then count a duplicate that the
client, not the server, made. locust monkey-patches the process on import, so the
client runs in a subprocess here, its HTTP client replaced by one that records each
request and answers 504 (an outcome the client must retry).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_SCRIPT = """
import json
from locust.env import Environment
from chaos.load.locustfile import BlogUser

class TimedOut:
    status_code = 504
    error = None
    def json(self):
        return {"errors": [{"message": "late", "extensions": {"code": "REQUEST_TIMEOUT"}}]}

class RecordingClient:
    def __init__(self):
        self.sent = []
    def post(self, path, json, headers, name, timeout):
        key = json["variables"]["input"]["idempotencyKey"]
        self.sent.append([key, headers.get("Authorization")])
        return TimedOut()

BlogUser.host = "http://127.0.0.1:9"
user = BlogUser(Environment(user_classes=[BlogUser]))
user.client = RecordingClient()
user.on_start()
user.user_ids = ["00000000-0000-0000-0000-000000000001"]
user.post_ids = ["00000000-0000-0000-0000-000000000002"]
for _ in range(60):
    user._create_post()
print(json.dumps(user.client.sent))
"""


def test_every_attempt_of_a_write_carries_the_first_attempts_identity(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("token-a\ntoken-b\ntoken-c\n", encoding="utf-8")
    options = {"tokens_path": str(tokens), "authenticated_share": 0.5, "retry_share": 1.0, "seed": 7}
    env = {**os.environ, "CHAOS_LOAD_OPTIONS": json.dumps(options), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=True)
    sent = json.loads(done.stdout.strip().splitlines()[-1])

    identities: dict[str, list[str | None]] = defaultdict(list)
    for key, authorization in sent:
        identities[key].append(authorization)
    assert len(identities) == 60
    assert all(len(attempts) == 3 for attempts in identities.values())  # retry_share 1: every retry made
    mixed = {key: attempts for key, attempts in identities.items() if len(set(attempts)) > 1}
    assert mixed == {}
    # Both kinds of caller occur, so the check above compared something.
    firsts = {attempts[0] is None for attempts in identities.values()}
    assert firsts == {True, False}
