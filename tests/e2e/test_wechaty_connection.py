"""The connection to the puppet service: a server crash and restart loses and doubles nothing, a wrong
token fails clearly, a taken plugin port fails clearly, and `gridbot run --transport wechaty` works."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.storage.db import session
from bot.storage.models import OutboxMessage, SeenMessage
from tests.e2e.county import ORG_SMALL, ROOT, TOKEN, eventually, until

BUILDING = "r_b5@chatroom"        # 幸福小区5栋楼栋群
GRID = "r_grid3@chatroom"
COMMUNITY = "r_cn@chatroom"
COUNTY = "r_county@chatroom"
FIRE = "r_fire@chatroom"
RESIDENT = "wxid_res_zhang"


def _pending(engine) -> int:
    with session(engine) as s:
        return len(s.exec(select(OutboxMessage).where(OutboxMessage.status != "sent")).all())


async def test_server_restart_loses_and_doubles_nothing(county, running_bot):
    bot, clock = running_bot.bot, running_bot.clock
    first = county.say(RESIDENT, "幸福小区5栋楼道里着火了，浓烟很大，快来人", room=BUILDING)
    for room in (BUILDING, GRID, FIRE, COUNTY):      # urgent: the county room is told at once
        await eventually(lambda room=room: county.sent_to(room, containing="T1"), 20, f"T1 in {room}")
    # Everything queued so far is out (a send cut off by the crash may go out twice: WeChat has no
    # idempotent send, so delivery is at-least-once for a message in flight at that instant).
    await eventually(lambda: _pending(bot.engine) == 0, 20, "the outbox to empty")
    before = len(county.sent())

    county.kill()
    await eventually(lambda: not running_bot.transport.online, 20, "the bot to notice the server is gone")

    # While WeChat is away the accept deadline (10 minutes) passes: the reminder and the escalation
    # are due, cannot be sent, and wait in the outbox.
    clock.advance(timedelta(minutes=11))
    await bot.tick()
    assert _pending(bot.engine) >= 2
    assert len(county.sent()) == before

    county.start()           # same ports; the bot reconnects on its own and delivers what waited
    escalation = await eventually(lambda: county.sent_to(COMMUNITY, containing="T1"), 30, "the escalation")
    await eventually(lambda: _pending(bot.engine) == 0, 20, "the outbox to empty")
    assert "胡主任" in escalation[0]["text"]
    reminders = [m for m in county.sent()[before:] if m["room"] == GRID]
    assert reminders and reminders[0]["mentions"] == ["wxid_liufang"]

    # New messages after the reconnect are handled; the one from before is not handled again.
    county.say(RESIDENT, "#查询 T1", room=BUILDING)
    await eventually(lambda: county.sent_to(BUILDING, containing="工单 T1｜"), 20, "the reply after reconnecting")
    sent = [(m["room"], m["to"], m["text"]) for m in county.sent()]
    assert len(sent) == len(set(sent)), "a message was sent twice"
    assert len([t for r, _, t in sent if r == BUILDING and t.startswith("【紧急】")]) <= 1
    with session(bot.engine) as s:
        assert s.get(SeenMessage, first) is not None


async def test_wrong_token_fails_clearly(county, bot_config, classifier):
    from dataclasses import replace

    from bot.runtime import wechaty_bot
    from bot.transport.wechaty import LoginFailed

    bot = wechaty_bot(replace(bot_config, wechaty_token="not-the-token", login_timeout=3), classifier=classifier)
    with pytest.raises(LoginFailed, match="拒绝了令牌") as failure:
        await asyncio.wait_for(bot.run(), timeout=30)
    assert "WECHATY_PUPPET_SERVICE_TOKEN" in str(failure.value)
    assert county.sent() == []


async def test_no_login_within_the_timeout_fails_clearly(node_ready, bot_config, classifier):
    """Nothing answers at the endpoint: the bot retries with backoff, then gives up at login_timeout."""
    from dataclasses import replace

    from bot.runtime import wechaty_bot
    from bot.transport.wechaty import LoginFailed

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        endpoint = f"127.0.0.1:{unused.getsockname()[1]}"
    bot = wechaty_bot(replace(bot_config, wechaty_endpoint=endpoint, login_timeout=3), classifier=classifier)
    with pytest.raises(LoginFailed, match="3 秒内没有登录微信") as failure:
        await asyncio.wait_for(bot.run(), timeout=30)
    assert endpoint in str(failure.value)


async def test_configured_plugin_port_in_use_fails_clearly(county, bot_config, classifier):
    from dataclasses import replace

    from bot.runtime import wechaty_bot
    from bot.transport.wechaty import PortTaken

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        bot = wechaty_bot(replace(bot_config, wechaty_port=port), classifier=classifier)
        with pytest.raises(PortTaken, match=str(port)):
            await asyncio.wait_for(bot.run(), timeout=30)


def _gridbot(args: list[str], env: dict, log) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def test_cli_run_wechaty(county, tmp_path):
    """The production command, token and endpoint from the environment, stopped by SIGTERM."""
    config = tmp_path / "gridbot.yaml"
    config.write_text(f"db: sqlite:///{tmp_path / 'cli.db'}\ntransport: wechaty\nsend_interval: 0.02\n"
                      f"attachments_dir: {tmp_path / 'att'}\ncache_dir: {tmp_path / 'jieba'}\n", encoding="utf-8")
    env = {**os.environ, "WECHATY_PUPPET_SERVICE_TOKEN": TOKEN, "WECHATY_PUPPET_SERVICE_ENDPOINT": county.endpoint}
    out = tmp_path / "gridbot.log"
    with open(out, "wb") as log:
        proc = _gridbot(["run", "--config", str(config), "--org", str(ORG_SMALL)], env, log)
    try:
        until(lambda: "logged in to WeChat" in out.read_text(encoding="utf-8") or proc.poll() is not None, 60,
              "gridbot run to log in")
        assert proc.poll() is None, out.read_text(encoding="utf-8")
        county.say(RESIDENT, "#帮助")
        until(lambda: county.sent_to(to=RESIDENT), 30, "the reply to #帮助")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, out.read_text(encoding="utf-8")
    finally:
        if proc.poll() is None:
            proc.kill()
    text = out.read_text(encoding="utf-8")
    assert "rooms bound" in text and "missing" in text


def test_cli_wrong_token_exits_with_a_clear_error(county, tmp_path):
    config = tmp_path / "gridbot.yaml"
    config.write_text(f"db: sqlite:///{tmp_path / 'cli.db'}\ntransport: wechaty\nlogin_timeout: 3\n"
                      f"wechaty_token: wrong\nwechaty_endpoint: {county.endpoint}\n"
                      f"cache_dir: {tmp_path / 'jieba'}\n", encoding="utf-8")
    out = tmp_path / "gridbot.log"
    with open(out, "wb") as log:
        proc = _gridbot(["run", "--config", str(config), "--org", str(ORG_SMALL)], dict(os.environ), log)
    try:
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = out.read_text(encoding="utf-8")
    assert code == 1, text
    assert "错误：微信 puppet 服务拒绝了令牌" in text and "WECHATY_PUPPET_SERVICE_TOKEN" in text
