"""Ticket deadlines that act (SPEC §3, §5.1): the accept-overdue reminder and escalation, the reminder
before the resolve deadline, escalation one level up (逐级转报) when it passes and again each further
working day (every 2 h when urgent), up to the county; and 回访: one reminder to rate 24 h after the
resolution, closing as 未评价 after 72 h.

The ticket row is the record of what is due: `next_action_at` says when to look again, and the
`*_at` fields say what has been done, so a restart or a virtual clock computes the same work.
Reminders and escalations due together for one room are gathered into one list message (Outbox.gather)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.domain import texts
from bot.domain.deadlines import OVERDUE_ACCEPT, OVERDUE_RESOLVE
from bot.domain.org import OrgDirectory
from bot.outbox import NORMAL, URGENT, Outbox, quiet_until
from bot.storage.models import Node, Ticket, TicketEvent
from bot.transport import Outgoing

ACTIVE = ("open", "accepted")
TIMED = (*ACTIVE, "resolved")            # statuses the sweep looks at (resolved: 回访)
RATE_REMINDER_AFTER = timedelta(hours=24)
CLOSE_UNRATED_AFTER = timedelta(hours=72)
PRE_RESOLVE_LEAD = {"urgent": timedelta(minutes=30), "normal": timedelta(hours=24)}
URGENT_REPEAT = timedelta(hours=2)


class TicketTimers:
    def __init__(self, session: Session, clock: Clock, org: OrgDirectory, outbox: Outbox) -> None:
        self.s = session
        self.clock = clock
        self.org = org
        self.outbox = outbox

    # ---- planning -------------------------------------------------------------------------
    @staticmethod
    def pending(t: Ticket) -> list[tuple[datetime, str]]:
        """The actions still to come for this ticket, as (due, kind)."""
        if t.status == "resolved":
            return TicketTimers._revisit(t)
        if t.status not in ACTIVE:
            return []
        actions = []
        if t.status == "open" and t.accept_reminded_at is None:
            actions.append((t.accept_by, "accept_overdue"))
        if t.pre_reminded_at is None:
            actions.append((t.resolve_by - PRE_RESOLVE_LEAD[t.urgency], "pre_resolve"))
        if t.next_escalation_at is not None:
            actions.append((t.next_escalation_at, "escalate"))
        return sorted(actions)

    @staticmethod
    def _revisit(t: Ticket) -> list[tuple[datetime, str]]:
        if t.resolved_at is None or t.rating is not None:
            return []
        actions = [] if t.rate_reminded_at is not None else [(t.resolved_at + RATE_REMINDER_AFTER, "rate_reminder")]
        return actions + [(t.resolved_at + CLOSE_UNRATED_AFTER, "close_unrated")]

    def plan(self, t: Ticket) -> None:
        actions = self.pending(t)
        t.next_action_at = actions[0][0] if actions else None
        self.s.add(t)

    def reset_after_reopen(self, t: Ticket) -> None:
        t.pre_reminded_at = None
        t.next_escalation_at = t.resolve_by
        self.plan(t)

    def restart_accept(self, t: Ticket) -> None:
        """A new accept deadline (#指派 to someone new): its reminder is due again."""
        t.accept_reminded_at = None
        self.plan(t)

    def restart_resolve(self, t: Ticket) -> None:
        """A later resolve deadline (#同意延期): its reminder and escalation move with it. A reminder
        whose lead time has already begun is not sent: the approval itself names the new deadline."""
        lead_starts = t.resolve_by - PRE_RESOLVE_LEAD[t.urgency]
        t.pre_reminded_at = self.clock.now() if lead_starts <= self.clock.now() else None
        t.next_escalation_at = t.resolve_by
        self.plan(t)

    def start_revisit(self, t: Ticket) -> None:
        """A resolution (the first, or again after a 不满意 reopened it) starts a new 回访: the rating
        asked for is a new one (the earlier 不满意 stays in the ticket's events)."""
        t.rate_reminded_at = None
        t.rating = None
        self.plan(t)

    def start(self, t: Ticket) -> None:
        """A new ticket: escalation starts at the resolve deadline."""
        t.next_escalation_at = t.resolve_by
        self.plan(t)

    # ---- running --------------------------------------------------------------------------
    def next_due(self, now: datetime) -> tuple[int, str, datetime] | None:
        """The ticket whose action is due first by `now`, as (id, number, due), locked for this
        transaction (SKIP LOCKED: one a command is changing waits for the next sweep). Its key rather
        than the row, so a row that no longer loads can still be reported and put off."""
        key = self.s.exec(
            select(Ticket.id, Ticket.no, Ticket.next_action_at)
            .where(col(Ticket.next_action_at) <= now, col(Ticket.status).in_(TIMED))
            .order_by(Ticket.next_action_at, Ticket.id).limit(1).with_for_update(skip_locked=True)).first()
        return (key[0], key[1], key[2]) if key is not None else None

    def run(self, t: Ticket) -> None:
        """Do every action of `t` that is due now, in time order."""
        now = self.clock.now()
        for due, kind in self.pending(t):
            if due > now:
                break
            getattr(self, f"_{kind}")(t, due)
        self.plan(t)

    def _accept_overdue(self, t: Ticket, due: datetime) -> None:
        t.accept_reminded_at = self.clock.now()
        reminded = self._remind_assignee(t, texts.accept_overdue(t, self._assignee_name(t), self.org.settings.tz),
                                         due, to_assign=True)
        self._escalate_once(t, due, OVERDUE_ACCEPT, told=reminded)

    def _pre_resolve(self, t: Ticket, due: datetime) -> None:
        t.pre_reminded_at = self.clock.now()
        self._remind_assignee(t, texts.resolve_soon(t, self._assignee_name(t), self.org.settings.tz), due)

    def _escalate(self, t: Ticket, due: datetime) -> None:
        more = self._escalate_once(t, due, OVERDUE_RESOLVE)
        if not more:
            t.next_escalation_at = None
        elif t.urgency == "urgent":
            t.next_escalation_at = due + URGENT_REPEAT
        else:
            settings = self.org.settings
            local = due.astimezone(settings.tz)
            day = settings.calendar.add_workdays(local.date(), 1)
            t.next_escalation_at = datetime.combine(day, local.time(), settings.tz)

    def _rate_reminder(self, t: Ticket, due: datetime) -> None:
        """回访: one reminder to rate, where it was reported, mentioning the reporter (held by quiet hours,
        as it is never urgent). Not sent when the ticket is closing as 未评价 in the same sweep."""
        t.rate_reminded_at = self.clock.now()
        close_at = t.resolved_at + CLOSE_UNRATED_AFTER
        if self.clock.now() >= close_at:
            return
        held = quiet_until(max(due, self.clock.now()), self.org.settings.tz)
        item = texts.rate_reminder(t, close_at, self.org.settings.tz)
        self.outbox.gather(Outgoing.at(t.source, item, (t.reporter_id,)), item, "", texts.gathered_revisits,
                           kind="revisit", not_before=held or due, late_after=due, priority=NORMAL)
        self.s.add(TicketEvent(ticket_id=t.id, at=self.clock.now(), kind="rate_reminded"))

    def _close_unrated(self, t: Ticket, due: datetime) -> None:
        t.status = "closed"
        t.closed_at = self.clock.now()
        self.s.add(TicketEvent(ticket_id=t.id, at=self.clock.now(), kind="closed", detail=texts.UNRATED))

    def _escalate_once(self, t: Ticket, due: datetime, reason: str, told: Node | None = None) -> bool:
        """Raise the ticket one level and tell that level's room; False once the county is reached.
        `told`: the room just reminded, with its admins mentioned (a ticket no grid holds): not told
        the same thing twice in one moment."""
        chain = self._chain(t)
        if t.escalation_level >= len(chain):
            return False
        t.escalation_level += 1
        target = chain[t.escalation_level - 1]
        if told is not None and told.id == target.id:
            self.s.add(t)
            return t.escalation_level < len(chain)
        admins = self.org.members_at(target, "admin")
        overdue = self.clock.now() - (t.accept_by if reason == OVERDUE_ACCEPT else t.resolve_by)
        item = texts.escalation(t, texts.OVERDUE_NAMES[reason], overdue, self._assignee_name(t),
                                self.org.node(t.node_id).path)
        self._post(target, item, tuple(m.contact_id for m in admins), t, due, kind="escalation",
                   tail=texts.escalation_tail([m.name for m in admins]))
        self.s.add(t)
        return t.escalation_level < len(chain)

    def _chain(self, t: Ticket) -> list[Node]:
        """Rooms escalation climbs through: the grid's ancestors, nearest first (community, town, county).
        A ticket at the county itself (a 1:1 report from someone not in the org) escalates at the
        county: the top of the chain."""
        base = self.org.node(t.grid_id) if t.grid_id else self.org.node(t.node_id)
        return self.org.ancestors(base) or [base]

    def _remind_assignee(self, t: Ticket, text: str, due: datetime, to_assign: bool = False) -> Node | None:
        """Remind the assignee in the grid room (or 1:1). A ticket nobody is assigned and no grid holds
        is its node's to assign: the nearest room at or above it is reminded, its admins mentioned
        (`to_assign`: the accept deadline passed, so they are asked to assign it). Returns that room
        when it was the one reminded."""
        grid = self.org.node(t.grid_id) if t.grid_id else None
        mentions = (t.assignee_id,) if t.assignee_id else ()
        if grid is not None and grid.address is not None:
            self._post(grid, text, mentions, t, due, kind="reminder")
        elif t.assignee_id:
            self.outbox.gather(Outgoing(text=text, to=t.assignee_id), text, "", texts.gathered_reminders,
                               kind="reminder", **self._timing(t, due))
        elif grid is None and (room := self.org.nearest_room(self.org.node(t.node_id))) is not None:
            admins = self.org.members_at(room, "admin")
            if to_assign:
                text = texts.unassigned_overdue(t, [m.name for m in admins], self.org.settings.tz)
            self._post(room, text, tuple(m.contact_id for m in admins), t, due, kind="reminder")
            return room
        return None

    def _post(self, room: Node, item: str, mentions: tuple[str, ...], t: Ticket, due: datetime,
              kind: str, tail: str = "") -> None:
        """Into the room's list of this sweep's escalations (or reminders), one message however many."""
        if room.address is None:
            return
        compose = texts.gathered_escalations if kind == "escalation" else texts.gathered_reminders
        self.outbox.gather(Outgoing.at(room.address, item, mentions, urgent=t.urgency == "urgent"), item, tail,
                           compose, kind=kind, account=room.account, **self._timing(t, due))

    def _timing(self, t: Ticket, due: datetime) -> dict:
        # Non-urgent reminders wait out quiet hours; urgent ones never wait.
        if t.urgency == "urgent":
            return {"not_before": due, "late_after": due, "priority": URGENT}
        held = quiet_until(max(due, self.clock.now()), self.org.settings.tz)
        return {"not_before": held or due, "late_after": due, "priority": NORMAL}

    def _assignee_name(self, t: Ticket) -> str | None:
        return self.org.name_of(t.assignee_id) if t.assignee_id else None
