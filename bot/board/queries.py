"""What the board reads, in short read-only transactions: who a viewer is and what they reach, the
tickets they may read (exactly TicketService.may_read, as SQL), and the overview's figures — each one
SQL aggregate grouped by node, rolled up to the child nodes in Python, so 100,000 tickets never load."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, case, false, literal, or_
from sqlmodel import Session, col, func, select

from bot.domain import deadlines
from bot.domain.org import OrgDirectory
from bot.domain.permissions import ADMIN_ROLES, NODE_STAFF
from bot.storage.models import Membership, Node, Ticket, TicketFollower

OPEN = ("open", "accepted")
DONE = ("resolved", "closed")
SATISFIED = ("满意", "基本满意")
PERIODS = {"today": "今天", "week": "本周", "month": "本月"}
TREND_DAYS = 30


# ---- overdue: the domain's one rule (bot/domain/deadlines.py), as SQL conditions over Ticket ------------
def overdue_accept_sql(now: datetime):
    return deadlines.overdue_accept(Ticket, now)


def overdue_resolve_sql(now: datetime):
    return deadlines.overdue_resolve(Ticket, now)


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


def _rows(s: Session, query):
    """An aggregate's rows through Core: tuples of numbers need none of the ORM's per-row bookkeeping."""
    return s.connection().execute(query)


def _sum(flag):
    return func.coalesce(func.sum(case((flag, 1), else_=0)), 0)


# ---- the figures ----------------------------------------------------------------------------------
def _per_period() -> dict[str, int]:
    return dict.fromkeys(PERIODS, 0)


@dataclass
class Figures:
    """A subtree's figures: per period new, resolved, on time, rated, satisfied; and the state now."""

    new: dict[str, int] = field(default_factory=_per_period)
    resolved: dict[str, int] = field(default_factory=_per_period)
    on_time: dict[str, int] = field(default_factory=_per_period)
    rated: dict[str, int] = field(default_factory=_per_period)
    satisfied: dict[str, int] = field(default_factory=_per_period)
    open: int = 0
    overdue_accept: int = 0
    overdue_resolve: int = 0

    def add(self, other: Figures) -> None:
        for mine, theirs in ((self.new, other.new), (self.resolved, other.resolved), (self.on_time, other.on_time),
                             (self.rated, other.rated), (self.satisfied, other.satisfied)):
            for period, n in theirs.items():
                if n:
                    mine[period] += n
        self.open += other.open
        self.overdue_accept += other.overdue_accept
        self.overdue_resolve += other.overdue_resolve

    def on_time_rate(self, period: str) -> float | None:
        return self.on_time[period] / self.resolved[period] if self.resolved[period] else None

    def satisfaction(self, period: str) -> float | None:
        return self.satisfied[period] / self.rated[period] if self.rated[period] else None


def _bucket(column, starts: dict[str, datetime]):
    """Which periods a moment falls in, as one CASE over the period starts, latest first: bucket i
    means on or after the i-th latest start (and so every earlier one). One expression a row keeps
    a scan of 100,000 tickets short. Returns the expression and, per bucket, its periods."""
    order = sorted(starts.items(), key=lambda item: item[1], reverse=True)
    expr = case(*((column >= at, i) for i, (_, at) in enumerate(order)), else_=len(order))
    return expr, [[name for name, _ in order[i:]] for i in range(len(order))] + [[]]


# Grouping by an expression of node_id rather than the column: SQLite would otherwise walk the node_id
# index to save a sort and fetch every row at random, four times slower than one scan and a sort.
_NODE = (col(Ticket.node_id) + 0).label("node")


def child_key(s: Session, node: Node, children: list[Node]):
    """SQL: which child of `node` a ticket's node lies under (its index in `children`; -1 for `node`
    itself). Node ids are written as ranges — a subtree imported at once has consecutive ids, so a
    county's towns are a handful of BETWEENs however many nodes they hold; later additions just add
    ranges — which keeps the grouping to a few groups instead of one a node."""
    labels = []
    for node_id, path in s.exec(select(Node.id, Node.path).order_by(Node.id)).all():
        label = next((i for i, c in enumerate(children) if path == c.path or path.startswith(c.path + "/")), None)
        labels.append((node_id, label))
    ranges: list[list[int]] = []            # [first id, last id, child index]
    for node_id, label in labels:
        if ranges and ranges[-1][2] == label:
            ranges[-1][1] = node_id
        else:
            ranges.append([node_id, node_id, label])
    whens = [(col(Ticket.node_id).between(a, b), i) for a, b, i in ranges if i is not None]
    return (case(*whens, else_=-1) if whens else literal(-1)).label("child")


