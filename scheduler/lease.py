"""Leadership among bot processes on one database: only the holder of the "sweep" lease runs the
due-work sweep and the digests. The lease is a row with an expiry, taken with one conditional
UPDATE (portable: SQLite and PostgreSQL alike), renewed at every sweep; a holder that dies stops
renewing and another process takes over once it expires."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.storage.db import session
from bot.storage.models import Lease

# Renewed at the first sweep after half of it has run (sweeps run every 15 s), so a dead leader's
# lease runs out at most 40 s after its last renewal and another process takes over within a minute.
DEFAULT_TTL = timedelta(seconds=40)
RELEASED = datetime(1900, 1, 1, tzinfo=UTC)     # earlier than any clock, virtual or real, will read


def expires_at(engine: Engine, name: str) -> datetime | None:
    with session(engine) as s:
        row = s.get(Lease, name)
        return row.expires_at if row else None


def hold(engine: Engine, name: str, holder: str, now: datetime, ttl: timedelta = DEFAULT_TTL) -> bool:
    """Take or renew the lease; True when `holder` holds it until now + ttl."""
    with session(engine) as s:
        taken = s.execute(update(Lease).where(
            col(Lease.name) == name, or_(col(Lease.holder) == holder, col(Lease.expires_at) < now),
        ).values(holder=holder, expires_at=now + ttl)).rowcount
        if taken:
            s.commit()
            return True
        if s.get(Lease, name) is not None:
            return False
        s.add(Lease(name=name, holder=holder, expires_at=now + ttl))
        try:
            s.commit()
        except IntegrityError:          # another process created it first
            return False
        return True


def release(engine: Engine, name: str, holder: str) -> None:
    with session(engine) as s:
        s.execute(update(Lease).where(col(Lease.name) == name, col(Lease.holder) == holder)
                  .values(expires_at=RELEASED))
        s.commit()
