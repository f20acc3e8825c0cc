"""The ticket's life (SPEC §3): opening with routing and deadlines, acceptance, transfer,
resolution, rating, cancellation — with the permission rules and an event for every change."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, or_, select

from bot.clock import Clock
from bot.domain import learning, texts
from bot.domain.deadlines import due_after, ticket_deadlines
from bot.domain.evidence import attach_recent, evidence_of
from bot.domain.org import OrgDirectory, Room
from bot.domain.permissions import ADMIN_ROLES, HANDLER_ROLES, NODE_STAFF
from bot.domain.similarity import similar
from bot.domain.timers import TicketTimers
from bot.errors import UserError
from bot.outbox import Outbox
from bot.storage.models import Counter, Node, Ticket, TicketEvent, TicketFollower
from bot.transport import Address, Outgoing

POLICE_DEPARTMENTS = frozenset({"police", "traffic"})
DUPLICATE_WINDOW = timedelta(hours=24)
NUDGE_INTERVAL = timedelta(hours=1)


@dataclass(frozen=True)
class Actor:
    contact_id: str
    name: str


@dataclass(frozen=True)
class Report:
    """A problem to open a ticket for, as the classifier (or #上报) found it."""

    text: str
    department: str | None
    urgency: str
    keywords: tuple[str, ...] = ()
    location: str | None = None


def next_number(session: Session, counter: str) -> int:
    """The next value of a named sequence, taken with one atomic upsert … RETURNING: two processes
    taking the very first number at once must not both try to create the row (one would fail)."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (insert(Counter).values(name=counter, value=1)
            .on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
            .returning(Counter.value))
    return session.execute(stmt).scalar_one()


class TicketService:
    def __init__(self, session: Session, clock: Clock, org: OrgDirectory, outbox: Outbox) -> None:
        self.s = session
        self.clock = clock
        self.org = org
        self.outbox = outbox
        self.timers = TicketTimers(session, clock, org, outbox)

    # ---- opening --------------------------------------------------------------------------
    def open(self, report: Report, reporter: Actor, room: Room, source: Address, *,
             teaches: str | None = None) -> Ticket:
        """Open a ticket, or join the reporter to an open ticket for the same problem (SPEC §3).
        `teaches`: a new ticket is also a correction of the classifier of this kind (a problem it
        ignored, reported with #上报 or confirmed from the 待确认 list)."""
        settings = self.org.settings
        now = self.clock.now()
        node = room.node or self.org.home_node(reporter.contact_id) or self.org.root()
        grid = self.org.grid_of(node)
        existing = self.find_duplicate(report, grid)
        if existing is not None:
            self._follow(existing, reporter, report.text, source)
            return existing
        assignee = self.assignee_for(grid, report.department)
        accept_by, resolve_by = ticket_deadlines(now, report.urgency, settings.sla, settings.calendar,
                                                 settings.tz)
        ticket = Ticket(
            no=f"T{next_number(self.s, 'T')}", department=report.department, urgency=report.urgency,
            node_id=node.id, grid_id=grid.id if grid else None,
            reporter_id=reporter.contact_id, reporter_name=reporter.name,
            assignee_id=assignee[0] if assignee else None,
            text=report.text, location=report.location, keywords=" ".join(report.keywords),
            source_room_id=source.room_id, source_room_topic=source.room_topic,
            created_at=now, accept_by=accept_by, resolve_by=resolve_by,
        )
        self.s.add(ticket)
        self.s.flush()
        self._event(ticket, reporter, "opened", report.text)
        if teaches is not None:
            self._teach(ticket, teaches, reporter)
        self.timers.start(ticket)
        self._announce_new(ticket, node, grid, assignee[1] if assignee else None)
        return ticket

    def open_forwarded(self, found: list[tuple[str, str, object]], reporter: Actor, room: Room,
                       source: Address) -> list[Ticket]:
        """A forwarded chat record's problems, as (speaker's name, text, classification) in record
        order: one ticket per department found, its reporter the forwarder, its text the speakers'
        lines under their names, urgent when any of its lines is."""
        by_department: dict[str | None, list[tuple[str, str, object]]] = {}
        for line in found:
            by_department.setdefault(line[2].department, []).append(line)
        opened = []
        for department, lines in by_department.items():
            text = "\n".join(f"{name or '群友'}：{said}" for name, said, _ in lines)
            urgent = any(c.urgency == "urgent" for _, _, c in lines)
            opened.append(self.open(Report(text=f"{texts.FORWARDED_RECORD}{text}", department=department,
                                           urgency="urgent" if urgent else "normal",
                                           keywords=tuple(k for _, _, c in lines for k in c.keywords),
                                           location=lines[0][2].location),
                                    reporter, room, source))
        return opened

    def find_duplicate(self, report: Report, grid: Node | None) -> Ticket | None:
        """An open ticket of the same grid and department, opened within 24 h, about the same thing."""
        if grid is None or report.department is None:
            return None
        query = select(Ticket).where(Ticket.grid_id == grid.id, Ticket.department == report.department,
                                     col(Ticket.status).in_(("open", "accepted")),
                                     col(Ticket.created_at) >= self.clock.now() - DUPLICATE_WINDOW)
        if report.urgency == "urgent":
            # An emergency never disappears into an ordinary ticket (楼道堆物 yesterday, 楼道着火 now).
            query = query.where(Ticket.urgency == "urgent")
        candidates = self.s.exec(query.order_by(col(Ticket.id).desc()).limit(20)).all()
        return next((t for t in candidates
                     if similar(report.text, report.location, set(report.keywords), t.text, t.location,
                                set(t.keywords.split()))), None)

    def _follow(self, t: Ticket, who: Actor, text: str, where: Address) -> None:
        known = who.contact_id == t.reporter_id or self.s.get(TicketFollower, (t.id, who.contact_id))
        reply = texts.already_reported(t) if known else texts.joined_existing(t)
        if not known:
            self.s.add(TicketFollower(ticket_id=t.id, contact_id=who.contact_id, name=who.name))
            self._event(t, who, "followed", text)
        self.outbox.post(Outgoing.at(where, reply))

    def assignee_for(self, grid: Node | None, department: str | None) -> tuple[str, str] | None:
        """The grid's first grid_worker; for police/traffic tickets its police member if any."""
        if grid is None:
            return None
        if department in POLICE_DEPARTMENTS:
            police = self.org.members_at(grid, "police")
            if police:
                return police[0].contact_id, police[0].name
        workers = self.org.members_at(grid, "grid_worker")
        return (workers[0].contact_id, workers[0].name) if workers else None

    def _announce_new(self, t: Ticket, node: Node, grid: Node | None, assignee_name: str | None) -> None:
        tz = self.org.settings.tz
        # Urgent like the alerts after it, so the outbox (most urgent first, then in order)
        # sends the resident what to dial before it tells anyone else.
        self._reply_to_source(t, texts.acknowledged(t, assignee_name, tz), urgent=t.urgency == "urgent")
        relayed = texts.relayed(t)
        if grid is not None:
            if grid.address != t.source:
                mentions = (t.assignee_id,) if t.assignee_id else ()
                self.outbox.to_room(grid, texts.grid_alert(t, node.path, relayed, assignee_name, tz), mentions,
                                    urgent=t.urgency == "urgent")
        else:
            # No grid above the node (a report in a town room, or 1:1 from someone not in the org):
            # the nearest room up the tree hears of it, its admins mentioned, so someone assigns it.
            home = next((n for n in [node, *self.org.ancestors(node)] if n.address is not None), None)
            county_covers_it = t.urgency == "urgent" and home is not None and home.parent_id is None
            if home is not None and home.address != t.source and not county_covers_it:
                admins = self.org.members_at(home, "admin")
                self.outbox.to_room(home, texts.grid_alert(t, node.path, relayed, None, tz,
                                                           [m.name for m in admins]),
                                    tuple(m.contact_id for m in admins), urgent=t.urgency == "urgent")
        self._dispatch_to_department(t, node, relayed, assignee_name)
        if t.urgency == "urgent":
            county = self.org.root()
            if county.address != t.source:
                self.outbox.to_room(county, texts.urgent_alert(t, node.path, relayed, assignee_name, tz),
                                    urgent=True)

    def _dispatch_to_department(self, t: Ticket, node: Node, relayed: str, assignee_name: str | None) -> None:
        if t.department is None:
            return
        room = self.org.department_room(t.department)
        if room is not None:
            self.outbox.to_room(room, texts.department_dispatch(t, node.path, relayed, assignee_name,
                                                                self.org.settings.tz),
                                urgent=t.urgency == "urgent")

    def _reply_to_source(self, t: Ticket, text: str, mention_reporter: bool = False, urgent: bool = False) -> None:
        mentions = (t.reporter_id,) if mention_reporter else ()
        self.outbox.post(Outgoing.at(t.source, text, mentions, urgent=urgent))

    def attach_evidence(self, contact_id: str, kind: str, path: str) -> Ticket | None:
        """A picture or file from someone who reported in the last minutes joins their ticket."""
        return attach_recent(self.s, self.clock, contact_id, kind, path)

    # ---- lookups --------------------------------------------------------------------------
    def get(self, no: str) -> Ticket:
        # Locked for the rest of the transaction: another process's sweep must not interleave.
        ticket = self.s.exec(select(Ticket).where(Ticket.no == no).with_for_update()).first()
        if ticket is None:
            raise UserError(texts.NOT_FOUND.format(no=no))
        return ticket

    def events(self, t: Ticket) -> list[TicketEvent]:
        return list(self.s.exec(select(TicketEvent).where(TicketEvent.ticket_id == t.id)
                                .order_by(TicketEvent.at, TicketEvent.id)).all())

    def followers(self, t: Ticket) -> list[TicketFollower]:
        return list(self.s.exec(select(TicketFollower).where(TicketFollower.ticket_id == t.id)).all())

    def detail(self, no: str, viewer: Actor) -> str:
        t = self.get(no)
        if not self.may_read(t, viewer.contact_id):
            raise UserError(texts.NOT_ALLOWED_READ.format(no=no))
        return texts.ticket_detail(t, self.org.node(t.node_id).path, self._name(t.assignee_id), self.events(t),
                                   self.org.settings.tz, evidence_of(self.s, t))

    def open_for(self, contact_id: str) -> list[Ticket]:
        """Unfinished tickets the contact reported, follows, or is assigned."""
        followed = select(TicketFollower.ticket_id).where(TicketFollower.contact_id == contact_id)
        query = (select(Ticket)
                 .where(col(Ticket.status).in_(("open", "accepted", "resolved")))
                 .where(or_(Ticket.reporter_id == contact_id, Ticket.assignee_id == contact_id,
                            col(Ticket.id).in_(followed)))
                 .order_by(Ticket.id).limit(20))
        return list(self.s.exec(query).all())

    # ---- changes --------------------------------------------------------------------------
    def accept(self, no: str, actor: Actor) -> Ticket:
        t = self.get(no)
        self._require_handler(t, actor, "受理")
        self._require_status(t, ("open",), "受理")
        t.status = "accepted"
        t.accepted_at = self.clock.now()
        self._event(t, actor, "accepted")
        self.timers.plan(t)
        self._reply_to_source(t, texts.accepted(t, actor.name))
        return t

    def transfer(self, no: str, department: str, actor: Actor) -> tuple[Ticket, str | None]:
        t = self.get(no)
        self._require_handler(t, actor, "转派")
        self._require_status(t, ("open", "accepted"), "转派")
        if t.department == department:
            raise UserError(texts.SAME_DEPARTMENT.format(no=no, dept=texts.dept(department)))
        old = t.department
        t.department = department
        node = self.org.node(t.node_id)
        grid = self.org.node(t.grid_id) if t.grid_id else None
        assignee = self.assignee_for(grid, department)
        if assignee is not None:
            t.assignee_id = assignee[0]
        self._event(t, actor, "transferred", f"{texts.dept(old)} → {texts.dept(department)}")
        self._teach(t, learning.TRANSFER, actor, department)
        self._dispatch_to_department(t, node, texts.relayed(t), self._name(t.assignee_id))
        return t, old

    def resolve(self, no: str, note: str, actor: Actor) -> Ticket:
        t = self.get(no)
        self._require_handler(t, actor, "办结")
        self._require_status(t, ("open", "accepted"), "办结")
        now = self.clock.now()
        if t.accepted_at is None:
            t.accepted_at = now
        t.status = "resolved"
        t.resolved_at = now
        t.resolution = note
        t.resolved_by_id = actor.contact_id
        self._event(t, actor, "resolved", note)
        self.timers.start_revisit(t)
        self._reply_to_source(t, texts.rate_request(t, t.reporter_name), mention_reporter=True)
        return t

    def rate(self, no: str, rating: str, note: str, actor: Actor) -> Ticket:
        t = self.get(no)
        if actor.contact_id != t.reporter_id:
            raise UserError(texts.NOT_ALLOWED_RATE.format(no=no))
        self._require_status(t, ("resolved",), "评价")
        now = self.clock.now()
        t.rating = rating
        self._event(t, actor, "rated", f"{rating} {note}".strip())
        if rating == "不满意":
            settings = self.org.settings
            rule = settings.sla.urgent if t.urgency == "urgent" else settings.sla.normal
            t.status = "accepted"
            t.reopen_count += 1
            t.resolved_at = None
            t.resolve_by = due_after(now, rule.resolve, settings.calendar, settings.tz)
            t.escalation_level = 0
            self.timers.reset_after_reopen(t)
            self._event(t, None, "reopened", note)
            grid = self.org.node(t.grid_id) if t.grid_id else None
            if grid is not None:
                mentions = (t.assignee_id,) if t.assignee_id else ()
                self.outbox.to_room(grid, texts.reopened(t, self._name(t.assignee_id), note, settings.tz),
                                    mentions)
        else:
            t.status = "closed"
            t.closed_at = now
            self._event(t, None, "closed")
        return t

    def decline(self, no: str, reason: str, actor: Actor) -> tuple[Ticket, bool]:
        """#不受理: the reporter is told why; `不是问题` in the reason also teaches the classifier.
        Returns the ticket and whether it was recorded as a classifier mistake."""
        t = self.get(no)
        self._require_handler(t, actor, "不受理")
        self._require_status(t, ("open", "accepted"), "不受理")
        t.status = "declined"
        t.closed_at = self.clock.now()
        self._event(t, actor, "declined", reason)
        self.timers.plan(t)
        self._reply_to_source(t, texts.declined(t, actor.name, reason), mention_reporter=True)
        taught = learning.NOT_A_PROBLEM in reason
        if taught:
            self._teach(t, learning.NOT_ISSUE, actor)
        return t, taught

    def _teach(self, t: Ticket, kind: str, actor: Actor, department: str | None = None) -> None:
        """Record a correction of the classifier by this ticket (a forwarded chat record is many
        messages in one text and teaches nothing)."""
        if not t.text.startswith(texts.FORWARDED_RECORD):
            learning.record(self.s, self.clock, kind, t.text, actor.contact_id, ticket=t, department=department)

    def cancel(self, no: str, actor: Actor) -> Ticket:
        t = self.get(no)
        node = self.org.node(t.node_id)
        if actor.contact_id != t.reporter_id and not self.org.holds_role(actor.contact_id, ADMIN_ROLES, node):
            raise UserError(texts.NOT_ALLOWED_CANCEL.format(no=no))
        self._require_status(t, ("open", "accepted"), "撤销")
        t.status = "cancelled"
        t.closed_at = self.clock.now()
        self._event(t, actor, "cancelled")
        self.timers.plan(t)
        return t

    def nudge(self, no: str, actor: Actor) -> Ticket:
        """#催办: the reporter, a follower or an admin above nudges the assignee, once an hour at most."""
        t = self.get(no)
        node = self.org.node(t.node_id)
        allowed = (actor.contact_id == t.reporter_id
                   or self.s.get(TicketFollower, (t.id, actor.contact_id)) is not None
                   or self.org.holds_role(actor.contact_id, ADMIN_ROLES, node))
        if not allowed:
            raise UserError(texts.NOT_ALLOWED_NUDGE.format(no=no))
        self._require_status(t, ("open", "accepted"), "催办")
        now = self.clock.now()
        if t.last_nudged_at is not None and now - t.last_nudged_at < NUDGE_INTERVAL:
            raise UserError(texts.nudge_too_soon(t, t.last_nudged_at, self.org.settings.tz))
        t.last_nudged_at = now
        self._event(t, actor, "nudged")
        text = texts.nudge(t, self._name(t.assignee_id), actor.name)
        mentions = (t.assignee_id,) if t.assignee_id else ()
        grid = self.org.node(t.grid_id) if t.grid_id else None
        if grid is None or not self.outbox.to_room(grid, text, mentions, urgent=t.urgency == "urgent"):
            if t.assignee_id:
                self.outbox.post(Outgoing(text=text, to=t.assignee_id))
        return t

    # ---- rules ----------------------------------------------------------------------------
    def may_read(self, t: Ticket, contact_id: str) -> bool:
        """SPEC §5.1: its reporter and followers, staff whose reach contains its node, the liaisons of
        its department (and so admins above). Nobody else sees another person's report."""
        if contact_id == t.reporter_id or self.s.get(TicketFollower, (t.id, contact_id)) is not None:
            return True
        return (self.org.is_liaison(contact_id, t.department)
                or self.org.holds_role(contact_id, NODE_STAFF, self.org.node(t.node_id)))

    def may_handle(self, t: Ticket, contact_id: str) -> bool:
        """Assignee, grid_worker/police of the ticket's grid (or above), the department's liaison, or an
        admin over the ticket's node."""
        if contact_id == t.assignee_id or self.org.is_liaison(contact_id, t.department):
            return True
        node = self.org.node(t.node_id)
        if self.org.holds_role(contact_id, ADMIN_ROLES, node):
            return True
        scope = self.org.node(t.grid_id) if t.grid_id else node
        return self.org.holds_role(contact_id, HANDLER_ROLES, scope)

    def _require_handler(self, t: Ticket, actor: Actor, action: str) -> None:
        if not self.may_handle(t, actor.contact_id):
            raise UserError(texts.NOT_ALLOWED_HANDLE.format(dept=texts.dept(t.department), action=action,
                                                            no=t.no))

    @staticmethod
    def _require_status(t: Ticket, allowed: tuple[str, ...], action: str) -> None:
        if t.status not in allowed:
            raise UserError(texts.BAD_STATUS.format(no=t.no, status=texts.STATUS_NAMES[t.status], action=action))

    def _event(self, t: Ticket, actor: Actor | None, kind: str, detail: str = "") -> None:
        self.s.add(t)
        self.s.add(TicketEvent(ticket_id=t.id, at=self.clock.now(), kind=kind, detail=detail,
                               actor_id=actor.contact_id if actor else None,
                               actor_name=actor.name if actor else ""))

    def _name(self, contact_id: str | None) -> str | None:
        return self.org.name_of(contact_id) if contact_id else None


def ticket_json(t: Ticket, node_path: str, followers: list[str], tz) -> dict:
    """The SPEC §6.2 `tickets --json` shape."""

    def iso(dt: datetime | None) -> str | None:
        return dt.astimezone(tz).isoformat() if dt else None

    return {
        "no": t.no, "status": t.status, "department": t.department, "urgency": t.urgency,
        "node": node_path, "reporter": t.reporter_id, "assignee": t.assignee_id, "followers": followers,
        "created_at": iso(t.created_at), "accept_by": iso(t.accept_by), "resolve_by": iso(t.resolve_by),
        "escalation_level": t.escalation_level, "text": t.text,
    }


def ticket_rows(session: Session) -> list[tuple[Ticket, str, list[str]]]:
    """Every ticket with its node path and follower ids, in number order (three queries in all)."""
    tickets = list(session.exec(select(Ticket).order_by(Ticket.id)).all())
    paths = dict(session.exec(select(Node.id, Node.path)).all())
    followers: dict[int, list[str]] = {}
    for f in session.exec(select(TicketFollower).order_by(TicketFollower.ticket_id)).all():
        followers.setdefault(f.ticket_id, []).append(f.contact_id)
    return [(t, paths.get(t.node_id, ""), followers.get(t.id, [])) for t in tickets]
