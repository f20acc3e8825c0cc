"""Images and files sent by a reporter soon after a report become that ticket's evidence."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.storage.models import Evidence, Ticket

EVIDENCE_WINDOW = timedelta(minutes=10)


def attach_recent(s: Session, clock: Clock, contact_id: str, kind: str, path: str) -> Ticket | None:
    """Attach to the sender's ticket opened within the last 10 minutes; None when there is none."""
    now = clock.now()
    ticket = s.exec(select(Ticket).where(Ticket.reporter_id == contact_id,
                                         col(Ticket.created_at) >= now - EVIDENCE_WINDOW)
                    .order_by(col(Ticket.id).desc()).limit(1)).first()
    if ticket is None:
        return None
    s.add(Evidence(ticket_id=ticket.id, at=now, contact_id=contact_id, kind=kind, path=path))
    s.flush()
    return ticket


def evidence_of(s: Session, ticket: Ticket) -> list[Evidence]:
    return list(s.exec(select(Evidence).where(Evidence.ticket_id == ticket.id).order_by(Evidence.id)).all())
