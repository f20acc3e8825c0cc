"""Everyone involved hears about a ticket's change, once each (SPEC §5.1): one message a place,
whoever it is for. The room the command was typed in gets the command's reply and nothing else;
the reporter's own room is told even there, as the reporter's message is the reply."""
from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain import texts
from bot.outbox import Outbox
from bot.storage.models import DepartmentRoom, Node
from bot.transport import Address, Outgoing


@dataclass
class _Message:
    address: Address
    text: str
    mentions: list[tuple[str, str]]          # (contact id, name), the ones the text names first
    also: list[tuple[str, str]] = field(default_factory=list)   # people a later audience added
    account: str | None = None
    urgent: bool = False


class Told:
    """The messages of one change, gathered by place and posted together."""

    def __init__(self, outbox: Outbox, here: Address | None, urgent: bool = False) -> None:
        self.outbox = outbox
        self.here = here
        self.urgent = urgent
        self.messages: list[_Message] = []

    def tell(self, address: Address | None, text: str, mentions: tuple[tuple[str, str], ...] = (), *,
             account: str | None = None, even_here: bool = False) -> None:
        """Tell a place, unless it is the command's room (`even_here`: the reporter's message, which the
        command's reply leaves out) or was told already: then the people this text was for are
        mentioned in the message that place gets."""
        if address is None:
            return
        for message in self.messages:
            if message.address == address:
                named = {c for c, _ in message.mentions + message.also}
                message.also += [m for m in mentions if m[0] not in named]
                return
        if not even_here and self.here is not None and address == self.here:
            return
        self.messages.append(_Message(address, text, list(mentions), account=account, urgent=self.urgent))

    def tell_room(self, room: Node | DepartmentRoom | None, text: str,
                  mentions: tuple[tuple[str, str], ...] = (), even_here: bool = False) -> bool:
        """Tell a node's or department's room; False when it has none."""
        if room is None or room.address is None:
            return False
        self.tell(room.address, text, mentions, account=room.account, even_here=even_here)
        return True

    def told(self, address: Address | None) -> bool:
        return address is not None and any(m.address == address for m in self.messages)

    def post(self) -> None:
        for m in self.messages:
            if m.address.is_room:
                heads = "".join(texts.mention(name) for _, name in m.also)
                ids = tuple(dict.fromkeys(c for c, _ in m.mentions + m.also))
            else:
                heads, ids = "", ()
            self.outbox.post(Outgoing.at(m.address, heads + m.text, ids, urgent=m.urgent), account=m.account)
        self.messages = []
