"""What the board reads, in short read-only transactions: who a viewer is and what they reach, the
tickets they may read (exactly TicketService.may_read, as SQL), and the overview's figures — each one
SQL aggregate grouped by node, rolled up to the child nodes in Python, so 100,000 tickets never load."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, false, or_
from sqlmodel import Session, col, func, select

from bot.domain.org import OrgDirectory
from bot.domain.permissions import ADMIN_ROLES, NODE_STAFF
from bot.storage.models import Membership, Node, Ticket, TicketFollower

OPEN = ("open", "accepted")
DONE = ("resolved", "closed")
SATISFIED = ("满意", "基本满意")
PERIODS = {"today": "今天", "week": "本周", "month": "本月"}
TREND_DAYS = 30


# ---- overdue: one definition (SPEC §5.1). Another branch centralises this in bot/domain; point these
# two at it when that lands. --------------------------------------------------------------------------
def overdue_accept(status: str, accept_by: datetime, now: datetime) -> bool:
    """超期未受理: accept_by passed while open."""
    return status == "open" and accept_by < now


def overdue_resolve(status: str, resolve_by: datetime, now: datetime) -> bool:
    """超期未办结: resolve_by passed while open or accepted."""
    return status in OPEN and resolve_by < now


def overdue_accept_sql(now: datetime):
    return and_(Ticket.status == "open", col(Ticket.accept_by) < now)


def overdue_resolve_sql(now: datetime):
    return and_(col(Ticket.status).in_(OPEN), col(Ticket.resolve_by) < now)


# ---- who is looking -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Viewer:
    contact_id: str
    name: str
    reach: tuple[Node, ...]          # the topmost nodes where they are staff (their subtrees)
    admin_at: tuple[Node, ...]       # where they are admin
    departments: tuple[str, ...]     # where they are liaison

    @property
    def home(self) -> Node | None:
        return min(self.reach, key=lambda n: (n.depth, n.path)) if self.reach else None

    def reaches(self, node: Node) -> bool:
        return any(OrgDirectory.contains(r, node) for r in self.reach)

    def is_admin_over(self, node: Node) -> bool:
        return any(OrgDirectory.contains(a, node) for a in self.admin_at)


def viewer(org: OrgDirectory, contact_id: str) -> Viewer:
    staff, admin, depts = [], [], []
    for m in org.memberships(contact_id):
        if m.role == "liaison" and m.department:
            depts.append(m.department)
        node = org.s.get(Node, m.node_id) if m.node_id is not None else None
        if node is None or not node.active:
            continue
        if m.role in NODE_STAFF:
            staff.append(node)
        if m.role in ADMIN_ROLES:
            admin.append(node)

    def topmost(nodes: list[Node]) -> tuple[Node, ...]:
        return tuple(sorted({n.path: n for n in nodes if not any(o is not n and o.path != n.path
                                                                 and OrgDirectory.contains(o, n) for o in nodes)}
                            .values(), key=lambda n: n.path))

    return Viewer(contact_id, org.name_of(contact_id), topmost(staff), topmost(admin), tuple(sorted(set(depts))))


def _subtree_ids(nodes: tuple[Node, ...] | list[Node]):
    conds = [OrgDirectory.in_subtree(n) for n in nodes]
    return select(Node.id).where(or_(*conds)) if conds else None


def readable(v: Viewer):
    """SQL condition: the tickets `v` may read — TicketService.may_read, for many tickets at once."""
    followed = select(TicketFollower.ticket_id).where(TicketFollower.contact_id == v.contact_id)
    conds = [Ticket.reporter_id == v.contact_id, col(Ticket.id).in_(followed)]
    if v.departments:
        conds.append(col(Ticket.department).in_(v.departments))
    reach = _subtree_ids(v.reach)
    if reach is not None:
        conds.append(col(Ticket.node_id).in_(reach))
    return or_(*conds)


def in_scope(node: Node):
    """SQL condition: tickets at `node` or below (no condition at the root: every ticket is there)."""
    if node.parent_id is None:
        return None
    return col(Ticket.node_id).in_(select(Node.id).where(OrgDirectory.in_subtree(node)))


def _where(query, node: Node):
    cond = in_scope(node)
    return query if cond is None else query.where(cond)


# ---- periods ------------------------------------------------------------------------------------
def period_starts(now: datetime, tz: ZoneInfo) -> dict[str, datetime]:
    today = now.astimezone(tz).date()
    return {"today": datetime.combine(today, time(0), tz),
            "week": datetime.combine(today - timedelta(days=today.weekday()), time(0), tz),
            "month": datetime.combine(today.replace(day=1), time(0), tz)}


def _sum(flag):
    return func.coalesce(func.sum(case((flag, 1), else_=0)), 0)


# ---- the figures ----------------------------------------------------------------------------------
@dataclass
class Figures:
    """A subtree's figures: per period new, resolved, on time, rated, satisfied; and the state now."""

    new: Counter = field(default_factory=Counter)
    resolved: Counter = field(default_factory=Counter)
    on_time: Counter = field(default_factory=Counter)
    rated: Counter = field(default_factory=Counter)
    satisfied: Counter = field(default_factory=Counter)
    open: int = 0
    overdue_accept: int = 0
    overdue_resolve: int = 0
    total: int = 0

    def add(self, other: Figures) -> None:
        for name in ("new", "resolved", "on_time", "rated", "satisfied"):
            getattr(self, name).update(getattr(other, name))
        self.open += other.open
        self.overdue_accept += other.overdue_accept
        self.overdue_resolve += other.overdue_resolve
        self.total += other.total

    def on_time_rate(self, period: str) -> float | None:
        return self.on_time[period] / self.resolved[period] if self.resolved[period] else None

    def satisfaction(self, period: str) -> float | None:
        return self.satisfied[period] / self.rated[period] if self.rated[period] else None


