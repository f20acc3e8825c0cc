"""Digests (SPEC/issue: 08:30 daily per grid room, Mondays 09:00 per community/town/county room):
the open tickets of a grid, and a subtree's 问题清单 (open) and 解决清单 (resolved this week)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.domain import texts
from bot.domain.org import OrgDirectory
from bot.domain.unsure import pending_by_grid
from bot.outbox import NORMAL, Outbox, quiet_until
from bot.storage.models import Node, Ticket

MAX_LINES = 30
OPEN = ("open", "accepted")
DONE = ("resolved", "closed")


def _line(t: Ticket, now: datetime, tz) -> str:
    overdue = "｜⚠已超期" if t.resolve_by < now or (t.status == "open" and t.accept_by < now) else ""
    return (f"· {t.no}｜{texts.dept(t.department)}｜{texts.STATUS_NAMES[t.status]}｜"
            f"{texts.when(t.resolve_by, tz)}前办结{overdue}")


def _capped(lines: list[str]) -> list[str]:
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


def subtree_lists(s: Session, node: Node, now: datetime, since: datetime, tz) -> str:
    open_tickets = open_in_subtree(s, node)
    done = resolved_in_subtree(s, node, since)
    lines = [f"【问题清单】{node.name} 未办结 {len(open_tickets)} 件"]
    lines += _capped([_line(t, now, tz) for t in open_tickets]) or ["· 无"]
    lines.append(f"【解决清单】{texts.when(since, tz)}以来办结 {len(done)} 件")
    lines += _capped([f"· {t.no}｜{texts.dept(t.department)}｜{texts.when(t.resolved_at, tz)}办结"
                      + (f"｜评价：{t.rating}" if t.rating else "") for t in done]) or ["· 无"]
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
            grid = self.org.node(grid_id)
            local = fired.astimezone(tz)
            text = "\n".join([f"【每日工单提醒 {local.month}月{local.day}日】{grid.name} 未办结 {len(tickets)} 件"
                              + ("：" if tickets else "。")]
                             + _capped([_line(t, now, tz) for t in tickets])
                             + texts.unsure_lines(unsure.get(grid_id, []), tz))
            if grid.active and self.outbox.to_room(grid, text, **self._timing(fired, now)):
                posted += 1
        return posted

    def _room_of(self, node_id: int) -> int | None:
        room = self.org.nearest_room(self.org.node(node_id))
        return room.id if room is not None else None

    def weekly(self, fired: datetime, now: datetime) -> int:
        """Each community, town and county room gets its subtree's 问题清单 and 解决清单."""
        tz = self.org.settings.tz
        since = fired - timedelta(days=7)
        posted = 0
        for node in self.org.nodes():
            if node.level not in ("county", "town", "community") or not node.room_topic:
                continue
            if self.outbox.to_room(node, "【每周清单】\n" + subtree_lists(self.s, node, now, since, tz),
                                   **self._timing(fired, now)):
                posted += 1
        return posted
