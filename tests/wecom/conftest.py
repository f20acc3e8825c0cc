"""WeCom end-to-end fixtures: a local WebSocket server speaking the intelligent bot's frame protocol
(tests/wecom/server.py) and the real bot (runtime.wecom_bot: the SDK, the transport, an SQLite file,
the real classifier) against it.

The WeCom SDK and the wechaty SDK are never installed together (README "Connecting to WeCom"): these
tests run in their own environment (`make test` builds .venv-wecom with '.[dev,wecom]'). In an
environment without the SDK they are not collected — unless GRIDBOT_WECOM_REQUIRED=1, as `make test` sets
there, which makes a missing SDK an error."""
from __future__ import annotations

import asyncio
import logging
import os
from datetime import datetime

import pytest

from tests.harness import ORG_SMALL, TZ

try:
    import bot.transport.wecom_compat  # noqa: F401  (the SDK, through its compat module)
    SDK_MISSING = None
except ImportError as err:
    if os.environ.get("GRIDBOT_WECOM_REQUIRED") == "1":
        raise
    SDK_MISSING = str(err)
    collect_ignore_glob = ["test_*.py"]


def pytest_report_header(config):
    if SDK_MISSING:
        return f"WeCom tests not collected: the WeCom SDK is not installed here ({SDK_MISSING}); make test runs them in .venv-wecom"


# Group chat ids on the server, and the org nodes an admin binds them to with #绑定.
CHATS = {
    "wrk_household": "遂川县/泉江镇城市社区党工委/城南社区/第3网格/幸福小区5栋/王建国中心户",
    "wrk_grid3": "遂川县/泉江镇城市社区党工委/城南社区/第3网格",
    "wrk_grid4": "遂川县/泉江镇城市社区党工委/城南社区/第4网格",
    "wrk_community": "遂川县/泉江镇城市社区党工委/城南社区",
}
ADMIN = "wxid_cn_zhuren"          # 城南社区胡主任: may bind every chat above


@pytest.fixture
async def server():
    from tests.wecom.server import WecomServer

    srv = WecomServer()
    await srv.start()
    try:
        yield srv
    finally:
        await srv.close()


@pytest.fixture
def wecom_config(server, tmp_path, new_db):
    from bot.config import Config

    return Config(db=new_db("bot"), org=str(ORG_SMALL), transport="wecom", wecom_bot_id=server.bot_id,
                  wecom_secret=server.secret, wecom_ws_url=server.url, login_timeout=20,
                  attachments_dir=str(tmp_path / "attachments"), export_dir=str(tmp_path / "exports"),
                  send_interval=0.02, cache_dir=str(tmp_path / "jieba"))


@pytest.fixture
def timing():
    """WecomSettings timing for a test (a test may change it before the bot starts)."""
    return {"backoff_initial": 0.05, "backoff_max": 0.5, "rate_limit_backoff": 0.05}


@pytest.fixture
async def wecom(server, wecom_config, classifier, timing, caplog):
    """The production bot on the server, logged in, with CHATS bound by #绑定. The clock starts on a
    working morning and runs on, so the hour the suite runs at never matters."""
    caplog.set_level(logging.INFO, logger="gridbot")
    from bot.clock import OffsetClock
    from bot.runtime import wecom_bot
    from tests.wecom.server import eventually

    bot = wecom_bot(wecom_config, clock=OffsetClock(start=datetime(2026, 11, 25, 9, 0, tzinfo=TZ)),
                    classifier=classifier, **timing)
    task = asyncio.create_task(bot.run())
    try:
        await eventually(lambda: bot.transport.online or task.done(), "the bot to log in")
        if task.done():
            task.result()
        for chat, path in CHATS.items():
            await server.say(ADMIN, f"@网格助手 #绑定 {path} 确认", chatid=chat)
            await server.wait_for(lambda s, c=chat: s.chatid == c and "已将本群绑定到" in s.text, f"bound {chat}")
        yield bot
    finally:
        await bot.transport.stop()
        await asyncio.wait_for(task, timeout=30)