def figures_by_node(s: Session, node: Node, now: datetime, tz: ZoneInfo) -> dict[int, Figures]:
    """One grouped aggregate over the subtree's tickets: node id → its own tickets' figures."""
    starts = period_starts(now, tz)
    columns = []
    for since in starts.values():
        done = and_(col(Ticket.status).in_(DONE), col(Ticket.resolved_at) >= since)
        columns += [_sum(col(Ticket.created_at) >= since), _sum(done),
                    _sum(and_(done, col(Ticket.resolved_at) <= col(Ticket.resolve_by))),
                    _sum(and_(done, col(Ticket.rating).is_not(None))),
                    _sum(and_(done, col(Ticket.rating).in_(SATISFIED)))]
    columns += [_sum(col(Ticket.status).in_(OPEN)), _sum(overdue_accept_sql(now)), _sum(overdue_resolve_sql(now)),
                func.count()]
    rows = s.exec(_where(select(Ticket.node_id, *columns), node).group_by(Ticket.node_id)).all()
    out: dict[int, Figures] = {}
    for row in rows:
        f = Figures()
        values = [int(v) for v in row[1:]]
        for i, period in enumerate(starts):
            n, r, o, rated, sat = values[i * 5:(i + 1) * 5]
            f.new[period], f.resolved[period], f.on_time[period], f.rated[period], f.satisfied[period] = n, r, o, rated, sat
        f.open, f.overdue_accept, f.overdue_resolve, f.total = values[15:]
        out[row[0]] = f
    return out


@dataclass
class Overview:
    node: Node
    total: Figures
    children: list[tuple[Node, Figures]]
    by_department: list[tuple[str | None, int, int, int]]   # code, new this month, open, overdue
    trend: list[tuple[datetime, int, int]]                 # day, new, resolved
    red_list: list[Ticket]
    names: dict[str, str]


