"""Database tables. Every stored time is timezone-aware UTC (SQLModel's DateTime type enforces it)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from bot.transport import Address


class OrgMeta(SQLModel, table=True):
    """The org file's settings that are not tree nodes (one row)."""

    id: int = Field(default=1, primary_key=True)
    county: str
    timezone: str = "Asia/Shanghai"
    sla: str = "{}"             # JSON: {"urgent": {"accept": "10m", ...}, ...}
    holidays: str = "[]"        # JSON list of ISO dates
    workdays: str = "[]"
    imported_at: datetime


class Node(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(unique=True)      # 遂川县/泉江镇/城南社区
    name: str
    level: str
    depth: int
    parent_id: int | None = Field(default=None, foreign_key="node.id")
    room_topic: str | None = Field(default=None, index=True)
    room_id: str | None = Field(default=None, index=True)   # the transport's id once bound
    account: str | None = None        # the bot account that sits in this room (several-account setups)
    active: bool = True

    @property
    def address(self) -> Address | None:
        """The node's group, or None when it has none. A node gone from the org file has none: nothing
        the bot says about its tickets goes to a group that is no longer part of the tree."""
        return Address.room(self.room_id, self.room_topic) if self.active else None


class DepartmentRoom(SQLModel, table=True):
    code: str = Field(primary_key=True)
    room_topic: str | None = Field(default=None, index=True)
    room_id: str | None = Field(default=None, index=True)
    account: str | None = None

    @property
    def address(self) -> Address | None:
        return Address.room(self.room_id, self.room_topic)


class Membership(SQLModel, table=True):
    """A role held by a contact at a node (reaching its subtree) or in a department."""

    id: int | None = Field(default=None, primary_key=True)
    contact_id: str = Field(index=True)
    name: str
    role: str
    node_id: int | None = Field(default=None, foreign_key="node.id", index=True)
    department: str | None = None
    position: int = 0          # order in the org file: "the grid's first grid_worker"


class Counter(SQLModel, table=True):
    """Sequence numbers for T- and N-numbers, incremented with a row update (portable, collision-free)."""

    name: str = Field(primary_key=True)
    value: int = 0


class Ticket(SQLModel, table=True):
    __table_args__ = (
        Index("ix_ticket_status_created", "status", "created_at"),
        Index("ix_ticket_grid_dept_status", "grid_id", "department", "status"),
        Index("ix_ticket_node_created", "node_id", "created_at"),
        Index("ix_ticket_node_resolved", "node_id", "resolved_at"),
        # The web board's figures read only these (bot/board/queries.py): covering indexes keep a
        # 100,000-ticket overview to index scans instead of a random row fetch per ticket.
        Index("ix_ticket_board_open", "status", "node_id", "department", "accept_by", "resolve_by", "urgency",
              "escalation_level"),
        Index("ix_ticket_board_done", "status", "resolved_at", "node_id", "department", "resolve_by", "rating"),
        Index("ix_ticket_board_created", "created_at", "node_id", "department"),
    )

    id: int | None = Field(default=None, primary_key=True)
    no: str = Field(unique=True)                 # T12
    status: str = Field(default="open")          # open accepted resolved closed cancelled declined merged
    department: str | None = None
    urgency: str = "normal"
    node_id: int = Field(foreign_key="node.id", index=True)
    grid_id: int | None = Field(default=None, foreign_key="node.id")
    reporter_id: str = Field(index=True)
    reporter_name: str = ""
    assignee_id: str | None = Field(default=None, index=True)
    text: str
    location: str | None = None
    keywords: str = ""                            # space-separated
    source_room_id: str | None = None             # where it was reported (None: 1:1)
    source_room_topic: str | None = None
    created_at: datetime
    accept_by: datetime
    resolve_by: datetime
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    escalation_level: int = 0
    reopen_count: int = 0
    resolution: str | None = None
    resolved_by_id: str | None = Field(default=None, index=True)   # who resolved it (#排行 credits them)
    rating: str | None = None                     # None once closed by 回访 without one: 未评价
    # Deadline bookkeeping (bot/domain/timers.py): what has been done, and when to look again.
    next_action_at: datetime | None = Field(default=None, index=True)
    accept_reminded_at: datetime | None = None
    pre_reminded_at: datetime | None = None
    next_escalation_at: datetime | None = None
    last_nudged_at: datetime | None = None
    # The closed loop (SPEC §5.1): 督办, the ticket a merged one joined, a pending #延期 request.
    supervised_at: datetime | None = None        # last #督办; lists, stats and exports mark it 督办
    # The ticket a merged one joined: an id without a foreign key, so that adding it to an existing
    # SQLite database is an ALTER TABLE, not a rebuild of the table every other table points to.
    merged_into_id: int | None = None
    extension_until: datetime | None = None      # the resolve_by asked for, until decided
    extension_reason: str | None = None
    extension_requested_by: str | None = None
    extension_requested_at: datetime | None = None
    # A 1:1 report from someone not in the org: the bot asked where they live (bot/domain/places.py).
    place_asked_at: datetime | None = None       # when the open question was asked; None: none open
    place_asks: int = 0                          # how many times it was asked (at most twice)
    rate_reminded_at: datetime | None = None      # 回访: the one reminder to rate, since the last resolution

    @property
    def source(self) -> Address:
        """Where it was reported: the room, or the reporter (1:1)."""
        return Address.room(self.source_room_id, self.source_room_topic) or Address.of_person(self.reporter_id)


class TicketFollower(SQLModel, table=True):
    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    contact_id: str = Field(primary_key=True)
    name: str = ""
    source_room_id: str | None = None     # where they reported it (None: 1:1), where they are told of changes
    source_room_topic: str | None = None

    @property
    def source(self) -> Address:
        return Address.room(self.source_room_id, self.source_room_topic) or Address.of_person(self.contact_id)


class TicketEvent(SQLModel, table=True):
    """The ticket's history: who did what, when."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    at: datetime
    actor_id: str | None = None      # None: the bot itself (deadlines, escalation)
    actor_name: str = ""
    kind: str                        # opened accepted transferred resolved rated reopened closed cancelled
    detail: str = ""


class SeenMessage(SQLModel, table=True):
    """Message ids already handled: the same id twice is one message."""

    msg_id: str = Field(primary_key=True)
    at: datetime




class OutboxMessage(SQLModel, table=True):
    """Every message the bot sends, written in the same transaction as the change that caused it.

    pending → sending (claimed, just before the transport is called) → sent. A row left in
    `sending` by a crash is never sent again: a message may be lost in that instant, never doubled.
    """

    __table_args__ = (Index("ix_outbox_due", "status", "not_before", "priority", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime
    not_before: datetime                 # scheduled reminders and quiet hours push this forward
    priority: int = 1                    # 0 urgent, 1 normal, 2 bulk
    kind: str = "reply"                  # reply alert reminder escalation digest …
    account: str | None = None           # the bot account that must send it; None: any
    room_id: str | None = None
    room_topic: str | None = None
    to: str | None = None
    text: str
    mentions: str = ""                   # space-separated contact ids
    file_path: str | None = None
    late_after: datetime | None = None   # sent later than this, the text says it is late
    gathered: str | None = None          # JSON: the items of a list message several due actions joined
    status: str = "pending"
    claimed_by: str | None = None        # the process that took it for sending
    sent_at: datetime | None = None


class Lease(SQLModel, table=True):
    """Leadership among bot processes sharing a database: the holder runs the due-work sweep and the
    digests until `expires_at`, renewing it each sweep; when it dies another takes over."""

    name: str = Field(primary_key=True)
    holder: str
    expires_at: datetime


class ScheduleRun(SQLModel, table=True):
    """When each cron schedule (digests) last fired, so downtime is caught up once."""

    name: str = Field(primary_key=True)
    last_fire_at: datetime


class DueFailure(SQLModel, table=True):
    """Due work that raised (scheduler/due.py): retried with back-off until it succeeds, when the row
    goes; `gridbot doctor` lists the ones that keep failing. Kept here, not in memory, so a restart or
    the next lease holder keeps the back-off."""

    kind: str = Field(primary_key=True)      # ticket | notice | schedule
    item: str = Field(primary_key=True)      # T7, N3, daily_digest
    due_at: datetime                         # when the work first fell due
    failures: int = 0                        # consecutive failed attempts
    first_failed_at: datetime
    last_failed_at: datetime
    retry_at: datetime
    error: str                               # the exception's type: LookupError
    location: str                            # where it was raised: bot/domain/org.py:236 in node


class Evidence(SQLModel, table=True):
    """An image or file attached to a ticket (sent by its reporter shortly after the report)."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    at: datetime
    contact_id: str
    kind: str                       # image | file
    path: str                       # where the transport saved it


class Notice(SQLModel, table=True):
    """A notice pushed down the tree (SPEC §4), numbered N1, N2, …"""

    id: int | None = Field(default=None, primary_key=True)
    no: str = Field(unique=True)
    node_id: int = Field(foreign_key="node.id", index=True)     # where it was sent from
    sender_id: str
    sender_name: str = ""
    source_room_id: str | None = None
    source_room_topic: str | None = None
    down_to: str | None = None                                   # deepest level reached; None: all
    text: str
    created_at: datetime
    receipt_by: datetime
    next_action_at: datetime | None = Field(default=None, index=True)   # the reminder, then the deadline, until done
    reminder_at: datetime | None = None     # the receipt reminder before the deadline (None: none planned)
    reminded_at: datetime | None = None     # when the missing rooms were reminded

    @property
    def source(self) -> Address:
        """Where the admin sent it from: the room, or the admin (1:1)."""
        return Address.room(self.source_room_id, self.source_room_topic) or Address.of_person(self.sender_id)


class NoticeTarget(SQLModel, table=True):
    """One room a notice goes to, and its receipt."""

    __table_args__ = (Index("ix_notice_target_node_ack", "node_id", "acked_at"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    node_id: int = Field(foreign_key="node.id")
    room_topic: str | None = None
    outbox_id: int | None = Field(default=None, foreign_key="outboxmessage.id")
    acked_at: datetime | None = None
    acked_by_id: str | None = None
    acked_by_name: str = ""


class ChatReply(SQLModel, table=True):
    """When the bot last answered a person's 1:1 chatter with its hello (bot/domain/greetings.py)."""

    contact_id: str = Field(primary_key=True)
    last_at: datetime


class SendPace(SQLModel, table=True):
    """When each bot account last sent, so pacing holds across restarts."""

    account: str = Field(primary_key=True)
    last_sent_at: datetime


class Correction(SQLModel, table=True):
    """Someone who handles tickets correcting the classifier (SPEC §6.5): a labelled example that
    `gridbot train` learns from. What it teaches is read at training time (bot/domain/learning.py)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    kind: str                       # transfer | not_issue | missed | confirmed | dismissed
    text: str                       # the message as the classifier saw it
    department: str | None = None   # transfer: the right department
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    actor_id: str


class CountyWeights(SQLModel, table=True):
    """This database's own classifier weights (`gridbot train --db`), used instead of the bundled
    nlp/weights.tsv. One row; `trained_at` tells running bots to reload."""

    id: int = Field(default=1, primary_key=True)
    trained_at: datetime
    messages: int                   # labelled messages trained on, corrections included
    corrections: int                # of which the county's own
    weights: str                    # the TSV table, in the format of nlp/weights.tsv


class UnsureMessage(SQLModel, table=True):
    """A message the classifier was unsure of (待确认, Q1, Q2, …): no ticket, but on the list of the
    grid's worker, who opens a ticket with #确认 Q1 or drops it with #忽略 Q1."""

    __table_args__ = (Index("ix_unsuremessage_status_created", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    no: str = Field(unique=True)
    node_id: int = Field(foreign_key="node.id", index=True)
    sender_id: str
    sender_name: str = ""
    text: str
    source_room_id: str | None = None
    source_room_topic: str | None = None
    created_at: datetime
    status: str = "pending"          # pending | opened | dismissed
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    decided_by: str | None = None
    decided_at: datetime | None = None


class Vote(SQLModel, table=True):
    """A 议事 vote in a room (SPEC §5.2), numbered Y1, Y2, …; its result is posted once at the deadline."""

    id: int | None = Field(default=None, primary_key=True)
    no: str = Field(unique=True)
    node_id: int = Field(foreign_key="node.id", index=True)     # the room's node
    room_id: str | None = None                                   # the room it was opened in
    room_topic: str | None = None
    topic: str
    options: str                                                 # JSON list, in the order given
    opener_id: str
    opener_name: str = ""
    created_at: datetime
    closes_at: datetime
    next_action_at: datetime | None = Field(default=None, index=True)   # the deadline, until the result is posted
    result_posted_at: datetime | None = None

    @property
    def room(self) -> Address | None:
        return Address.room(self.room_id, self.room_topic)


class VoteBallot(SQLModel, table=True):
    """One person's vote; a later vote replaces the earlier one (one row per contact id)."""

    vote_id: int = Field(foreign_key="vote.id", primary_key=True)
    contact_id: str = Field(primary_key=True)
    name: str = ""
    option: str
    at: datetime


class Visit(SQLModel, table=True):
    """A home visit (走访, 上门) logged by a grid worker, police officer or central household at their
    node; `ticket_id` is the ticket opened from its notes when they reported a problem."""

    __table_args__ = (Index("ix_visit_node_at", "node_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    node_id: int = Field(foreign_key="node.id")
    visitor_id: str = Field(index=True)
    visitor_name: str = ""
    subject: str                     # whom: 5栋2单元李大爷
    notes: str                       # what was found
    at: datetime
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")


class BoardLogin(SQLModel, table=True):
    """The web board's one-time login code of a contact (`#登录`, SPEC §5.1, §6.4): one row a contact,
    the code kept only as a salted hash, used once; wrong tries are counted and lock the contact."""

    contact_id: str = Field(primary_key=True)
    code_hash: str | None = None        # None: no live code (used, or never asked for)
    salt: str = ""
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    failures: int = 0                   # wrong codes since the last good login or lock
    locked_until: datetime | None = None
