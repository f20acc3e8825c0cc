"""Unsure is not silent: messages the classifier only just did not take for a problem go on a
待确认 list (Q1, Q2, …) for the grid's worker, in #清单 and the daily digest. `#确认 Q3` opens
the ticket as if the bot had seen the problem; `#忽略 Q3` drops it. Both teach the classifier.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.domain import learning, texts
from bot.domain.org import OrgDirectory, Room
from bot.domain.permissions import DECIDERS
from bot.domain.tickets import Actor, Report, TicketService, next_number
from bot.errors import UserError
from bot.storage.models import Node, Ticket, UnsureMessage
from bot.transport import Address

# Listed for this long; older ones drop off the lists (still in the database).
LISTED_FOR = timedelta(days=3)
MAX_LISTED = 10


class UnsureService:
    def __init__(self, session: Session, clock: Clock, org: OrgDirectory, tickets: TicketService) -> None:
        self.s = session
        self.clock = clock
        self.org = org
        self.tickets = tickets

    def add(self, text: str, where: Address, sender: Actor, node: Node) -> UnsureMessage:
        row = UnsureMessage(no=f"Q{next_number(self.s, 'Q')}", node_id=node.id, sender_id=sender.contact_id,
                            sender_name=sender.name, text=text.strip(), source_room_id=where.room_id,
                            source_room_topic=where.room_topic, created_at=self.clock.now())
        self.s.add(row)
        return row

    def confirm(self, no: str, actor: Actor, classifier) -> tuple[UnsureMessage, Ticket]:
        """Open the ticket the message should have opened: its sender is the reporter, and the
        acknowledgement goes to the room it was said in."""
        row = self._decidable(no, actor)
        found = classifier.classify(row.text)
        department = found.department or classifier.route(row.text)
        node = self.org.node(row.node_id)
        ticket = self.tickets.open(
            Report(text=row.text, department=department, urgency=found.urgency, keywords=found.keywords,
                   location=found.location),
            Actor(row.sender_id, row.sender_name), Room(node=node),
            Address.room(row.source_room_id, row.source_room_topic) or Address.of_person(row.sender_id), teaches=learning.CONFIRMED)
        self._decide(row, "opened", actor, ticket)
        return row, ticket

    def dismiss(self, no: str, actor: Actor) -> UnsureMessage:
        row = self._decidable(no, actor)
        learning.record(self.s, self.clock, learning.DISMISSED, row.text, actor.contact_id)
        self._decide(row, "dismissed", actor)
        return row

    def get(self, no: str, *, lock: bool = False) -> UnsureMessage:
        query = select(UnsureMessage).where(UnsureMessage.no == no)
        row = self.s.exec(query.with_for_update() if lock else query).first()
        if row is None:
            raise UserError(texts.UNSURE_NOT_FOUND.format(no=no))
        return row

    def pending_in_subtree(self, node: Node) -> list[UnsureMessage]:
        since = self.clock.now() - LISTED_FOR
        return list(self.s.exec(
            select(UnsureMessage).join(Node, Node.id == UnsureMessage.node_id)
            .where(OrgDirectory.in_subtree(node), UnsureMessage.status == "pending",
                   col(UnsureMessage.created_at) >= since)
            .order_by(col(UnsureMessage.id).desc()).limit(MAX_LISTED)).all())[::-1]

    def _decidable(self, no: str, actor: Actor) -> UnsureMessage:
        row = self.get(no, lock=True)
        if not self.org.holds_role(actor.contact_id, DECIDERS, self.org.node(row.node_id)):
            raise UserError(texts.UNSURE_NOT_ALLOWED.format(no=no))
        if row.status != "pending":
            raise UserError(texts.unsure_decided(row))
        return row

    def _decide(self, row: UnsureMessage, status: str, actor: Actor, ticket: Ticket | None = None) -> None:
        row.status, row.decided_by, row.decided_at = status, actor.contact_id, self.clock.now()
        row.ticket_id = ticket.id if ticket is not None else None
        self.s.add(row)


def pending_by_grid(s: Session, org: OrgDirectory, now: datetime) -> dict[int, list[UnsureMessage]]:
    """The daily digest's view: pending messages of the last LISTED_FOR, by the grid they belong to."""
    out: dict[int, list[UnsureMessage]] = {}
    rows = s.exec(select(UnsureMessage).where(UnsureMessage.status == "pending",
                                              col(UnsureMessage.created_at) >= now - LISTED_FOR)
                  .order_by(UnsureMessage.id)).all()
    for row in rows:
        grid = org.grid_of(org.node(row.node_id))
        if grid is not None:
            out.setdefault(grid.id, []).append(row)
    return out
