"""Notices down the tree with receipts (SPEC §4): planning the fan-out, recording 收到 from the people
who answer for a room, the reminder before the receipt deadline, the missing list at it (by branch:
a county notice's by town), and the #回执 view."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.domain import texts
from bot.domain.org import OrgDirectory, Room
from bot.domain.permissions import ADMIN_ROLES
from bot.domain.tickets import Actor, next_number
from bot.errors import UserError
from bot.outbox import BULK, NORMAL, QUIET_START, Outbox, quiet_until
from bot.storage.models import Membership, Node, Notice, NoticeTarget, OutboxMessage
from bot.transport import Address, Outgoing

DEFAULT_RECEIPT_WINDOW = timedelta(hours=24)
REMINDER_LEAD = timedelta(hours=2)          # the receipt reminder, this long before the deadline …
SHORT_WINDOW = 2 * REMINDER_LEAD            # … or half-way for a deadline closer than this
MIN_REMINDER_WINDOW = timedelta(minutes=20)  # no reminder before a deadline this close
EVENING_BEFORE_QUIET = timedelta(minutes=30)  # a reminder falling in quiet hours: before 22:00, if need be
QUARTER_HOUR = timedelta(minutes=15)
LEVEL_WORDS = {   # what people write after 到, longest first when matching
    "乡镇": "town", "街道": "town", "镇": "town", "乡": "town",
    "社区": "community", "行政村": "community", "村": "community",
    "网格": "grid", "楼栋": "group", "村民小组": "group", "小组": "group", "组": "group",
    "中心户": "household", "户": "household",
}
LEVEL_DEPTH = {"county": 0, "town": 1, "community": 2, "grid": 3, "group": 4, "household": 5}
MAX_NOTICE_TEXT = 1500
# Outbox states in which a room may have the notice: `sending` is the row of a process that died while
# handing it to the transport (never sent again, quite possibly delivered) or one being sent right now.
# A 收到 there is real, so it counts.
REACHED = ("sent", "sending")

def reminder_time(start: datetime, receipt_by: datetime, tz) -> datetime | None:
    """When rooms still missing are reminded: REMINDER_LEAD before the deadline, half-way for a short
    one. Quiet hours are kept: a time inside them moves to 07:00 if that is still before the deadline
    (by a quarter of an hour), else to the evening before, 21:30; None when no such time is left after
    `start` (when delivery begins)."""
    window = receipt_by - start
    if window < MIN_REMINDER_WINDOW:
        return None
    at = receipt_by - (REMINDER_LEAD if window >= SHORT_WINDOW else window / 2)
    quiet_end = quiet_until(at, tz)
    if quiet_end is None:
        return at
    if quiet_end <= receipt_by - QUARTER_HOUR:
        return max(quiet_end, start)
    evening = datetime.combine(quiet_end.astimezone(tz).date() - timedelta(days=1), QUIET_START, tz)
    at = evening - EVENING_BEFORE_QUIET
    return at if at > start else None


@dataclass(frozen=True)
class NoticeRequest:
    down_to: str | None
    content: str
    receipt_by: datetime | None


@dataclass(frozen=True)
class NoticePlan:
    notice: Notice
    rooms: int
    start: datetime          # when delivery begins
    held: bool               # quiet hours hold delivery back until `start`


def parse_notice(args: str, now: datetime, parse_time) -> NoticeRequest:
    """`[到<层级>] <内容> [截止<时间>]` → the parts; raises UserError with the reason."""
    text = args.strip()
    down_to = None
    if text.startswith("到"):
        word = next((w for w in sorted(LEVEL_WORDS, key=len, reverse=True) if text[1:].startswith(w)), None)
        if word is None:
            raise UserError(f"不认识的层级：{text[1:4]}。可写 到镇、到社区、到村、到网格、到楼栋、到小组、到中心户。")
        down_to = LEVEL_WORDS[word]
        text = text[1 + len(word):].strip()
    receipt_by = None
    cut = text.rfind("截止")
    if cut >= 0:
        when = text[cut + 2:].strip(" ：:，,。")
        try:
            receipt_by = parse_time(when, now)
        except ValueError as err:
            raise UserError(f"截止时间看不懂：{err}") from err
        text = text[:cut].strip(" ，,。；;")
    if not text:
        raise UserError("请写上通知内容。用法：#通知 [到<层级>] <内容> [截止<时间>]")
    if len(text) > MAX_NOTICE_TEXT:
        raise UserError(f"通知内容太长（超过{MAX_NOTICE_TEXT}字），请精简。")
    return NoticeRequest(down_to, text, receipt_by)


class NoticeService:
    def __init__(self, session: Session, clock: Clock, org: OrgDirectory, outbox: Outbox,
                 finish_estimate=None) -> None:
        """`finish_estimate(start, extra)`: when the delivery will have sent `extra` more messages
        queued from `start` (the sender's reply says when the fan-out will be done)."""
        self.s = session
        self.clock = clock
        self.org = org
        self.outbox = outbox
        self.finish_estimate = finish_estimate

    # ---- sending --------------------------------------------------------------------------
    def send(self, request: NoticeRequest, sender: Actor, room: Room, source: Address) -> NoticePlan:
        """Plan the fan-out: one receipt row and one queued message per room below, starting now or,
        in quiet hours, at 07:00."""
        node = room.node
        if node is None:
            raise UserError("请在本级工作群里发通知，机器人按这个群所在的层级往下发。")
        max_depth = LEVEL_DEPTH[request.down_to] if request.down_to else None
        if max_depth is not None and max_depth <= node.depth:
            raise UserError(f"{node.name}已经是这一层级或更低，没有可以发到的下级群。")
        targets = [n for n in self.org.descendants(node, max_depth) if n.room_topic or n.room_id]
        if not targets:
            raise UserError(f"{node.name}下面没有登记微信群，通知无处可发。")
        now = self.clock.now()
        tz = self.org.settings.tz
        receipt_by = request.receipt_by or now + DEFAULT_RECEIPT_WINDOW
        if receipt_by <= now:
            raise UserError("截止时间已经过去了。")
        held = quiet_until(now, tz)
        start = held or now
        remind_at = reminder_time(start, receipt_by, tz)
        notice = Notice(no=f"N{next_number(self.s, 'N')}", node_id=node.id, sender_id=sender.contact_id,
                        sender_name=sender.name, source_room_id=source.room_id, source_room_topic=source.room_topic,
                        down_to=request.down_to, text=request.content, created_at=now, receipt_by=receipt_by,
                        reminder_at=remind_at, next_action_at=remind_at or receipt_by)
        self.s.add(notice)
        self.s.flush()
        text = texts.notice(notice, node.name, tz)
        planned = [(target, self.outbox.to_room(target, text, kind="notice", not_before=start, priority=BULK))
                   for target in targets]
        self.s.flush()
        self.s.add_all([NoticeTarget(notice_id=notice.id, node_id=target.id, room_topic=target.room_topic,
                                     outbox_id=row.id) for target, row in planned])
        return NoticePlan(notice, len(targets), start, held is not None)

    # ---- receipts -------------------------------------------------------------------------
    def record_receipt(self, room: Room, who: Actor) -> Notice | None:
        """The latest notice delivered (or maybe delivered) to this room and still awaiting its receipt,
        now acknowledged — when the one who says 收到 answers for the room (see `answers_for`)."""
        if room.node is None or not self.answers_for(room.node, who.contact_id):
            return None
        target = self.s.exec(
            select(NoticeTarget).join(OutboxMessage, OutboxMessage.id == NoticeTarget.outbox_id)
            .where(NoticeTarget.node_id == room.node.id, NoticeTarget.acked_at.is_(None),
                   col(OutboxMessage.status).in_(REACHED))
            .order_by(col(NoticeTarget.notice_id).desc()).limit(1)).first()
        if target is None:
            return None
        target.acked_at = self.clock.now()
        target.acked_by_id = who.contact_id
        target.acked_by_name = who.name
        self.s.add(target)
        return self.s.get(Notice, target.notice_id)

    def answers_for(self, node: Node, contact_id: str) -> bool:
        """Whether the contact's 收到 is the room's receipt: they are listed in the org file at the
        room's node or below it (the group's own people, not a resident passing by). A node with
        nobody listed at or below it is answered for by the people of the nearest node above that
        lists someone (a building group without a 楼栋长: its grid's workers)."""
        below = select(Node.id).where(self.org.in_subtree(node), Node.active)
        people = set(self.s.exec(select(Membership.contact_id).where(col(Membership.node_id).in_(below))).all())
        if people:
            return contact_id in people
        for above in self.org.ancestors(node):
            listed = {m.contact_id for m in self.org.members_at(above)}
            if listed:
                return contact_id in listed
        return False

    def get(self, no: str) -> Notice:
        notice = self.s.exec(select(Notice).where(Notice.no == no)).first()
        if notice is None:
            raise UserError(f"未找到通知 {no}")
        return notice

    def latest_from(self, node: Node) -> Notice:
        notice = self.s.exec(select(Notice).where(Notice.node_id == node.id)
                             .order_by(col(Notice.id).desc()).limit(1)).first()
        if notice is None:
            raise UserError("这个群还没有发过通知。用法：#回执 N3")
        return notice

    def status(self, notice: Notice, viewer: Actor) -> str:
        origin = self.org.node(notice.node_id)
        if not self.org.holds_role(viewer.contact_id, ADMIN_ROLES, origin):
            raise UserError(f"只有{origin.name}或上级的管理员可以查看通知 {notice.no} 的回执。")
        rows = self.s.exec(select(NoticeTarget, OutboxMessage.status)
                           .join(OutboxMessage, OutboxMessage.id == NoticeTarget.outbox_id)
                           .where(NoticeTarget.notice_id == notice.id).order_by(NoticeTarget.id)).all()
        # A receipt proves a `sending` row was delivered; without one it may or may not have been.
        delivered = sum(status == "sent" or (status == "sending" and t.acked_at is not None) for t, status in rows)
        maybe = sum(status == "sending" and t.acked_at is None for t, status in rows)
        acked = [t for t, _ in rows if t.acked_at is not None]
        missing = [t for t, _ in rows if t.acked_at is None]
        return texts.notice_status(
            notice, len(rows), delivered,
            self._by_branch(origin, acked, lambda t: texts.acked_room(t.room_topic or "", t.acked_by_name)),
            self._by_branch(origin, missing), self.org.settings.tz, maybe_delivered=maybe)

    def _by_branch(self, origin: Node, targets: list[NoticeTarget],
                   label=lambda t: t.room_topic or "") -> list[tuple[str, list[str]]]:
        """Target rooms grouped by the branch below the sending node they lie in (a county notice: by
        town), branches in tree order, each room as `label` says."""
        paths = dict(self.s.exec(select(Node.id, Node.path).where(
            col(Node.id).in_({t.node_id for t in targets}))).all()) if targets else {}
        depth = len(origin.path.split("/"))
        groups: dict[str, list[str]] = {}
        for t in sorted(targets, key=lambda t: paths.get(t.node_id, "")):
            parts = paths.get(t.node_id, "").split("/")
            groups.setdefault(parts[depth] if len(parts) > depth else origin.name, []).append(label(t))
        return list(groups.items())

    def _targets(self, notice: Notice) -> list[NoticeTarget]:
        return list(self.s.exec(select(NoticeTarget).where(NoticeTarget.notice_id == notice.id)
                                .order_by(NoticeTarget.id)).all())

    # ---- the receipt deadline -------------------------------------------------------------
    def due(self, now: datetime, limit: int = 50) -> list[Notice]:
        return list(self.s.exec(select(Notice).where(col(Notice.next_action_at) <= now)
                                .order_by(Notice.next_action_at).limit(limit)).all())

    def run_deadline(self, notice: Notice) -> None:
        """The notice's due work: before the deadline, one reminder to each room still missing, quoting
        the notice's first line; at the deadline, the sender's room gets the list of them (by branch).
        A reminder not sent before (the bot was down, or the deadline was too close) goes out then."""
        tz = self.org.settings.tz
        now = self.clock.now()
        missing = [t for t in self._targets(notice) if t.acked_at is None]
        if notice.reminded_at is None and notice.reminder_at is not None and now < notice.receipt_by:
            due = notice.reminder_at
            held = quiet_until(max(due, now), tz)
            for target in missing:
                self.outbox.to_room(self.org.node(target.node_id), texts.notice_reminder_before(notice, tz),
                                    kind="reminder", not_before=held or due, late_after=due, priority=BULK)
            notice.reminded_at = now
            notice.next_action_at = notice.receipt_by
            self.s.add(notice)
            return
        due = notice.receipt_by
        held = quiet_until(max(due, now), tz)
        timing = {"not_before": held or due, "late_after": due, "priority": NORMAL}
        if notice.reminded_at is None:
            for target in missing:
                self.outbox.to_room(self.org.node(target.node_id), texts.notice_reminder(notice), kind="reminder",
                                    **{**timing, "priority": BULK})
            notice.reminded_at = now
        if missing and notice.source.is_room:
            origin = self.org.node(notice.node_id)
            self.outbox.post(Outgoing.at(notice.source, texts.notice_missing(notice, self._by_branch(origin, missing))),
                             kind="reminder", **timing)
        notice.next_action_at = None
        self.s.add(notice)
