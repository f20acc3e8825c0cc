"""Several bot accounts on one database (a county on WeChat and WeCom): a reply goes out through the
account that received the message, never through another account that cannot reach the sender."""
from __future__ import annotations

from bot.app import Bot
from bot.clock import VirtualClock
from bot.runtime import import_org
from bot.storage.db import make_engine
from bot.transport import Incoming, TransportUnavailable
from handlers import build_dispatcher
from tests.harness import ORG_SMALL, RecordingTransport, at


class Switchable(RecordingTransport):
    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def send(self, out) -> None:
        if self.down:
            raise TransportUnavailable("down")
        await super().send(out)


async def test_a_one_to_one_answer_waits_for_the_account_it_came_through(new_db, classifier):
    clock = VirtualClock(at(2026, 11, 25, 9, 0))
    engine = make_engine(new_db())
    import_org(engine, str(ORG_SMALL), clock)
    wecom, wechat = Switchable(), Switchable()
    over_wecom = Bot(engine, clock, build_dispatcher(), classifier, wecom, account="wecom")
    over_wechat = Bot(engine, clock, build_dispatcher(), classifier, wechat, account="wechat")

    wecom.down = True          # the WeCom connection drops right after the message came in
    await over_wecom.dispatch(Incoming(msg_id="w1", sender_id="wxid_wangjg", text="#帮助"))
    await over_wechat.deliver()
    assert wechat.sent == []                  # the WeChat account cannot reach a WeCom userid
    wecom.down = False
    await over_wecom.deliver()
    assert len(wecom.sent) == 1 and wecom.sent[0].to == "wxid_wangjg" and "#上报" in wecom.sent[0].text
