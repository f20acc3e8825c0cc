"""What the bot says to 1:1 chat that is neither a problem nor an acknowledgement: a short hello with
how to report, at most once every few minutes per person (a bot that answers every 你好 and 😊 at
once would play ping-pong with a chatty resident). Group chatter stays unanswered."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import Session

from bot.clock import Clock
from bot.domain import texts
from bot.domain.notices import is_acknowledgement
from bot.outbox import Outbox
from bot.storage.models import ChatReply
from bot.transport import Address, Outgoing

HELLO_INTERVAL = timedelta(minutes=5)

# Closing words that need no answer (after 已登记工单 T1 a resident says 谢谢): a reply would restart the chat.
_CLOSINGS = frozenset({
    "好", "好的", "好滴", "好嘞", "嗯", "嗯嗯", "哦", "噢", "哦哦", "ok", "okay", "谢谢", "多谢", "感谢", "谢了",
    "谢谢你", "谢谢您", "明白", "明白了", "知道了", "了解", "晓得了", "辛苦了", "辛苦", "拜拜", "再见",
})
_THANKS_EMOJI = re.compile(r"^(?:[👍👌🙏🤝✌\U0001F3FB-\U0001F3FF\uFE0F]|\[(?:强|OK|抱拳|握手|胜利|合十|好的|谢谢)\])+$")
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def is_closing(text: str) -> bool:
    """收到, 谢谢, 好的，谢谢！, 👍 …: acknowledgements that end a conversation."""
    body = text.strip()
    if is_acknowledgement(body) or _THANKS_EMOJI.match(body.replace(" ", "")):
        return True
    rest = _NOISE.sub("", body).lower()
    if not rest or len(rest) > 20:
        return False
    while rest:       # made only of closing words: 好的谢谢, 嗯嗯辛苦了
        word = next((w for w in sorted(_CLOSINGS, key=len, reverse=True) if rest.startswith(w)), None)
        if word is None:
            return False
        rest = rest[len(word):].lstrip("啊呀哈啦哦")
    return True


class Greetings:
    """The hello for 1:1 chatter, rate-limited per person in the database (restarts and several bot
    processes keep the limit)."""

    def __init__(self, session: Session, clock: Clock, outbox: Outbox) -> None:
        self.s = session
        self.clock = clock
        self.outbox = outbox

    def hello(self, person: str) -> bool:
        """Queue the hello unless this person had one within HELLO_INTERVAL; whether it was queued."""
        now = self.clock.now()
        row = self.s.get(ChatReply, person)
        if row is not None and now - row.last_at < HELLO_INTERVAL:
            return False
        row = row or ChatReply(contact_id=person, last_at=now)
        row.last_at = now
        self.s.add(row)
        self.outbox.post(Outgoing.at(Address.of_person(person), texts.HELLO))
        return True
