"""走访 logs (SPEC §5.2, 上门): a home visit recorded at the visitor's node; when its notes report a
problem a ticket is opened from them (the visitor its reporter) and linked to the visit; #走访台账
lists a subtree's visits."""
from __future__ import annotations

from sqlmodel import Session, col, func, select

from bot.clock import Clock
from bot.domain.org import OrgDirectory, Room
from bot.domain.permissions import VISITORS
from bot.domain.stats import period_start
from bot.domain.tickets import Actor, Report, TicketService
from bot.errors import UserError
from bot.domain import sanshi_texts as texts
from bot.storage.models import Node, Ticket, Visit
from bot.transport import Address

LEDGER_PERIODS = ("本周", "本月")      # the first is the default
MAX_SUBJECT = 50
MAX_NOTES = 1000


def visit_ticket_text(subject: str, notes: str) -> str:
    """A ticket opened from a visit says whom the visit was to."""
    return f"走访{subject}：{notes}"


class VisitService:
    def __init__(self, session: Session, clock: Clock, org: OrgDirectory, tickets: TicketService) -> None:
        self.s = session
        self.clock = clock
        self.org = org
        self.tickets = tickets

    def visitor_node(self, contact_id: str) -> Node:
        """Where the visitor's visits are recorded: the deepest node where they hold a visiting role."""
        nodes = [self.s.get(Node, m.node_id) for m in self.org.memberships(contact_id)
                 if m.role in VISITORS and m.node_id is not None]
        nodes = [n for n in nodes if n is not None and n.active]
        if not nodes:
            raise UserError(texts.VISIT_NO_NODE)
        return max(nodes, key=lambda n: n.depth)

    def record(self, subject: str, notes: str, visitor: Actor, problem: Report | None,
               source: Address) -> tuple[Visit, Node, Ticket | None, bool]:
        """Log the visit; with a problem, open (or join) its ticket. Returns the visit, its node, the
        ticket and whether the ticket was one already open for the same problem."""
        if len(subject) > MAX_SUBJECT:
            raise UserError(f"走访对象太长（超过{MAX_SUBJECT}字），请精简。用法：{texts.USAGE_VISIT}")
        if len(notes) > MAX_NOTES:
            raise UserError(f"走访情况太长（超过{MAX_NOTES}字），请精简。")
        node = self.visitor_node(visitor.contact_id)
        visit = Visit(node_id=node.id, visitor_id=visitor.contact_id, visitor_name=visitor.name, subject=subject,
                      notes=notes, at=self.clock.now())
        ticket, joined = None, False
        if problem is not None:
            newest = self.s.exec(select(func.max(Ticket.id))).one()
            ticket = self.tickets.open(problem, visitor, Room(node=node), source)
            joined = newest is not None and ticket.id <= newest
            visit.ticket_id = ticket.id
        self.s.add(visit)
        self.s.flush()
        return visit, node, ticket, joined

    def ledger(self, node: Node, period: str,
               limit: int = texts.MAX_LEDGER_LINES) -> tuple[list[tuple[Visit, str, str | None]], int, int]:
        """The subtree's visits in the period (本周, 本月), newest first: (rows, how many in all, how many
        opened a ticket). Each row: the visit, its node's name, its ticket's number."""
        since = period_start(period, self.clock.now(), self.org.settings.tz)
        total, with_ticket = self.s.exec(
            select(func.count(Visit.id), func.count(Visit.ticket_id)).join(Node, Node.id == Visit.node_id)
            .where(OrgDirectory.in_subtree(node), col(Visit.at) >= since)).one()
        rows = self.s.exec(select(Visit, Node.name, Ticket.no).join(Node, Node.id == Visit.node_id)
                           .outerjoin(Ticket, Ticket.id == Visit.ticket_id)
                           .where(OrgDirectory.in_subtree(node), col(Visit.at) >= since)
                           .order_by(col(Visit.at).desc(), col(Visit.id).desc()).limit(limit)).all()
        return [(v, name, no) for v, name, no in rows], int(total), int(with_ticket)