def figures_by_node(s: Session, node: Node, now: datetime, tz: ZoneInfo, key=None,
                    departments: dict[str | None, list[int]] | None = None) -> dict[int, Figures]:
    """Three grouped aggregates over the subtree's tickets (this month's new, this month's resolved,
    the open ones now), each reading only the rows it needs: node id (or `key`) → its tickets' figures."""
    group = key if key is not None else _NODE
    starts = period_starts(now, tz)
    # The earliest start of the three (a week may begin in the previous month).
    first = min(starts.values())
    out: dict[int, Figures] = {}

    def of(node_id: int) -> Figures:
        f = out.get(node_id)
        if f is None:
            f = out[node_id] = Figures()
        return f

    # With `departments`, the same scans are also split by department: department → [new this month,
    # open, overdue] (cheap once the groups are few, as with child_key).
    dept = [Ticket.department] if departments is not None else []
    new, new_periods = _bucket(col(Ticket.created_at), starts)
    for node_id, bucket, n, *d in _rows(s, _where(select(group, new, func.count(), *dept), node)
                                        .where(col(Ticket.created_at) >= first).group_by(group, new, *dept)).all():
        for period in new_periods[int(bucket)]:
            of(node_id).new[period] += int(n)
        if d and "month" in new_periods[int(bucket)]:
            departments.setdefault(d[0], [0, 0, 0])[0] += int(n)
    done, done_periods = _bucket(col(Ticket.resolved_at), starts)
    rows = _rows(s, _where(select(group, done, func.count(), _sum(col(Ticket.resolved_at) <= col(Ticket.resolve_by)),
                                func.count(Ticket.rating), _sum(col(Ticket.rating).in_(SATISFIED))), node)
                  .where(col(Ticket.status).in_(DONE), col(Ticket.resolved_at) >= first)
                  .group_by(group, done)).all()
    for node_id, bucket, n, on_time, rated, satisfied in rows:
        f = of(node_id)
        for period in done_periods[int(bucket)]:
            f.resolved[period] += int(n)
            f.on_time[period] += int(on_time)
            f.rated[period] += int(rated)
            f.satisfied[period] += int(satisfied)
    rows = _rows(s, _where(select(group, func.count(), _sum(overdue_accept_sql(now)),
                                  _sum(col(Ticket.resolve_by) < now),
                                  _sum(or_(overdue_accept_sql(now), col(Ticket.resolve_by) < now)), *dept), node)
                 .where(col(Ticket.status).in_(OPEN)).group_by(group, *dept)).all()
    for node_id, n, late_accept, late_resolve, late, *d in rows:
        f = of(node_id)
        f.open += int(n)
        f.overdue_accept += int(late_accept)
        f.overdue_resolve += int(late_resolve)
        if d:
            entry = departments.setdefault(d[0], [0, 0, 0])
            entry[1] += int(n)
            entry[2] += int(late)
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
    children = list(s.exec(select(Node).where(Node.parent_id == node.id, Node.active).order_by(Node.id)).all())
    departments: dict[str | None, list[int]] = {}
    grouped = figures_by_node(s, node, now, tz, key=child_key(s, node, children), departments=departments)
    total = Figures()
    for f in grouped.values():
        total.add(f)
    return Overview(node=node, total=total, children=[(c, grouped.get(i) or Figures()) for i, c in enumerate(children)],
                    by_department=_busiest(departments), trend=trend(s, node, now, tz),
                    red_list=red_list(s, node, now), names=_names(s))


def _busiest(departments: dict[str | None, list[int]]) -> list[tuple[str | None, int, int, int]]:
    """(department, new this month, open, overdue), busiest first."""
    rows = [(d, *v) for d, v in departments.items() if v[0] or v[1]]
    return sorted(rows, key=lambda r: (-r[1], -r[2], r[0] or ""))


