"""议事 votes (SPEC §5.2): opened in a room and numbered Y1, Y2, …; one ballot per contact id (a later
one replaces it); the tally; and the result posted to the room once at the deadline.

The vote row is the record of what is due, as a notice's is: `next_action_at` is the deadline until
the result has been queued, so a restart or a virtual clock posts it exactly once."""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, or_, select

from bot.clock import Clock
from bot.domain import sanshi_texts as texts
from bot.domain.org import OrgDirectory, Room
from bot.domain.permissions import ADMIN_ROLES
from bot.domain.tickets import Actor, next_number
from bot.errors import UserError
from bot.outbox import NORMAL, Outbox, quiet_until
from bot.storage.models import Vote, VoteBallot
from bot.transport import Address, Outgoing

DEFAULT_WINDOW = timedelta(hours=48)
DEFAULT_OPTIONS = ("同意", "不同意")
MAX_TOPIC = 200
MAX_OPTIONS = 10
MAX_OPTION = 20

_OPTIONS_MARK = re.compile(r"选项\s*[:：]")        # with its colon: 选项 alone may be part of the topic
_DEADLINE_MARK = "截止"
_OPTION_SPLIT = re.compile(r"[/／、,，|｜;；\s]+")
_EDGE = " \t\n：:，,。；;！!"


@dataclass(frozen=True)
class VoteRequest:
    topic: str
    options: tuple[str, ...]
    closes_at: datetime | None


def parse_vote(args: str, now: datetime, parse_time) -> VoteRequest:
    """`<议题> [选项：A/B/C] [截止<时间>]` (the two parts in either order) → the parts; raises UserError."""
    text = args.strip()
    marks: list[tuple[int, int, str]] = []          # (start, end of the marker, which)
    found = list(_OPTIONS_MARK.finditer(text))
    if found:
        marks.append((found[-1].start(), found[-1].end(), "options"))
    cut = text.rfind(_DEADLINE_MARK)
    if cut >= 0:
        marks.append((cut, cut + len(_DEADLINE_MARK), "deadline"))
    marks.sort()
    topic = text[:marks[0][0]] if marks else text
    parts = {}
    for i, (_, end, which) in enumerate(marks):
        stop = marks[i + 1][0] if i + 1 < len(marks) else len(text)
        parts[which] = text[end:stop].strip(_EDGE)
    topic = topic.strip(_EDGE)
    if not topic:
        raise UserError(f"请写上议题。用法：{texts.USAGE_VOTE_OPEN}")
    if len(topic) > MAX_TOPIC:
        raise UserError(f"议题太长（超过{MAX_TOPIC}字），请精简。")
    options = DEFAULT_OPTIONS
    if "options" in parts:
        options = tuple(o for o in _OPTION_SPLIT.split(parts["options"]) if o)
        if len(options) < 2:
            raise UserError(f"请至少写两个选项，用“/”隔开，如 选项：同意/不同意/弃权。用法：{texts.USAGE_VOTE_OPEN}")
        if len(options) > MAX_OPTIONS:
            raise UserError(f"选项太多（最多{MAX_OPTIONS}个）。")
        if any(len(o) > MAX_OPTION for o in options):
            raise UserError(f"每个选项不超过{MAX_OPTION}字。")
        if len({_key(o) for o in options}) < len(options):
            raise UserError("选项不能重复。")
    closes_at = None
    if "deadline" in parts:
        try:
            closes_at = parse_time(parts["deadline"], now)
        except ValueError as err:
            raise UserError(f"截止时间看不懂：{err}") from err
    return VoteRequest(topic, options, closes_at)


def _key(option: str) -> str:
    """How a typed option is compared: width, case and surrounding punctuation do not matter."""
    return unicodedata.normalize("NFKC", option).strip(_EDGE + "“”\"'").casefold()


def match_option(typed: str, options: list[str]) -> str | None:
    """The option meant by `typed`: its text, or its position (1, 2, …) when no option is that text."""
    key = _key(typed)
    for option in options:
        if _key(option) == key:
            return option
    if key.isdigit() and 1 <= int(key) <= len(options):
        return options[int(key) - 1]
    return None


