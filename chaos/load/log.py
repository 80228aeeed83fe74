"""The request log: one JSON object per line, appended by the load, tailed by the runner.

Each line: ``{"t", "op", "latency_ms", "status", "codes", "error", "idempotency_key",
"ack_id", "write", "attempt"}``; ``status`` is null when no HTTP response came back.

Example::

    records, offset = read_log("run/requests.jsonl", 0)
    more, offset = read_log("run/requests.jsonl", offset)   # only the lines written since
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any

FIELDS = ("t", "op", "latency_ms", "status", "codes", "error", "idempotency_key", "ack_id", "write",
          "attempt")


def read_log(path: str | os.PathLike[str], since_offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Records of the complete lines after byte ``since_offset``, and the offset to resume from.

    A line still being written (no newline yet) is left for the next call; a missing file
    reads as empty.
    """
    try:
        with open(path, "rb") as log:
            log.seek(since_offset)
            chunk = log.read()
    except FileNotFoundError:
        return [], since_offset
    end = chunk.rfind(b"\n") + 1
    records = [json.loads(line) for line in chunk[:end].splitlines() if line.strip()]
    return records, since_offset + end


class LogWriter:
    """Appends records as JSON lines, flushing every ``flush_every`` records (and on close)."""

    def __init__(self, path: str | os.PathLike[str], flush_every: int = 1) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())
        self._flush_every, self._pending = flush_every, 0

    def write(self, record: dict[str, Any]) -> None:
        # One write call per line, so a concurrent reader never sees half of two records.
        self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._pending += 1
        if self._pending >= self._flush_every:
            self._file.flush()
            self._pending = 0

    def close(self) -> None:
        self._file.close()
