"""The ticket's life (SPEC §3, §5.1): opening with routing and deadlines, acceptance, transfer,
assignment, merging, supervision, extension, resolution, rating, cancellation and reopening — with
the permission rules, an event for every change, and everyone involved told of it once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, or_, select

from bot.clock import Clock
from bot.domain import learning, texts
from bot.domain.deadlines import due_after, overdue_kinds, ticket_deadlines
from bot.domain.evidence import attach_recent, evidence_of
from bot.domain.org import OrgDirectory, Room
from bot.domain.places import PlaceQuestions
from bot.domain.permissions import ADMIN_ROLES, HANDLER_ROLES, NODE_STAFF
from bot.domain.similarity import different_problems, similar
from bot.domain.timers import TicketTimers
from bot.domain.told import Told
from bot.errors import UserError
from bot.outbox import Outbox
from bot.storage.models import Counter, Membership, Node, Ticket, TicketEvent, TicketFollower
from bot.transport import Address, Outgoing

POLICE_DEPARTMENTS = frozenset({"police", "traffic"})
GRID_WORKER = frozenset({"grid_worker"})
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
    def __init__(self, session: Session, clock: Clock, org: OrgDirectory, outbox: Outbox, *, via: str = "") -> None:
        """`via`: the changes come through another channel than chat (the web board); its events say so."""
        self.s = session
        self.via = via
        self.clock = clock
        self.org = org
        self.outbox = outbox
        self.timers = TicketTimers(session, clock, org, outbox)
        self.places = PlaceQuestions(self)

    # ---- opening --------------------------------------------------------------------------
    def open(self, report: Report, reporter: Actor, room: Room, source: Address, *,
             teaches: str | None = None) -> Ticket:
        """Open a ticket, or join the reporter to an open ticket for the same problem (SPEC §3).
        `teaches`: a new ticket is also a correction of the classifier of this kind (a problem it
        ignored, reported with #上报 or confirmed from the 待确认 list)."""
        settings = self.org.settings
        now = self.clock.now()
        home = room.node or self.org.home_node(reporter.contact_id)
        # Someone not in the org telling the bot 1:1: the county's until they say where they live.
        stranded = home is None and source.room_id is None and source.room_topic is None
        node = home or self.org.root()
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
        if stranded:
            self.places.ask(ticket)
        return ticket

    def open_forwarded(self, found: list[tuple[str, str, object]], reporter: Actor, room: Room,
                       source: Address) -> list[Ticket]:
        """A forwarded chat record's problems, as (speaker's name, text, classification) in record
        order: one ticket per problem (lines about the same thing at the same place, whatever the
        department each line alone reads as), its reporter the forwarder, its text the speakers' lines
        under their names, urgent when any of its lines is, its department that of its urgent line or
        else of the line the classifier is surest of."""
        problems: list[list[tuple[str, str, object]]] = []
        for line in found:
            _, said, c = line
            group = next((g for g in problems
                          if similar(said, c.location, set(c.keywords), g[0][1], g[0][2].location,
                                     set(g[0][2].keywords))), None)
            # Otherwise a line of a department already found that names no other problem and no other
            # place goes with it, as before: a record of many lines is never a flood of tickets.
            group = group or next((g for g in problems if g[0][2].department == c.department
                                   and not different_problems(said, c.location, g[0][1], g[0][2].location)),
                                  None)
            if group is None:
                problems.append([line])
            else:
                group.append(line)
        opened = []
        for lines in problems:
            text = "\n".join(f"{name or '群友'}：{said}" for name, said, _ in lines)
            urgent = [c for _, _, c in lines if c.urgency == "urgent"]
            lead = max(urgent or [c for _, _, c in lines], key=lambda c: c.confidence)
            opened.append(self.open(Report(text=f"{texts.FORWARDED_RECORD}{text}", department=lead.department,
                                           urgency="urgent" if urgent else "normal",
                                           keywords=tuple(dict.fromkeys(k for _, _, c in lines for k in c.keywords)),
                                           location=next((c.location for _, _, c in lines if c.location), None)),
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
            self._add_follower(t, who.contact_id, who.name, where)
            self._event(t, who, "followed", text)
        self.outbox.post(Outgoing.at(where, reply))

    def _add_follower(self, t: Ticket, contact_id: str, name: str, where: Address) -> None:
        self.s.add(TicketFollower(ticket_id=t.id, contact_id=contact_id, name=name,
                                  source_room_id=where.room_id, source_room_topic=where.room_topic))

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
        self._alert_grid(t, node, grid, assignee_name)
        self._dispatch_to_department(t, node, relayed, assignee_name)
        if t.urgency == "urgent":
            county = self.org.root()
            if county.address != t.source:
                self.outbox.to_room(county, texts.urgent_alert(t, node.path, relayed, assignee_name, tz),
                                    urgent=True)

    def _alert_grid(self, t: Ticket, node: Node, grid: Node | None, assignee_name: str | None) -> None:
        """The grid room hears of a ticket new to it, the assignee mentioned; with no grid above the
        node (a report in a town room, or 1:1 from someone not in the org) the nearest room up the
        tree, its admins mentioned, so someone assigns it."""
        tz = self.org.settings.tz
        relayed = texts.relayed(t)
        if grid is not None:
            if grid.address != t.source:
                mentions = (t.assignee_id,) if t.assignee_id else ()
                self.outbox.to_room(grid, texts.grid_alert(t, node.path, relayed, assignee_name, tz), mentions,
                                    urgent=t.urgency == "urgent")
            return
        home = self.org.nearest_room(node)
        county_covers_it = t.urgency == "urgent" and home is not None and home.parent_id is None
        if home is not None and home.address != t.source and not county_covers_it:
            admins = self.org.members_at(home, "admin")
            self.outbox.to_room(home, texts.grid_alert(t, node.path, relayed, None, tz, [m.name for m in admins]),
                                tuple(m.contact_id for m in admins), urgent=t.urgency == "urgent")

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
        merged_into = self.s.get(Ticket, t.merged_into_id) if t.merged_into_id else None
        return texts.ticket_detail(t, self.org.node(t.node_id).path, self._name(t.assignee_id), self.events(t),
                                   self.org.settings.tz, evidence_of(self.s, t),
                                   merged_into=merged_into.no if merged_into else None,
                                   overdue_kinds=overdue_kinds(t, self.clock.now()))

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
    # `here`: where the command was typed. That room gets the command's reply, so the people told of
    # a change (bot/domain/told.py) are told everywhere else, once each.
    def accept(self, no: str, actor: Actor, here: Address | None = None) -> Ticket:
        t = self.get(no)
        self._require_handler(t, actor, "受理")
        self._require_status(t, ("open",), "受理")
        t.status = "accepted"
        t.accepted_at = self.clock.now()
        self._event(t, actor, "accepted")
        self.timers.plan(t)
        self._tell_involved(t, here, texts.accepted(t, actor.name), county=True)
        return t

    def transfer(self, no: str, department: str, actor: Actor,
                 here: Address | None = None) -> tuple[Ticket, str | None]:
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
        told = Told(self.outbox, here, urgent=t.urgency == "urgent")
        told.tell_room(self._handling_room(t), texts.transferred(t, old, actor.name))
        if old is not None:
            told.tell_room(self.org.department_room(old), texts.transferred_away(t, old, actor.name))
        told.post()
        return t, old

    def resolve(self, no: str, note: str, actor: Actor, here: Address | None = None) -> Ticket:
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
        self._tell_involved(t, here, texts.resolved(t, actor.name), county=True,
                            to_reporter=texts.rate_request(t, t.reporter_name))
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

    def decline(self, no: str, reason: str, actor: Actor, here: Address | None = None) -> tuple[Ticket, bool]:
        """#不受理: the reporter is told why; `不是问题` in the reason also teaches the classifier.
        Returns the ticket and whether it was recorded as a classifier mistake."""
        t = self.get(no)
        self._require_handler(t, actor, "不受理")
        self._require_status(t, ("open", "accepted"), "不受理")
        t.status = "declined"
        t.closed_at = self.clock.now()
        self._event(t, actor, "declined", reason)
        self.timers.plan(t)
        self._tell_involved(t, here, texts.declined_told(t, actor.name, reason),
                            to_reporter=texts.declined(t, actor.name, reason))
        taught = learning.NOT_A_PROBLEM in reason
        if taught:
            self._teach(t, learning.NOT_ISSUE, actor)
        return t, taught

    def _teach(self, t: Ticket, kind: str, actor: Actor, department: str | None = None) -> None:
        """Record a correction of the classifier by this ticket (a forwarded chat record is many
        messages in one text and teaches nothing)."""
        if not t.text.startswith(texts.FORWARDED_RECORD):
            learning.record(self.s, self.clock, kind, t.text, actor.contact_id, ticket=t, department=department)

    def cancel(self, no: str, actor: Actor, here: Address | None = None) -> Ticket:
        t = self.get(no)
        node = self.org.node(t.node_id)
        if actor.contact_id != t.reporter_id and not self.org.holds_role(actor.contact_id, ADMIN_ROLES, node):
            raise UserError(texts.NOT_ALLOWED_CANCEL.format(no=no))
        self._require_status(t, ("open", "accepted"), "撤销")
        t.status = "cancelled"
        t.closed_at = self.clock.now()
        self._event(t, actor, "cancelled")
        self.timers.plan(t)
        # The assignee stops working on it: mentioned in the grid room, or told 1:1 when it has none.
        assignee = self._person(t.assignee_id) if t.assignee_id != actor.contact_id else None
        text = texts.cancelled(t, actor.name)
        told = self._tell_involved(t, here, text, post=False,
                                   to_grid=texts.with_mentions([assignee[1]] if assignee else [], text),
                                   grid_mentions=(assignee,) if assignee else ())
        if assignee and self._handling_room(t) is None:
            told.tell(Address.of_person(assignee[0]), text)
        told.post()
        return t

    def assign(self, no: str, target: str, actor: Actor,
               here: Address | None = None) -> tuple[Ticket, Node, str, bool]:
        """#指派: hand the ticket to a grid (its first grid_worker, or police member for police tickets,
        becomes the assignee) or to a named member, within the sender's reach. The ticket goes back
        to 待受理 for the new assignee, with a fresh accept deadline; its resolve deadline stands.
        Returns the ticket, the node it went to, the new assignee's name and whether the alert went to
        `here` (then it stands as the reply)."""
        t = self.get(no)
        node = self.org.node(t.node_id)
        grid = self.org.node(t.grid_id) if t.grid_id else None
        reach = self._admin_nodes(actor.contact_id, node)
        if grid is not None and self.org.holds_role(actor.contact_id, GRID_WORKER, grid):
            reach.append(grid)
        if not reach:
            raise UserError(texts.NOT_ALLOWED_ASSIGN.format(no=no))
        self._require_status(t, ("open", "accepted"), "指派")
        place, person = self._assign_target(target, reach)
        new_grid = self.org.grid_of(place)
        if person is None:
            found = self.assignee_for(new_grid, t.department)
            if found is None:
                raise UserError(texts.ASSIGN_NO_WORKER.format(grid=place.name))
            person = found
        if person[0] == t.assignee_id and (new_grid.id if new_grid else None) == t.grid_id:
            raise UserError(texts.ASSIGN_SAME.format(no=no, name=person[1]))
        old_room = self._handling_room(t)
        t.place_asked_at = None          # handed on: the reporter is no longer asked where they live
        t.grid_id = new_grid.id if new_grid else None
        if not self.org.contains(place, node):
            # The ticket now belongs where it was sent (a 1:1 report filed at the county, a town-room
            # report): that node's staff read it, and its lists and escalation count it.
            t.node_id = place.id
            node = place
        t.assignee_id = person[0]
        settings = self.org.settings
        rule = settings.sla.urgent if t.urgency == "urgent" else settings.sla.normal
        t.status = "open"
        t.accepted_at = None
        t.accept_by = due_after(self.clock.now(), rule.accept, settings.calendar, settings.tz)
        self.timers.restart_accept(t)
        self._event(t, actor, "assigned", f"{place.path} {person[1]}")
        told = Told(self.outbox, here, urgent=t.urgency == "urgent")
        alert = texts.assigned_alert(t, node.path, texts.relayed(t), person[1], actor.name, settings.tz)
        new_room = self._handling_room(t)
        # The new assignee is mentioned even in the room the command was typed in: there the alert is the reply.
        if not told.tell_room(new_room, alert, (person,), even_here=True):
            told.tell(Address.of_person(person[0]), alert, even_here=True)
        if old_room is not None and (new_room is None or old_room.id != new_room.id):
            told.tell_room(old_room, texts.assigned_away(t, actor.name, person[1], place.name))
        was_here = told.told(here)
        told.post()
        return t, place, person[1], was_here

    def merge(self, no: str, into_no: str, actor: Actor, here: Address | None = None) -> tuple[Ticket, Ticket]:
        """#合并 T4 T3: T4's reporter and followers follow T3, T4 becomes 已合并 (no rating, no timers)."""
        if no == into_no:
            raise UserError(texts.MERGE_SELF.format(no=no))
        t, into = self.get(no), self.get(into_no)
        for ticket in (t, into):
            self._require_handler(ticket, actor, "合并")
            self._require_status(ticket, ("open", "accepted"), "合并")
        known = {into.reporter_id, *(f.contact_id for f in self.followers(into))}
        people = [(t.reporter_id, t.reporter_name, t.source)] + [(f.contact_id, f.name, f.source)
                                                                for f in self.followers(t)]
        for contact_id, name, where in people:
            if contact_id not in known:
                known.add(contact_id)
                self._add_follower(into, contact_id, name, where)
        t.status = "merged"
        t.closed_at = self.clock.now()
        t.merged_into_id = into.id
        self._event(t, actor, "merged", into.no)
        self._event(into, actor, "merged_in", t.no)
        self.timers.plan(t)
        told = self._tell_involved(t, here, texts.merged_told(t, into, actor.name), post=False,
                                   to_reporter=texts.merged(t, into))
        told.tell_room(self._handling_room(into), texts.merged_told(t, into, actor.name))
        told.post()
        return t, into

    def supervise(self, no: str, demand: str, actor: Actor, here: Address | None = None) -> bool:
        """#督办: an admin above marks the ticket 督办 and puts the demand to the assignee and the grid's
        admins. Returns whether the message went to `here` (then it is the reply)."""
        t = self.get(no)
        self._require_admin_above(t, actor, "督办")
        self._require_status(t, ("open", "accepted"), "督办")
        t.supervised_at = self.clock.now()
        self._event(t, actor, "supervised", demand)
        people = [p for p in [self._person(t.assignee_id), *self._grid_admins(t)]
                  if p is not None and p[0] != actor.contact_id]
        people = list(dict((p[0], p) for p in people).values())
        text = texts.supervised(t, actor.name, demand, [name for _, name in people], self.org.settings.tz)
        return self._tell_people(t, here, text, people)

    def request_extension(self, no: str, until: datetime, reason: str, actor: Actor,
                          here: Address | None = None) -> tuple[Ticket, Node, bool]:
        """#延期: the assignee (or the grid's worker) asks the admins of the grid's parent node for a later
        resolve_by. Returns the ticket, the deciding node, and whether the request went to `here`."""
        t = self.get(no)
        grid = self.org.node(t.grid_id) if t.grid_id else None
        if actor.contact_id != t.assignee_id and not (
                grid is not None and self.org.holds_role(actor.contact_id, GRID_WORKER, grid)):
            raise UserError(texts.NOT_ALLOWED_EXTEND.format(no=no))
        self._require_status(t, ("open", "accepted"), "申请延期")
        tz = self.org.settings.tz
        if t.extension_until is not None:
            raise UserError(texts.EXTENSION_PENDING.format(no=no, until=texts.when(t.extension_until, tz)))
        if until <= t.resolve_by:
            raise UserError(texts.EXTENSION_NOT_LATER.format(no=no, resolve_by=texts.when(t.resolve_by, tz)))
        now = self.clock.now()
        t.extension_until = until
        t.extension_reason = reason
        t.extension_requested_by = actor.contact_id
        t.extension_requested_at = now
        self._event(t, actor, "extension_requested", f"至{texts.when(until, tz)}：{reason}")
        decider = self._extension_decider(t)
        admins = [(m.contact_id, m.name) for m in self.org.members_at(decider, "admin")]
        told = Told(self.outbox, None, urgent=t.urgency == "urgent")
        text = texts.extension_requested(t, actor.name, [n for _, n in admins], tz)
        if not told.tell_room(decider, text, tuple(admins)):
            for person in admins:
                told.tell(Address.of_person(person[0]), text)
        was_here = here is not None and told.told(here)
        told.post()
        return t, decider, was_here

    def decide_extension(self, no: str, approve: bool, reason: str, actor: Actor,
                         here: Address | None = None) -> tuple[Ticket, datetime, bool]:
        """#同意延期 / #驳回延期 by an admin of the grid's parent node (or above): approved, resolve_by
        moves and the deadline timers are planned anew. The assignee (and the requester) are told.
        Returns the ticket, the date asked for, and whether the answer went to `here`."""
        t = self.get(no)
        action = "同意延期" if approve else "驳回延期"
        if not self.org.holds_role(actor.contact_id, ADMIN_ROLES, self._extension_decider(t, climb=False)):
            raise UserError(texts.NOT_ALLOWED_DECIDE.format(no=no, action=action))
        self._require_status(t, ("open", "accepted"), action)
        if t.extension_until is None:
            raise UserError(texts.NO_EXTENSION.format(no=no))
        until, requester = t.extension_until, t.extension_requested_by
        tz = self.org.settings.tz
        t.extension_until = t.extension_reason = t.extension_requested_by = t.extension_requested_at = None
        if approve:
            old = t.resolve_by
            t.resolve_by = until
            self.timers.restart_resolve(t)
            self._event(t, actor, "extension_approved", f"{texts.when(old, tz)} → {texts.when(until, tz)}")
            text = texts.extension_approved(t, actor.name, tz)
        else:
            self._event(t, actor, "extension_rejected", reason)
            text = texts.extension_rejected(t, actor.name, until, reason, tz)
        people = [p for p in (self._person(t.assignee_id), self._person(requester)) if p is not None]
        people = list(dict((p[0], p) for p in people).values())
        return t, until, self._tell_people(t, here, texts.with_mentions([n for _, n in people], text), people)

    def reopen(self, no: str, reason: str, actor: Actor, here: Address | None = None) -> Ticket:
        """#重开: an admin above reopens a declined, merged, resolved or closed ticket. It goes back to
        处置中 if it had been accepted, else to 待受理; it counts as a reopen, gets new deadlines from
        now, and its timers and escalation start again from level 0."""
        t = self.get(no)
        self._require_admin_above(t, actor, "重开")
        self._require_status(t, ("declined", "merged", "resolved", "closed"), "重开")
        settings = self.org.settings
        rule = settings.sla.urgent if t.urgency == "urgent" else settings.sla.normal
        now = self.clock.now()
        t.status = "accepted" if t.accepted_at is not None else "open"
        if t.status == "open":
            t.accept_by = due_after(now, rule.accept, settings.calendar, settings.tz)
            t.accept_reminded_at = None
        t.resolve_by = due_after(now, rule.resolve, settings.calendar, settings.tz)
        t.reopen_count += 1
        t.resolved_at = t.closed_at = t.rating = t.merged_into_id = None
        t.escalation_level = 0
        self.timers.reset_after_reopen(t)
        self._event(t, actor, "reopened", reason)
        assignee = self._person(t.assignee_id)
        to_grid = texts.reopened_by(t, actor.name, reason, assignee[1] if assignee else None, settings.tz)
        told = self._tell_involved(t, here, texts.reopened_told(t, actor.name, settings.tz), post=False,
                                   to_grid=to_grid, grid_mentions=(assignee,) if assignee else ())
        if assignee and self._handling_room(t) is None:
            told.tell(Address.of_person(assignee[0]), to_grid)
        told.post()
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
            elif grid is None and (home := self.org.nearest_room(node)) is not None:
                # Nobody has it yet: the admins who must assign it are nudged.
                admins = self.org.members_at(home, "admin")
                heads = "".join(texts.mention(m.name) for m in admins)
                self.outbox.to_room(home, texts.nudge(t, None, actor.name).replace("】", "】" + heads, 1),
                                    tuple(m.contact_id for m in admins), urgent=t.urgency == "urgent")
        return t

    # ---- who is told ----------------------------------------------------------------------
    def _tell_involved(self, t: Ticket, here: Address | None, text: str, *, to_reporter: str | None = None,
                       to_grid: str | None = None, grid_mentions: tuple[tuple[str, str], ...] = (),
                       county: bool = False, post: bool = True) -> Told:
        """SPEC §5.1: the reporter (in the room they reported in, or 1:1) and the followers, the grid's
        room (the ticket's room up the tree when it has no grid), and for an urgent ticket, when
        `county`, the county room — each once, the command's room only with the reporter's message."""
        told = Told(self.outbox, here, urgent=t.urgency == "urgent")
        reporter = to_reporter or text
        told.tell(t.source, reporter, ((t.reporter_id, t.reporter_name),) if to_reporter else (), even_here=True)
        for f in self.followers(t):
            told.tell(f.source, text, ((f.contact_id, f.name),) if f.source.is_room else ())
        told.tell_room(self._handling_room(t), to_grid or text, grid_mentions)
        if county and t.urgency == "urgent":
            told.tell_room(self.org.root(), text)
        if post:
            told.post()
        return told

    def _tell_people(self, t: Ticket, here: Address | None, text: str, people: list[tuple[str, str]]) -> bool:
        """Mention `people` in the ticket's room, or tell each 1:1 when it has none. Returns whether the
        message went to `here` (then it stands as the command's reply)."""
        told = Told(self.outbox, None, urgent=t.urgency == "urgent")
        if not told.tell_room(self._handling_room(t), text, tuple(people)):
            for person in people:
                told.tell(Address.of_person(person[0]), text)
        was_here = here is not None and told.told(here)
        told.post()
        return was_here

    def _handling_room(self, t: Ticket) -> Node | None:
        """The room that handles the ticket: its grid's, or for a ticket without a grid the nearest
        room up the tree from its node (the one its new-ticket alert went to)."""
        if t.grid_id:
            grid = self.org.node(t.grid_id)
            return grid if grid.address is not None else None
        node = self.org.node(t.node_id)
        return next((n for n in [node, *self.org.ancestors(node)] if n.address is not None), None)

    def _grid_admins(self, t: Ticket) -> list[tuple[str, str] | None]:
        """The admins of the ticket's grid, or, as grids seldom have one, of the node above it."""
        base = self.org.node(t.grid_id) if t.grid_id else self.org.node(t.node_id)
        for node in [base, *self.org.ancestors(base)][:2]:
            admins = self.org.members_at(node, "admin")
            if admins:
                return [(m.contact_id, m.name) for m in admins]
        return []

    def _extension_decider(self, t: Ticket, climb: bool = True) -> Node:
        """The grid's parent node, whose admins decide a #延期 (for a ticket without a grid, its node's
        parent). `climb`: up to the nearest node that has admins, to know whom to ask."""
        base = self.org.node(t.grid_id) if t.grid_id else self.org.node(t.node_id)
        chain = self.org.ancestors(base) or [base]
        if not climb:
            return chain[0]
        return next((n for n in chain if self.org.members_at(n, "admin")), chain[0])

    def _admin_nodes(self, contact_id: str, over: Node) -> list[Node]:
        """The nodes at which the contact is an admin, when one of them is at or above `over`."""
        if not self.org.holds_role(contact_id, ADMIN_ROLES, over):
            return []
        nodes = [self.s.get(Node, m.node_id) for m in self.org.memberships(contact_id)
                 if m.role in ADMIN_ROLES and m.node_id is not None]
        return [n for n in nodes if n is not None and n.active]

    def _assign_target(self, target: str, reach: list[Node]) -> tuple[Node, tuple[str, str] | None]:
        """What #指派 names: a node (a path, a grid's name or the end of a path) at or below grid level,
        or a member of the org by name or contact id — within `reach`. Returns the node, and the
        person when one was named."""
        name = target.strip().lstrip("@").replace("\u2005", "").strip()
        within = [n for n in self._nodes_named(name) if any(self.org.contains(r, n) for r in reach)]
        if len(within) > 1:
            raise UserError(texts.ASSIGN_AMBIGUOUS.format(target=name, paths="、".join(n.path for n in within[:5])))
        if within:
            place = within[0]
            if self.org.grid_of(place) is None:
                raise UserError(texts.ASSIGN_ABOVE_GRID.format(target=place.name))
            return place, None
        members = [m for m in self.s.exec(select(Membership).where(
            or_(Membership.name == name, Membership.contact_id == name),
            Membership.node_id.is_not(None))).all()]
        for m in members:
            place = self.s.get(Node, m.node_id)
            if place is not None and place.active and any(self.org.contains(r, place) for r in reach):
                return place, (m.contact_id, m.name)
        if members or self._nodes_named(name):
            raise UserError(texts.ASSIGN_OUT_OF_REACH.format(target=name))
        raise UserError(texts.ASSIGN_UNKNOWN.format(target=name))

    def _nodes_named(self, name: str) -> list[Node]:
        if not name:
            return []
        exact = self.org.node_by_path(name)
        if exact is not None:
            return [exact]
        return [n for n in self.org.nodes() if n.path.endswith("/" + name)]

    # ---- rules ----------------------------------------------------------------------------
    def may_read(self, t: Ticket, contact_id: str) -> bool:
        """SPEC §5.1: its reporter and followers, staff whose reach contains its node, the liaisons of
        its department (and so admins above). Nobody else sees another person's report."""
        if contact_id in (t.reporter_id, t.assignee_id) or self.s.get(TicketFollower, (t.id, contact_id)) is not None:
            return True      # the assignee too: #指派 may hand it to someone whose reach does not hold its node
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

    def _require_admin_above(self, t: Ticket, actor: Actor, action: str) -> None:
        if not self.org.holds_role(actor.contact_id, ADMIN_ROLES, self.org.node(t.node_id)):
            raise UserError(texts.NOT_ALLOWED_ADMIN.format(action=action, no=t.no))

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
        if self.via and actor is not None:
            detail = f"{detail}（{texts.via(self.via)}）" if detail else texts.via(self.via)
        self.s.add(TicketEvent(ticket_id=t.id, at=self.clock.now(), kind=kind, detail=detail,
                               actor_id=actor.contact_id if actor else None,
                               actor_name=actor.name if actor else ""))

    def _name(self, contact_id: str | None) -> str | None:
        return self.org.name_of(contact_id) if contact_id else None

    def _person(self, contact_id: str | None) -> tuple[str, str] | None:
        return (contact_id, self.org.name_of(contact_id)) if contact_id else None


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
