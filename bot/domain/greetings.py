"""What the bot says to 1:1 chat that is neither a problem nor an acknowledgement: a short hello with
how to report, at most once every few minutes per person (a bot that answers every 你好 and 😊 at
once would play ping-pong with a chatty resident). Group chatter stays unanswered."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from bot.clock import Clock
from bot.domain import texts
from bot.outbox import Outbox
from bot.storage.models import ChatReply
from bot.transport import Address, Outgoing

HELLO_INTERVAL = timedelta(minutes=5)

class Greetings:
    """The hello for 1:1 chatter, rate-limited per person in the database (restarts and several bot
    processes keep the limit)."""

    def __init__(self, session: Session, clock: Clock, outbox: Outbox) -> None:
        self.s = session
        self.clock = clock
        self.outbox = outbox

    def hello(self, person: str) -> bool:
        """Queue the hello unless the bot talked with this person within HELLO_INTERVAL; whether it was
        queued."""
        row = self.s.get(ChatReply, person)
        if row is not None and self.clock.now() - row.last_at < HELLO_INTERVAL:
            return False
        self.answered(person)
        self.outbox.post(Outgoing.at(Address.of_person(person), texts.HELLO))
        return True

    def answered(self, person: str) -> None:
        """The bot has just answered this person in a conversation (the where-do-you-live question):
        the hello's interval starts now."""
        now = self.clock.now()
        row = self.s.get(ChatReply, person) or ChatReply(contact_id=person, last_at=now)
        row.last_at = now
        self.s.add(row)
