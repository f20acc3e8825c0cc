"""Digests (SPEC/issue: 08:30 daily per grid room, Mondays 09:00 per community/town/county room):
the open tickets of a grid, and a subtree's 问题清单 (open) and 解决清单 (resolved this week).
Each line says what, where, who, how urgent and how overdue; a room where nothing happened hears
nothing; a ticket row that cannot be shown is left out and logged, never the whole digest."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.domain import texts
from bot.domain.deadlines import overdue_kinds
from bot.domain.org import OrgDirectory
from bot.domain.unsure import pending_by_grid
from bot.errors import report_crash
from bot.outbox import NORMAL, Outbox, quiet_until
from bot.storage.models import Membership, Node, Ticket

log = logging.getLogger("gridbot.digests")

MAX_LINES = 30
OPEN = ("open", "accepted")
DONE = ("resolved", "closed")


class LineContext:
    """The names a list's lines show (places, assignees), looked up once per list."""

    def __init__(self, s: Session, tickets: list[Ticket], now: datetime, tz) -> None:
        self.now = now
        self.tz = tz
        node_ids = {t.node_id for t in tickets}
        people = {c for t in tickets for c in (t.assignee_id, t.resolved_by_id) if c}
        self.places = dict(s.exec(select(Node.id, Node.name).where(col(Node.id).in_(node_ids))).all()) \
            if node_ids else {}
        self.names = dict(s.exec(select(Membership.contact_id, Membership.name)
                                 .where(col(Membership.contact_id).in_(people))).all()) if people else {}

    def place(self, t: Ticket) -> str:
        # A ticket whose node is gone is still listed: it is stuck, and someone must see it.
        name = self.places.get(t.node_id, texts.UNKNOWN_PLACE)
        return f"{name}（{t.location}）" if t.location else name

    def person(self, contact_id: str | None) -> str:
        return self.names.get(contact_id, contact_id) if contact_id else "待指派"


def open_line(t: Ticket, c: LineContext) -> str:
    """问题清单: number, urgency (and 督办), department, state, place, what, who, deadline, overdue kind(s)."""
    overdue = texts.overdue(overdue_kinds(t, c.now))
    supervised = "｜督办" if t.supervised_at else ""
    return (f"· {t.no}｜{texts.URGENCY_NAMES[t.urgency]}{supervised}｜{texts.dept(t.department)}｜{texts.STATUS_NAMES[t.status]}｜"
            f"{c.place(t)}｜{texts.summary(t.text)}｜{c.person(t.assignee_id)}｜"
            f"{texts.when(t.resolve_by, c.tz)}前办结" + (f"｜⚠{overdue}" if overdue else ""))


def done_line(t: Ticket, c: LineContext) -> str:
    """解决清单: number, department, place, what, who resolved it, when, the rating (or 未评价)."""
    rating = t.rating or (texts.UNRATED if t.status == "closed" else "待评价")
    return (f"· {t.no}｜{texts.dept(t.department)}｜{c.place(t)}｜{texts.summary(t.text)}｜"
            f"{c.person(t.resolved_by_id or t.assignee_id)}｜{texts.when(t.resolved_at, c.tz)}办结｜评价：{rating}")


def lines_of(tickets: list[Ticket], line: Callable[[Ticket, LineContext], str], c: LineContext) -> list[str]:
    """One line a ticket, capped; a row that fails to format is left out and logged (no text)."""
    lines = []
    for t in tickets:
        try:
            lines.append(line(t, c))
        except Exception as exc:
            report_crash(log, "digest line (ticket left out of the list)", exc, ticket=t.no)
    if len(lines) <= MAX_LINES:
        return lines
    return lines[:MAX_LINES] + [f"……另有 {len(lines) - MAX_LINES} 件，发 #查询 工单号 查看"]


def open_in_subtree(s: Session, node: Node) -> list[Ticket]:
    return list(s.exec(select(Ticket).join(Node, Node.id == Ticket.node_id)
                       .where(OrgDirectory.in_subtree(node), col(Ticket.status).in_(OPEN)).order_by(Ticket.id)).all())