class VoteService:
    def __init__(self, session: Session, clock: Clock, org: OrgDirectory, outbox: Outbox) -> None:
        self.s = session
        self.clock = clock
        self.org = org
        self.outbox = outbox

    # ---- opening --------------------------------------------------------------------------
    def open(self, request: VoteRequest, opener: Actor, room: Room, where: Address) -> Vote:
        if not where.is_room:
            raise UserError(texts.VOTE_NEEDS_ROOM)
        if room.node is None:
            raise UserError(texts.VOTE_NOT_NODE_ROOM)
        now = self.clock.now()
        closes_at = request.closes_at or now + DEFAULT_WINDOW
        if closes_at <= now:
            raise UserError(texts.VOTE_PAST_DEADLINE)
        vote = Vote(no=f"Y{next_number(self.s, 'Y')}", node_id=room.node.id, room_id=where.room_id,
                    room_topic=where.room_topic, topic=request.topic,
                    options=json.dumps(list(request.options), ensure_ascii=False),
                    opener_id=opener.contact_id, opener_name=opener.name, created_at=now, closes_at=closes_at,
                    next_action_at=closes_at)
        self.s.add(vote)
        self.s.flush()
        return vote

    @staticmethod
    def options(vote: Vote) -> list[str]:
        return json.loads(vote.options)

    # ---- lookups --------------------------------------------------------------------------
    def get(self, no: str, lock: bool = False) -> Vote:
        query = select(Vote).where(Vote.no == no)
        # Locked while a ballot is cast, so the leader's sweep cannot post the result in between.
        vote = self.s.exec(query.with_for_update() if lock else query).first()
        if vote is None:
            raise UserError(texts.VOTE_NOT_FOUND.format(no=no))
        return vote

    def latest_in(self, where: Address) -> Vote:
        """The latest vote opened in this room."""
        if where.is_room:
            conds = [Vote.room_topic == where.room_topic] if where.room_topic else []
            if where.room_id:
                conds.append(Vote.room_id == where.room_id)
            candidates = self.s.exec(select(Vote).where(or_(*conds)).order_by(col(Vote.id).desc()).limit(20)).all()
            found = next((v for v in candidates if v.room == where), None)
            if found is not None:
                return found
        raise UserError(texts.VOTE_NONE_HERE)

    def tally(self, vote: Vote) -> list[tuple[str, int]]:
        counts = dict(self.s.exec(select(VoteBallot.option, func.count()).where(VoteBallot.vote_id == vote.id)
                                  .group_by(VoteBallot.option)).all())
        return [(option, int(counts.get(option, 0))) for option in self.options(vote)]

    # ---- voting ---------------------------------------------------------------------------
    def cast(self, no: str, typed: str, voter: Actor, where: Address) -> str:
        """Record (or replace) the voter's ballot; returns the reply."""
        vote = self.get(no, lock=True)
        if vote.room != where:
            raise UserError(texts.vote_elsewhere(vote, "投票"))
        tz = self.org.settings.tz
        now = self.clock.now()
        if now >= vote.closes_at:
            raise UserError(texts.vote_closed(vote, tz))
        options = self.options(vote)
        if not typed.strip():
            raise UserError(texts.missing_option(vote, options))
        option = match_option(typed, options)
        if option is None:
            raise UserError(texts.unknown_option(vote, typed.strip(), options))
        ballot = self.s.get(VoteBallot, (vote.id, voter.contact_id))
        before = ballot.option if ballot is not None else None
        if ballot is None:
            ballot = VoteBallot(vote_id=vote.id, contact_id=voter.contact_id, option=option, at=now)
        ballot.option, ballot.name, ballot.at = option, voter.name, now
        self.s.add(ballot)
        self.s.flush()
        voters = self.s.exec(select(func.count()).select_from(VoteBallot).where(VoteBallot.vote_id == vote.id)).one()
        return texts.ballot_recorded(vote, voter.name, option, before, int(voters))

    def result(self, no: str | None, viewer: Actor, where: Address) -> str:
        """#议事结果: for anyone in the vote's room, and for admins over its node wherever they ask."""
        vote = self.get(no) if no else self.latest_in(where)
        if vote.room != where and not self.org.holds_role(viewer.contact_id, ADMIN_ROLES,
                                                          self.org.node(vote.node_id)):
            raise UserError(texts.vote_elsewhere(vote, "查看结果"))
        return texts.vote_tally(vote, self.tally(vote), self.clock.now(), self.org.settings.tz)

    # ---- the deadline ---------------------------------------------------------------------
    def due(self, now: datetime, limit: int = 50) -> list[Vote]:
        return list(self.s.exec(select(Vote).where(col(Vote.next_action_at) <= now)
                                .order_by(Vote.next_action_at, Vote.id).limit(limit)).all())

    def run_deadline(self, vote: Vote) -> None:
        """Post the result to the room, once; quiet hours hold it like the bot's other automatic messages."""
        tz = self.org.settings.tz
        now = self.clock.now()
        due = vote.closes_at
        node = self.org.node(vote.node_id)
        room = vote.room
        if room is not None:
            held = quiet_until(max(due, now), tz)
            self.outbox.post(Outgoing.at(room, texts.vote_result(vote, self.tally(vote), tz)), kind="vote",
                             not_before=held or due, late_after=due, priority=NORMAL, account=node.account)
        vote.next_action_at = None
        vote.result_posted_at = now
        self.s.add(vote)