def overview(s: Session, org: OrgDirectory, node: Node, now: datetime) -> Overview:
    tz = org.settings.tz
    own = figures_by_node(s, node, now, tz)
    children = list(s.exec(select(Node).where(Node.parent_id == node.id, Node.active).order_by(Node.id)).all())
    paths = dict(s.exec(_where_nodes(select(Node.id, Node.path), node)).all())
    total = Figures()
    per_child = {c.id: Figures() for c in children}
    for node_id, f in own.items():
        total.add(f)
        path = paths.get(node_id, "")
        for c in children:
            if path == c.path or path.startswith(c.path + "/"):
                per_child[c.id].add(f)
                break
    return Overview(node=node, total=total, children=[(c, per_child[c.id]) for c in children],
                    by_department=by_department(s, node, now, tz), trend=trend(s, node, now, tz),
                    red_list=red_list(s, node, now), names=_names(s))


def _where_nodes(query, node: Node):
    return query if node.parent_id is None else query.where(OrgDirectory.in_subtree(node))


def by_department(s: Session, node: Node, now: datetime, tz: ZoneInfo):
    since = period_starts(now, tz)["month"]
    rows = s.exec(_where(select(Ticket.department, _sum(col(Ticket.created_at) >= since),
                                _sum(col(Ticket.status).in_(OPEN)),
                                _sum(or_(overdue_accept_sql(now), overdue_resolve_sql(now)))), node)
                  .group_by(Ticket.department)).all()
    rows = [(d, int(n), int(o), int(late)) for d, n, o, late in rows if n or o]
    return sorted(rows, key=lambda r: (-r[1], -r[2], r[0] or ""))


def trend(s: Session, node: Node, now: datetime, tz: ZoneInfo, days: int = TREND_DAYS):
    """New and resolved per day over the last `days` days (today included), in one pass."""
    today = now.astimezone(tz).date()
    starts = [datetime.combine(today - timedelta(days=days - 1 - i), time(0), tz) for i in range(days + 1)]
    columns = []
    for a, b in zip(starts, starts[1:]):
        columns += [_sum(and_(col(Ticket.created_at) >= a, col(Ticket.created_at) < b)),
                    _sum(and_(col(Ticket.status).in_(DONE), col(Ticket.resolved_at) >= a,
                              col(Ticket.resolved_at) < b))]
    recent = or_(col(Ticket.created_at) >= starts[0], col(Ticket.resolved_at) >= starts[0])
    row = s.exec(_where(select(*columns).select_from(Ticket), node).where(recent)).one()
    return [(starts[i], int(row[2 * i]), int(row[2 * i + 1])) for i in range(days)]


def red_list(s: Session, node: Node, now: datetime, limit: int = 30) -> list[Ticket]:
    """Open tickets that are overdue or urgent: the most urgent and most overdue first."""
    late = or_(overdue_accept_sql(now), overdue_resolve_sql(now), Ticket.urgency == "urgent")
    query = _where(select(Ticket).where(col(Ticket.status).in_(OPEN), late), node)
    order = case((Ticket.urgency == "urgent", 0), else_=1)
    return list(s.exec(query.order_by(order, col(Ticket.escalation_level).desc(), Ticket.resolve_by).limit(limit)).all())


def _names(s: Session) -> dict[str, str]:
    return dict(s.exec(select(Membership.contact_id, Membership.name)).all())


# ---- lists behind a number ------------------------------------------------------------------------
FILTERS = {
    "all": "全部", "open": "未办结", "overdue_accept": "超期未受理", "overdue_resolve": "超期未办结",
    "urgent": "紧急未办结",
    **{f"new_{p}": f"{label}新增" for p, label in PERIODS.items()},
    **{f"resolved_{p}": f"{label}办结" for p, label in PERIODS.items()},
}


