"""locust user class for the blog example: ``locust -f chaos/load/locustfile.py`` (see process.py).

Options come from the ``CHAOS_LOAD_OPTIONS`` environment variable (JSON written by
:class:`chaos.load.process.LoadProcess`): mix, rate_per_s, users, seed, log_path,
tokens_path, authenticated_share, retry_share, timeout_s. Each user draws operations from
the mix with its own seeded random source and paces itself to rate_per_s / users.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from typing import Any

from locust import HttpUser, constant_throughput, events, task

from chaos.load import operations as ops
from chaos.load.log import LogWriter

OPTIONS: dict[str, Any] = json.loads(os.environ.get("CHAOS_LOAD_OPTIONS", "{}"))
MAX_ATTEMPTS = 3  # a careful client: the first try and at most two retries with the same key
_user_numbers = itertools.count()
_log: LogWriter | None = None


def _tokens() -> list[str]:
    path = OPTIONS.get("tokens_path")
    if not path:
        return []
    with open(path, encoding="utf-8") as file:
        return [line.strip() for line in file if line.strip()]


TOKENS = _tokens()


@events.test_start.add_listener
def _open_log(**_: Any) -> None:
    global _log
    if _log is None and OPTIONS.get("log_path"):
        _log = LogWriter(OPTIONS["log_path"], flush_every=int(OPTIONS.get("flush_every", 1)))


@events.quitting.add_listener
def _close_log(**_: Any) -> None:
    if _log is not None:
        _log.close()


class BlogUser(HttpUser):
    """One client of the blog: reads, writes with idempotency keys, sometimes signed in."""

    wait_time = constant_throughput(float(OPTIONS.get("rate_per_s", 1)) / int(OPTIONS.get("users", 1)))

    def on_start(self) -> None:
        number = next(_user_numbers)
        self.rng = random.Random(f"{OPTIONS.get('seed', 0)}-{number}")
        self.mix = {op: w for op, w in OPTIONS.get("mix", {"read_posts": 1}).items() if w > 0}
        self.post_ids: list[str] = []
        self.user_ids: list[str] = []

    @task
    def one_operation(self) -> None:
        op = self.rng.choices(list(self.mix), weights=list(self.mix.values()))[0]
        needs_ids = op in ("read_post", "create_post", "update_post", "add_comment")
        if needs_ids and not (self.post_ids and self.user_ids):
            op = "read_posts"  # learn ids first; also what a fresh client would do
        getattr(self, f"_{op}")()

    # --- operations -------------------------------------------------------------------

    def _read_posts(self) -> None:
        self._send("read_posts", ops.READ_POSTS, {}, token=self._draw_token())

    def _read_post(self) -> None:
        self._send("read_post", ops.READ_POST, {"id": self.rng.choice(self.post_ids)}, token=self._draw_token())

    def _read_connection(self) -> None:
        self._send("read_connection", ops.READ_CONNECTION, {}, token=self._draw_token())

    def _me(self) -> None:
        self._send("me", ops.ME, {}, token=self.rng.choice(TOKENS) if TOKENS else None)

    def _create_post(self) -> None:
        key = str(uuid.uuid4())  # fresh per write, never derived from the seed: runs must not collide
        self._write("create_post", key, *ops.create_post_request(key, self.rng.choice(self.user_ids)))

    def _update_post(self) -> None:
        key = str(uuid.uuid4())
        self._write("update_post", key, *ops.update_post_request(key, self.rng.choice(self.post_ids)))

    def _add_comment(self) -> None:
        key = str(uuid.uuid4())
        self._write("add_comment", key, *ops.add_comment_request(
            key, self.rng.choice(self.post_ids), self.rng.choice(self.user_ids)))

    # --- sending and logging ----------------------------------------------------------

    def _draw_token(self) -> str | None:
        """A bearer token for ``authenticated_share`` of the requests, else None (anonymous)."""
        if TOKENS and self.rng.random() < float(OPTIONS.get("authenticated_share", 0)):
            return self.rng.choice(TOKENS)
        return None

    def _write(self, op: str, key: str, document: str, variables: dict[str, Any]) -> None:
        """Send a write; retry with the same key while its outcome is unknown, sometimes.

        Every attempt carries the same identity: the server scopes an idempotency key to
        its caller, so a retry sent as someone else is a new write, not a retry.
        """
        token = self._draw_token()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            status, outcome = self._send(op, document, variables, key=key, attempt=attempt, token=token)
            unknown = outcome.ack_id is None and not outcome.rejected
            if not unknown or self.rng.random() >= float(OPTIONS.get("retry_share", 0.5)):
                return

    def _send(self, op: str, document: str, variables: dict[str, Any], *, token: str | None,
              key: str | None = None, attempt: int = 1) -> tuple[int | None, ops.Outcome]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        started, clock = time.time(), time.perf_counter()
        response = self.client.post("/graphql", json={"query": document, "variables": variables},
                                    headers=headers, name=op, timeout=float(OPTIONS.get("timeout_s", 10)))
        latency_ms = (time.perf_counter() - clock) * 1000
        # locust answers status 0 when no HTTP response came back (refused, reset, timeout).
        status = response.status_code or None
        try:
            body = response.json() if status is not None else None
        except ValueError:
            body = None
        outcome = ops.read_outcome(op, status, body, variables)
        if status is None:
            outcome = ops.Outcome(error=f"no response: {type(response.error).__name__}: {response.error}"[:300])
        self._learn(outcome)
        if _log is not None:
            _log.write({"t": started, "op": op, "latency_ms": round(latency_ms, 3), "status": status,
                        "codes": outcome.codes, "error": outcome.error, "idempotency_key": key,
                        "ack_id": outcome.ack_id, "write": op in ops.WRITES, "attempt": attempt})
        return status, outcome

    def _learn(self, outcome: ops.Outcome) -> None:
        # Keep the id lists small: recent posts (including our own writes) are what a user touches.
        self.post_ids = (self.post_ids + outcome.post_ids)[-50:]
        self.user_ids = list(dict.fromkeys(self.user_ids + outcome.user_ids))[-50:]