def resolved_in_subtree(s: Session, node: Node, since: datetime) -> list[Ticket]:
    return list(s.exec(select(Ticket).join(Node, Node.id == Ticket.node_id)
                       .where(OrgDirectory.in_subtree(node), col(Ticket.status).in_(DONE), col(Ticket.resolved_at) >= since)
                       .order_by(Ticket.id)).all())


def subtree_lists(s: Session, node: Node, now: datetime, since: datetime, tz, *,
                  skip_if_empty: bool = False) -> str | None:
    """问题清单 and 解决清单; None when `skip_if_empty` and the subtree has neither."""
    open_tickets = open_in_subtree(s, node)
    done = resolved_in_subtree(s, node, since)
    if skip_if_empty and not open_tickets and not done:
        return None
    c = LineContext(s, open_tickets + done, now, tz)
    lines = [f"【问题清单】{node.name} 未办结 {len(open_tickets)} 件"]
    lines += lines_of(open_tickets, open_line, c) or ["· 无"]
    lines.append(f"【解决清单】{texts.when(since, tz)}以来办结 {len(done)} 件")
    lines += lines_of(done, done_line, c) or ["· 无"]
    return "\n".join(lines)


class Digests:
    def __init__(self, session: Session, org: OrgDirectory, outbox: Outbox) -> None:
        self.s = session
        self.org = org
        self.outbox = outbox

    def _timing(self, fired: datetime, now: datetime) -> dict:
        held = quiet_until(max(fired, now), self.org.settings.tz)
        return {"not_before": held or fired, "late_after": fired, "priority": NORMAL, "kind": "digest"}

    def daily(self, fired: datetime, now: datetime) -> int:
        """Each grid room with open tickets or messages waiting on its 待确认 list gets its list."""
        tz = self.org.settings.tz
        by_grid: dict[int, list[Ticket]] = {}
        for t in self.s.exec(select(Ticket).where(col(Ticket.status).in_(OPEN)).order_by(Ticket.id)).all():
            # A ticket no grid holds (1:1 from someone not in the org, a town room's) is on the list of
            # the nearest room above its node, the county's at the top, until someone assigns it.
            home = t.grid_id if t.grid_id is not None else self._room_of(t.node_id)
            if home is not None:
                by_grid.setdefault(home, []).append(t)
        unsure = pending_by_grid(self.s, self.org, now)
        posted = 0
        for grid_id in sorted(by_grid.keys() | unsure.keys()):
            tickets = by_grid.get(grid_id, [])
            try:
                grid = self.org.node(grid_id)
            except LookupError as exc:
                # Tickets pointing at a grid that is gone: the other grids still get theirs.
                report_crash(log, "daily digest (grid left out)", exc, tickets=",".join(t.no for t in tickets))
                continue
            local = fired.astimezone(tz)
            text = "\n".join([f"【每日工单提醒 {local.month}月{local.day}日】{grid.name} 未办结 {len(tickets)} 件"
                              + ("：" if tickets else "。")]
                             + lines_of(tickets, open_line, LineContext(self.s, tickets, now, tz))
                             + texts.unsure_lines(unsure.get(grid_id, []), tz))
            if grid.active and self.outbox.to_room(grid, text, **self._timing(fired, now)):
                posted += 1
        return posted

    def _room_of(self, node_id: int) -> int | None:
        room = self.org.nearest_room(self.org.node(node_id))
        return room.id if room is not None else None

    def weekly(self, fired: datetime, now: datetime) -> int:
        """Each community, town and county room whose subtree has open tickets or tickets resolved this
        week gets its 问题清单 and 解决清单; the others hear nothing."""
        tz = self.org.settings.tz
        since = fired - timedelta(days=7)
        posted = 0
        for node in self.org.nodes():
            if node.level not in ("county", "town", "community") or not node.room_topic:
                continue
            lists = subtree_lists(self.s, node, now, since, tz, skip_if_empty=True)
            if lists is not None and self.outbox.to_room(node, "【每周清单】\n" + lists, **self._timing(fired, now)):
                posted += 1
        return posted