def filter_condition(name: str, now: datetime, tz: ZoneInfo):
    starts = period_starts(now, tz)
    if name == "all":
        return None
    if name == "open":
        return col(Ticket.status).in_(OPEN)
    if name == "overdue_accept":
        return overdue_accept_sql(now)
    if name == "overdue_resolve":
        return overdue_resolve_sql(now)
    if name == "urgent":
        return and_(col(Ticket.status).in_(OPEN), Ticket.urgency == "urgent")
    kind, _, period = name.partition("_")
    if kind == "new" and period in starts:
        return col(Ticket.created_at) >= starts[period]
    if kind == "resolved" and period in starts:
        return and_(col(Ticket.status).in_(DONE), col(Ticket.resolved_at) >= starts[period])
    raise KeyError(name)


def tickets(s: Session, v: Viewer, node: Node | None, condition, department: str | None = None,
            limit: int | None = None) -> list[Ticket]:
    query = select(Ticket).where(readable(v))
    if node is not None:
        query = _where(query, node)
    if condition is not None:
        query = query.where(condition)
    if department == "none":
        query = query.where(col(Ticket.department).is_(None))
    elif department is not None:
        query = query.where(Ticket.department == department)
    query = query.order_by(col(Ticket.id).desc())
    return list(s.exec(query.limit(limit) if limit else query).all())


def followers_of(s: Session, ticket_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if not ticket_ids:
        return out
    for f in s.exec(select(TicketFollower).where(col(TicketFollower.ticket_id).in_(ticket_ids))
                    .order_by(TicketFollower.ticket_id, TicketFollower.contact_id)).all():
        out.setdefault(f.ticket_id, []).append(f.contact_id)
    return out


def node_paths(s: Session) -> dict[int, str]:
    return dict(s.exec(select(Node.id, Node.path)).all())


# ---- the summary of §6.4 --------------------------------------------------------------------------
def _counts(s: Session, base, now: datetime) -> dict:
    by_status = {st: int(n) for st, n in s.exec(base.add_columns(Ticket.status, func.count())
                                                .group_by(Ticket.status)).all()}
    late = s.exec(base.add_columns(_sum(overdue_accept_sql(now)), _sum(overdue_resolve_sql(now)))).one()
    return {"total": sum(by_status.values()), "by_status": by_status,
            "overdue_accept": int(late[0]), "overdue_resolve": int(late[1])}


def summary(s: Session, org: OrgDirectory, v: Viewer, node: Node | None, now: datetime) -> dict:
    """GET /api/summary: counts for the viewer's reach (or one node in it) by status, overdue, by
    department, by child node (with the same figures each)."""
    scopes = [node] if node is not None else list(v.reach)
    ids = _subtree_ids(scopes)
    base = select().select_from(Ticket).where(col(Ticket.node_id).in_(ids) if ids is not None else false())
    out = {"node": node.path if node is not None else (v.home.path if len(v.reach) == 1 else None),
           "reach": [n.path for n in v.reach], **_counts(s, base, now)}
    out["by_department"] = {}
    for (dept,) in s.exec(base.add_columns(Ticket.department).group_by(Ticket.department)).all():
        out["by_department"][dept or "none"] = _counts(s, base.where(Ticket.department == dept) if dept else
                                                       base.where(col(Ticket.department).is_(None)), now)
    children = (list(s.exec(select(Node).where(Node.parent_id == scopes[0].id, Node.active).order_by(Node.id)).all())
                if len(scopes) == 1 else scopes)
    out["by_child"] = {}
    for c in children:
        sub = select().select_from(Ticket).where(col(Ticket.node_id).in_(_subtree_ids([c])))
        out["by_child"][c.path] = {"name": c.name, "level": c.level, **_counts(s, sub, now)}
    starts = period_starts(now, org.settings.tz)
    out["periods"] = {}
    for period, since in starts.items():
        row = s.exec(base.add_columns(_sum(col(Ticket.created_at) >= since),
                                      _sum(and_(col(Ticket.status).in_(DONE), col(Ticket.resolved_at) >= since)))).one()
        out["periods"][period] = {"new": int(row[0]), "resolved": int(row[1])}
    return out
