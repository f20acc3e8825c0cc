"""Nodes gone from the org file (a re-import deactivates them): their open tickets move up to the
nearest node still in the tree, and that node's admins are told once in its room who has them now."""
from __future__ import annotations

from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.domain import texts
from bot.domain.org import OrgDirectory
from bot.outbox import Outbox
from bot.storage.models import Node, Ticket, TicketEvent

OPEN = ("open", "accepted")


def move_up_orphaned_tickets(session: Session, clock: Clock) -> list[str]:
    """After an import: every open ticket whose node or grid is no longer active goes to the nearest
    active ancestor. A removed grid's worker is no longer its assignee (nor may handle it); the ticket
    is the parent's to assign. Returns the ticket numbers moved."""
    org = OrgDirectory(session)
    outbox = Outbox(session, clock)
    inactive = set(session.exec(select(Node.id).where(Node.active == False)).all())  # noqa: E712
    if not inactive:
        return []
    tickets = session.exec(select(Ticket).where(col(Ticket.status).in_(OPEN))
                           .where(col(Ticket.node_id).in_(inactive) | col(Ticket.grid_id).in_(inactive))
                           .order_by(Ticket.id)).all()
    told: dict[tuple[int, int], tuple[Node, Node, list[Ticket]]] = {}   # (removed node, new node) → tickets
    for t in tickets:
        old = org.node(t.node_id)
        removed = org.node(t.grid_id) if t.grid_id in inactive else _topmost_removed(org, old)
        node = next(n for n in org.ancestors(removed) if n.active)
        if org.contains(node, old) and old.active:
            node = old                                   # its grid went, its own node stays
        grid = org.grid_of(node)
        t.node_id = node.id
        if t.grid_id is not None and (grid is None or grid.id != t.grid_id):
            t.assignee_id = None                         # the removed grid's worker no longer has it
        t.grid_id = grid.id if grid else None
        session.add(t)
        session.add(TicketEvent(ticket_id=t.id, at=clock.now(), kind="moved", detail=node.path))
        told.setdefault((removed.id, node.id), (removed, node, []))[2].append(t)
    for removed, node, moved in told.values():
        room = org.nearest_room(node)
        if room is None:
            continue
        admins = org.members_at(room, "admin")
        outbox.to_room(room, texts.grid_removed(removed.name, [t.no for t in moved], node.name,
                                                [m.name for m in admins],
                                                unassigned=any(t.assignee_id is None for t in moved)),
                       tuple(m.contact_id for m in admins))
    return [t.no for t in tickets]


def _topmost_removed(org: OrgDirectory, node: Node) -> Node:
    """The highest inactive node on the way up (the grid or group that was cut off)."""
    top = node
    for ancestor in org.ancestors(node):
        if ancestor.active:
            break
        top = ancestor
    return top
