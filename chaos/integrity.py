"""The ledger of writes the load made, checked against the database after recovery.

Every create_post carries a fresh idempotency key, also written into the post's title
(``"chaos <key>"``), so each write can be found in ``tb_post`` whatever the client heard:

- acknowledged: some attempt got the new post's id back (``ack_id``);
- lost: acknowledged, but that id is not in the table;
- duplicated: more than one row for one key (a retry that wrote twice);
- unknown outcome: no attempt was acknowledged (no response, 5xx, timeout, an error
  answer): counted separately as landed (a row exists) or not landed.

The check reads the database directly (the admin URL, not through any proxy).

Example::

    records, _ = read_log(report_dir / "requests.jsonl", 0)
    result = check_integrity(records, stack.admin_db_url)
    result.summary()   # "120 acknowledged writes: 0 lost, 0 duplicated; 3 of unknown outcome (2 landed, 1 not)"
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg

from chaos.load.operations import title_for

APPLICATION_NAME = "chaos-integrity-check"  # not "fraiseql-chaos...": leftover cleaners end those


@dataclass
class LedgerEntry:
    """Everything the client heard about the write with one idempotency key."""

    key: str
    attempts: int = 0
    ack_ids: set[str] = field(default_factory=set)

    @property
    def acknowledged(self) -> bool:
        return bool(self.ack_ids)


def build_ledger(records: Iterable[Mapping[str, Any]]) -> dict[str, LedgerEntry]:
    """Idempotency key -> ledger entry, over the create_post records of a request log."""
    ledger: dict[str, LedgerEntry] = {}
    for record in records:
        key = record.get("idempotency_key")
        if record.get("op") != "create_post" or not key:
            continue
        entry = ledger.setdefault(key, LedgerEntry(key))
        entry.attempts += 1
        if record.get("ack_id"):
            entry.ack_ids.add(str(record["ack_id"]))
    return ledger


@dataclass(frozen=True)
class IntegrityResult:
    """Counts per outcome, with the keys behind the bad ones as evidence."""

    acknowledged: int
    lost: int
    duplicated: int
    unknown_landed: int
    unknown_not_landed: int
    lost_keys: tuple[str, ...] = ()
    duplicated_keys: tuple[str, ...] = ()

    def holds(self, max_lost: int = 0, max_duplicated: int = 0) -> bool:
        """Whether the counts stay within the scenario's integrity limits."""
        return self.lost <= max_lost and self.duplicated <= max_duplicated

    def summary(self) -> str:
        unknown = self.unknown_landed + self.unknown_not_landed
        text = (f"{self.acknowledged} acknowledged writes: {self.lost} lost, {self.duplicated} duplicated; "
                f"{unknown} of unknown outcome ({self.unknown_landed} landed, {self.unknown_not_landed} not)")
        if self.lost_keys:
            text += f"; lost keys: {', '.join(self.lost_keys[:5])}"
        if self.duplicated_keys:
            text += f"; duplicated keys: {', '.join(self.duplicated_keys[:5])}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {"acknowledged": self.acknowledged, "lost": self.lost, "duplicated": self.duplicated,
                "unknown_landed": self.unknown_landed, "unknown_not_landed": self.unknown_not_landed,
                "lost_keys": list(self.lost_keys), "duplicated_keys": list(self.duplicated_keys)}


def check_integrity(records: Iterable[Mapping[str, Any]], admin_db_url: str) -> IntegrityResult:
    """Compare the ledger of ``records`` with ``tb_post`` in the database at ``admin_db_url``."""
    ledger = build_ledger(records)
    rows_by_key, present_ids = _rows(ledger, admin_db_url)
    lost = sorted(e.key for e in ledger.values() if e.acknowledged and not e.ack_ids <= present_ids)
    duplicated = sorted(key for key, ids in rows_by_key.items() if len(ids) > 1)
    unknown = [e for e in ledger.values() if not e.acknowledged]
    landed = sum(1 for e in unknown if rows_by_key.get(e.key))
    return IntegrityResult(
        acknowledged=sum(1 for e in ledger.values() if e.acknowledged),
        lost=len(lost), duplicated=len(duplicated),
        unknown_landed=landed, unknown_not_landed=len(unknown) - landed,
        lost_keys=tuple(lost), duplicated_keys=tuple(duplicated))


def _rows(ledger: Mapping[str, LedgerEntry], url: str) -> tuple[dict[str, list[str]], set[str]]:
    """(key -> ids of the rows titled for it, the acknowledged ids that exist)."""
    if not ledger:
        return {}, set()
    key_by_title = {title_for(key): key for key in ledger}
    ack_ids = sorted({ack for entry in ledger.values() for ack in entry.ack_ids})
    with psycopg.connect(url, application_name=APPLICATION_NAME, connect_timeout=10) as conn:
        titled = conn.execute(
            "SELECT title, array_agg(id::text ORDER BY id) FROM tb_post WHERE title = ANY(%s) GROUP BY title",
            [list(key_by_title)]).fetchall()
        present = conn.execute("SELECT id::text FROM tb_post WHERE id = ANY(%s::uuid[])", [ack_ids]).fetchall()
    return {key_by_title[title]: ids for title, ids in titled}, {row[0] for row in present}
