"""Admins' numbers (SPEC §5): #统计, #排行, #清单 for a room's subtree. Every figure is one SQL
aggregate over the tickets joined to their node's path, so 100,000 tickets never load into Python."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case
from sqlmodel import Session, col, func, select

from bot.domain.deadlines import overdue_accept, overdue_resolve
from bot.domain.digests import subtree_lists
from bot.domain.org import OrgDirectory
from bot.domain.texts import unsure_lines
from bot.errors import UserError
from bot.domain.export import export_tickets
from bot.storage.models import Membership, Node, Ticket, TicketEvent

OPEN = ("open", "accepted")
DONE = ("resolved", "closed")
PERIODS = ("今天", "本周", "本月")
RATING_SCORE = {"满意": 100, "基本满意": 80, "不满意": 0}


def scope(node: Node | None, what: str) -> Node:
    """The subtree an admin's view covers: the room's node (who may see it: bot/domain/permissions.py)."""
    if node is None:
        raise UserError(f"请在本级工作群里{what}，统计范围就是这个群所在的层级及以下。")
    return node


def period_start(period: str, now: datetime, tz: ZoneInfo) -> datetime:
    today = now.astimezone(tz).date()
    if period == "今天":
        day = today
    elif period == "本周":
        day = today - timedelta(days=today.weekday())
    elif period == "本月":
        day = today.replace(day=1)
    else:
        raise ValueError(period)
    return datetime.combine(day, time(0), tz)


@dataclass(frozen=True)
class Summary:
    new: int
    open: int
    resolved: int
    overdue_accept: int        # 超期未受理 now (bot/domain/deadlines.py, as #清单 and the export say)
    overdue_resolve: int       # 超期未办结 now
    on_time: int
    closed_unrated: int        # closed by 回访 without a rating (未评价), apart from the ratings
    supervised: int            # unfinished tickets under 督办 now
    by_department: list[tuple[str | None, int]]
    rated: int = 0             # ratings given in the period (a 不满意 that reopened a ticket counts)
    satisfied: int = 0         # of which 满意 or 基本满意

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.resolved if self.resolved else None

    @property
    def satisfaction(self) -> float | None:
        """Over the ratings given only: 未评价 is no rating, not a bad one."""
        return self.satisfied / self.rated if self.rated else None


@dataclass(frozen=True)
class WorkerRank:
    contact_id: str
    name: str
    resolved: int
    on_time: int
    rated: int
    score: float | None


def _one(flag) -> object:
    return func.coalesce(func.sum(case((flag, 1), else_=0)), 0)


def _scoped(node: Node):
    # The subtree's node ids as a subquery: the database matches paths once per node, not per ticket.
    if node.parent_id is None:
        return select().select_from(Ticket)
    nodes = select(Node.id).where(OrgDirectory.in_subtree(node))
    return select().select_from(Ticket).where(col(Ticket.node_id).in_(nodes))


def summary(s: Session, node: Node, since: datetime, now: datetime) -> Summary:
    resolved_in_period = and_(col(Ticket.status).in_(DONE), col(Ticket.resolved_at) >= since)
    row = s.exec(_scoped(node).add_columns(
        _one(col(Ticket.created_at) >= since),
        _one(col(Ticket.status).in_(OPEN)),
        _one(resolved_in_period),
        _one(overdue_accept(Ticket, now)),
        _one(overdue_resolve(Ticket, now)),
        _one(and_(resolved_in_period, col(Ticket.resolved_at) <= col(Ticket.resolve_by))),
        _one(and_(Ticket.status == "closed", Ticket.rating.is_(None), col(Ticket.closed_at) >= since)),
        _one(and_(col(Ticket.status).in_(OPEN), Ticket.supervised_at.is_not(None))),
    )).one()
    by_dept = s.exec(_scoped(node).add_columns(Ticket.department, func.count())
                     .where(col(Ticket.created_at) >= since)
                     .group_by(Ticket.department).order_by(func.count().desc())).all()
    rated, satisfied = s.exec(_scoped(node).join(TicketEvent, col(TicketEvent.ticket_id) == Ticket.id).add_columns(
        func.count(), _one(col(TicketEvent.detail).like("满意%") | col(TicketEvent.detail).like("基本满意%")),
    ).where(TicketEvent.kind == "rated", col(TicketEvent.at) >= since)).one()
    return Summary(*(int(v) for v in row), by_department=[(d, int(n)) for d, n in by_dept],
                   rated=int(rated), satisfied=int(satisfied))


def ranking(s: Session, node: Node, since: datetime, limit: int = 20) -> list[WorkerRank]:
    score = case(*((Ticket.rating == r, v) for r, v in RATING_SCORE.items()), else_=None)
    # Credit goes to whoever resolved the ticket (a liaison, an admin), not to the grid's worker.
    rows = s.exec(_scoped(node).add_columns(
        Ticket.resolved_by_id, func.count(),
        _one(col(Ticket.resolved_at) <= col(Ticket.resolve_by)),
        func.count(Ticket.rating), func.avg(score),
    ).where(col(Ticket.status).in_(DONE), col(Ticket.resolved_at) >= since, Ticket.resolved_by_id.is_not(None))
        .group_by(Ticket.resolved_by_id)).all()
    names = dict(s.exec(select(Membership.contact_id, Membership.name)
                        .where(col(Membership.contact_id).in_([r[0] for r in rows]))).all()) if rows else {}
    ranks = [WorkerRank(cid, names.get(cid, cid), int(n), int(on_time), int(rated),
                        float(avg) if avg is not None else None) for cid, n, on_time, rated, avg in rows]
    ranks.sort(key=lambda r: (-r.resolved, -(r.on_time / r.resolved), -(r.score or 0), r.name))
    return ranks[:limit]


class AdminView:
    """The admins' figures for a subtree (#统计, #排行, #清单, #导出), over one unit of work."""

    def __init__(self, session: Session, clock, org: OrgDirectory, export_dir: str) -> None:
        self.s = session
        self.clock = clock
        self.org = org
        self.export_dir = export_dir

    def summary(self, node: Node, period: str) -> Summary:
        now = self.clock.now()
        return summary(self.s, node, period_start(period, now, self.org.settings.tz), now)

    def ranking(self, node: Node, period: str) -> list[WorkerRank]:
        return ranking(self.s, node, period_start(period, self.clock.now(), self.org.settings.tz))

    def lists(self, node: Node, unsure) -> str:
        """问题清单, 解决清单 since Monday, then the subtree's 待确认 messages."""
        tz = self.org.settings.tz
        now = self.clock.now()
        return "\n".join([subtree_lists(self.s, node, now, period_start("本周", now, tz), tz),
                          *unsure_lines(unsure, tz)])

    def chart(self, node: Node, period: str) -> Path:
        """The subtree's chart for the period (bot/domain/charts.py) as a PNG in the export folder."""
        from bot.domain import charts      # charts builds on this module's figures

        now = self.clock.now()
        tz = self.org.settings.tz
        path = (Path(self.export_dir) / f"统计图_{node.name}_{period}_{now.astimezone(tz):%Y%m%d_%H%M%S}.png").resolve()
        return charts.render(charts.chart_data(self.s, self.org, node, period, now), path, tz)

    def export(self, node: Node) -> tuple[int, Path]:
        """The subtree's tickets as an Excel file in the export folder: (how many, where)."""
        tz = self.org.settings.tz
        local = self.clock.now().astimezone(tz)
        path = (Path(self.export_dir) / f"工单_{node.name}_{local:%Y%m%d_%H%M%S}.xlsx").resolve()
        return export_tickets(self.s, path, tz, self.clock.now(), node=node), path
