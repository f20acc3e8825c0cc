"""The WeCom connection's faults, end to end: a connection dropped in the middle of a notice fan-out, a
callback delivered twice, a rate-limit answer, heartbeats no longer answered, and a wrong secret at
start (the production command exits 1 with one Chinese line), and a long outage."""
from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.storage.db import session
from bot.storage.models import OutboxMessage, Ticket
from tests.harness import ORG_SMALL
from tests.wecom.conftest import ADMIN
from tests.wecom.server import eventually

ROOT = Path(__file__).resolve().parents[2]
WORKER = "wxid_liufang"
REPORT = "@网格助手 5栋楼道里的灯全坏了，晚上上下楼看不见"
EXTRA_CHATS = {
    "wrk_building5": "遂川县/泉江镇城市社区党工委/城南社区/第3网格/幸福小区5栋",
    "wrk_building6": "遂川县/泉江镇城市社区党工委/城南社区/第3网格/幸福小区6栋",
    "wrk_sunli": "遂川县/泉江镇城市社区党工委/城南社区/第3网格/幸福小区5栋/孙丽中心户",
}


def outbox_states(bot) -> list[str]:
    with session(bot.engine) as s:
        return [row.status for row in s.exec(select(OutboxMessage)).all()]


async def _bind(server, chats: dict[str, str]) -> None:
    for chat, path in chats.items():
        await server.say(ADMIN, f"@网格助手 #绑定 {path} 确认", chatid=chat)
        await server.wait_for(lambda s, c=chat: s.chatid == c and "已将本群绑定到" in s.text, f"bound {chat}")


async def test_a_connection_dropped_mid_fan_out_loses_no_notice_and_doubles_none(server, wecom):
    await _bind(server, EXTRA_CHATS)
    targets = ["wrk_grid3", "wrk_grid4", "wrk_building5", "wrk_building6", "wrk_household", "wrk_sunli"]
    server.drop_on_send = len(server.frames_of("aibot_send_msg")) + 3     # the 2nd notice: after the planned reply
    await server.say(ADMIN, "@网格助手 #通知 到中心户 本周六上午开展消防安全检查，请各户留人", chatid="wrk_community")
    for chat in targets:
        await server.wait_for(lambda s, c=chat: s.chatid == c and "通知 N1" in s.text, f"the notice in {chat}")
    assert server.subscriptions == 2                    # it did drop, and the bot came back
    for chat in targets:
        assert sum("通知 N1" in s.text for s in server.to(chat)) == 1, chat
    await eventually(lambda: set(outbox_states(wecom)) == {"sent"}, "every outbox row sent")


async def test_a_callback_delivered_twice_opens_one_ticket_and_answers_once(server, wecom):
    await server.say("wxid_wangjg", REPORT, chatid="wrk_household", msgid="dup-1")
    first = server.last_body
    await server.wait_for(lambda s: "已登记工单 T1" in s.text, "the ack")
    await server.push_again("aibot_msg_callback", first)
    await server.say("wxid_wangjg", "@网格助手 #查询 T1", chatid="wrk_household")     # handled after the repeat
    await server.wait_for(lambda s: s.chatid == "wrk_household" and "工单 T1" in s.text and "已登记" not in s.text,
                          "the query's answer")
    assert sum("已登记工单" in s.text for s in server.sent) == 1
    with session(wecom.engine) as s:
        assert len(s.exec(select(Ticket)).all()) == 1


async def test_a_rate_limit_answer_backs_off_and_sends_the_same_message_once(server, wecom, caplog):
    server.rate_limit_next = 2
    await server.say("wxid_wangjg", REPORT, chatid="wrk_household")
    await server.wait_for(lambda s: "已登记工单 T1" in s.text, "the ack")
    await server.wait_for(lambda s: "新工单 T1" in s.text, "the grid alert")
    assert sum("已登记工单 T1" in s.text for s in server.sent) == 1
    assert "WeCom rate limit (errcode 45009)" in caplog.text
    assert server.subscriptions == 1                    # a rate limit is no reason to reconnect
    await eventually(lambda: set(outbox_states(wecom)) == {"sent"}, "every outbox row sent")


async def test_a_reminder_due_during_a_long_outage_goes_out_once_marked_late_when_wecom_is_back(server, wecom):
    await server.say(WORKER, "@网格助手 #提醒 30分钟后 报送独居老人名单", chatid="wrk_grid3")
    await server.wait_for(lambda s: s.chatid == "wrk_grid3" and "提醒" in s.text, "the reminder's confirmation")
    await server.close()
    await eventually(lambda: not wecom.transport.online, "the bot offline")
    wecom.clock.advance(timedelta(hours=2))
    await wecom.tick()                       # the sweep runs on: the reminder is due, and waits in the outbox
    assert "pending" in outbox_states(wecom)
    await server.restart()
    late = await server.wait_for(lambda s: "补发" in s.text, "the late reminder")
    assert late.chatid == "wrk_grid3" and "报送独居老人名单" in late.text
    await eventually(lambda: set(outbox_states(wecom)) == {"sent"}, "every outbox row sent")
    assert sum("补发" in s.text for s in server.sent) == 1


async def test_a_card_wecom_refuses_arrives_as_text_with_the_typed_command(server, wecom):
    server.refuse_cards = True
    await server.say("wxid_wangjg", REPORT, chatid="wrk_household")
    alert = await server.wait_for(lambda s: "新工单 T1" in s.text, "the grid alert")
    assert alert.body["msgtype"] == "markdown" and "#受理 T1" in alert.text
    assert sum("新工单 T1" in s.text for s in server.sent) == 1


@pytest.mark.parametrize("timing", [{"backoff_initial": 0.05, "backoff_max": 0.5, "rate_limit_backoff": 0.05,
                                     "heartbeat_interval": 0.1}])
async def test_unanswered_heartbeats_make_the_bot_reconnect_and_carry_on(server, wecom, timing):
    server.answer_pings = False
    await eventually(lambda: server.subscriptions >= 2, "a new connection")
    server.answer_pings = True
    await eventually(lambda: wecom.transport.online, "the bot back online")
    await server.say("wxid_wangjg", REPORT, chatid="wrk_household")
    await server.wait_for(lambda s: "已登记工单 T1" in s.text, "the ack over the new connection")


async def test_a_wrong_secret_stops_gridbot_run_with_one_chinese_line(server, tmp_path):
    config = tmp_path / "gridbot.yaml"
    config.write_text(f"db: sqlite:///{tmp_path / 'cli.db'}\norg: {ORG_SMALL}\ntransport: wecom\n"
                      f"wecom_bot_id: {server.bot_id}\nwecom_secret: not-the-secret\nwecom_ws_url: {server.url}\n"
                      f"cache_dir: {tmp_path / 'jieba'}\nlogin_timeout: 20\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("WECOM_BOT_SECRET", None)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", "--config", str(config),
                                                cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 1, err.decode()
    errors = [line for line in err.decode().splitlines() if line.startswith("错误")]
    assert len(errors) == 1 and "企业微信拒绝了" in errors[0] and "wecom_secret" in errors[0], err.decode()
    assert "Traceback" not in err.decode() and server.subscriptions == 0