def _day_index(column, start: datetime, dialect: str):
    """Whole days from `start` to the column's moment (the county's days: `start` is a local midnight)."""
    if dialect == "sqlite":
        return func.cast(func.julianday(column) - func.julianday(start.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")),
                         Integer)
    return func.floor(func.extract("epoch", column - start) / 86400)


def trend(s: Session, node: Node, now: datetime, tz: ZoneInfo, days: int = TREND_DAYS):
    """New and resolved per day over the last `days` days (today included): two grouped scans."""
    today = now.astimezone(tz).date()
    start = datetime.combine(today - timedelta(days=days - 1), time(0), tz)
    dialect = s.get_bind().dialect.name
    new, done = [0] * days, [0] * days
    created = _day_index(col(Ticket.created_at), start, dialect)
    for day, n in _rows(s, _where(select(created, func.count()), node).where(col(Ticket.created_at) >= start)
                         .group_by(created)).all():
        if 0 <= int(day) < days:
            new[int(day)] += int(n)
    resolved = _day_index(col(Ticket.resolved_at), start, dialect)
    for day, n in _rows(s, _where(select(resolved, func.count()), node)
                         .where(col(Ticket.status).in_(DONE), col(Ticket.resolved_at) >= start).group_by(resolved)).all():
        if 0 <= int(day) < days:
            done[int(day)] += int(n)
    return [(datetime.combine(start.date() + timedelta(days=i), time(0), tz), new[i], done[i]) for i in range(days)]


def red_list(s: Session, node: Node, now: datetime, limit: int = 30) -> list[Ticket]:
    """Open tickets that are urgent or overdue: urgent first, then the most escalated, the most overdue.
    The numbers are picked on the covering index alone; only the tickets shown are read whole."""
    base = _where(select(Ticket.id).where(col(Ticket.status).in_(OPEN)), node)
    ids = list(s.exec(base.where(Ticket.urgency == "urgent").order_by(Ticket.resolve_by).limit(limit)).all())
    if len(ids) < limit:
        late = base.where(Ticket.urgency != "urgent", or_(overdue_accept_sql(now), col(Ticket.resolve_by) < now))
        ids += s.exec(late.order_by(col(Ticket.escalation_level).desc(), Ticket.resolve_by).limit(limit - len(ids))).all()
    if not ids:
        return []
    found = {t.id: t for t in s.exec(select(Ticket).where(col(Ticket.id).in_(ids))).all()}
    return [found[i] for i in ids]


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
def _empty() -> dict:
    return {"total": 0, "by_status": {}, "overdue_accept": 0, "overdue_resolve": 0}


def _add(into: dict, status: str, n: int, late_accept: int, late_resolve: int) -> None:
    into["total"] += n
    into["by_status"][status] = into["by_status"].get(status, 0) + n
    into["overdue_accept"] += late_accept
    into["overdue_resolve"] += late_resolve


def summary(s: Session, org: OrgDirectory, v: Viewer, node: Node | None, now: datetime) -> dict:
    """GET /api/summary: counts for the viewer's reach (or one node in it) by status, overdue, by
    department, by child node (with the same figures each). Two grouped scans, rolled up here."""
    scopes = [node] if node is not None else list(v.reach)
    ids = _subtree_ids(scopes)
    scoped = (lambda q: q.where(col(Ticket.node_id).in_(ids))) if ids is not None else (lambda q: q.where(false()))
    if len(scopes) == 1:
        scoped = (lambda q: _where(q, scopes[0]))
    late = (_sum(overdue_accept_sql(now)), _sum(overdue_resolve_sql(now)))
    out = {"node": scopes[0].path if len(scopes) == 1 else None, "reach": [n.path for n in v.reach], **_empty()}
    children = (list(s.exec(select(Node).where(Node.parent_id == scopes[0].id, Node.active).order_by(Node.id)).all())
                if len(scopes) == 1 else scopes)
    by_child = {c.path: {"name": c.name, "level": c.level, **_empty()} for c in children}
    paths = node_paths(s)
    for node_id, status, n, a, r in _rows(s, scoped(select(_NODE, Ticket.status, func.count(), *late))
                                           .group_by(_NODE, Ticket.status)).all():
        _add(out, status, int(n), int(a), int(r))
        path = paths.get(node_id, "")
        for c in children:
            if path == c.path or path.startswith(c.path + "/"):
                _add(by_child[c.path], status, int(n), int(a), int(r))
                break
    out["by_department"] = {}
    for dept, status, n, a, r in _rows(s, scoped(select(Ticket.department, Ticket.status, func.count(), *late))
                                        .group_by(Ticket.department, Ticket.status)).all():
        _add(out["by_department"].setdefault(dept or "none", _empty()), status, int(n), int(a), int(r))
    out["by_child"] = by_child
    starts = period_starts(now, org.settings.tz)
    first = min(starts.values())
    periods = {p: {"new": 0, "resolved": 0} for p in starts}
    new, new_periods = _bucket(col(Ticket.created_at), starts)
    for bucket, n in _rows(s, scoped(select(new, func.count())).where(col(Ticket.created_at) >= first)
                            .group_by(new)).all():
        for p in new_periods[int(bucket)]:
            periods[p]["new"] += int(n)
    done, done_periods = _bucket(col(Ticket.resolved_at), starts)
    for bucket, n in _rows(s, scoped(select(done, func.count()))
                            .where(col(Ticket.status).in_(DONE), col(Ticket.resolved_at) >= first).group_by(done)).all():
        for p in done_periods[int(bucket)]:
            periods[p]["resolved"] += int(n)
    out["periods"] = periods
    return out
