"""When a failed mutation attempt may run again, and how long to wait first.

A transaction PostgreSQL aborted (serialization failure 40001, deadlock 40P01) wrote
nothing, so it is always retried. A lost connection is retried when nothing can have
committed: either the failure came before COMMIT was sent, or an idempotency key makes
a second attempt return the first one's stored result. A connection lost during COMMIT
without a key leaves the outcome unknown, and that is what the caller is told.

Example::

    backoff = Backoff(base_s=0.02, cap_s=1.0)
    delay_s = backoff.delay_s(attempt=2)   # uniform in [0, 0.08]
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, field

import psycopg_pool

from fraiseql.db.errors import is_connection_lost
from fraiseql.errors import DatabaseUnavailable, TransientDatabaseError


class Verdict(enum.Enum):
    RETRY = "retry"
    OUTCOME_UNKNOWN = "outcome_unknown"  # connection lost during COMMIT, no key
    RAISE = "raise"


def judge(exc: BaseException, *, committing: bool, has_key: bool) -> Verdict:
    """What to do after an attempt failed with ``exc``.

    ``committing`` is true when the function had returned and only COMMIT was left.
    """
    if isinstance(exc, TransientDatabaseError):
        return Verdict.RETRY
    if isinstance(exc.__cause__, (psycopg_pool.PoolTimeout, psycopg_pool.PoolClosed)):
        # The pool already waited its timeout; waiting again only deepens an overload.
        return Verdict.RAISE
    if isinstance(exc, DatabaseUnavailable) and is_connection_lost(exc):
        if committing and not has_key:
            return Verdict.OUTCOME_UNKNOWN
        return Verdict.RETRY
    return Verdict.RAISE


@dataclass
class Backoff:
    """Exponential backoff with full jitter: attempt n waits uniform(0, base * 2**n)."""

    base_s: float = 0.02
    cap_s: float = 1.0
    rng: random.Random = field(default_factory=random.Random)

    def delay_s(self, attempt: int) -> float:
        return self.rng.uniform(0.0, min(self.cap_s, self.base_s * 2**attempt))
