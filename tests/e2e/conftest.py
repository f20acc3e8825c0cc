"""End-to-end fixtures: a real Wechaty puppet gRPC server (Node, tests/e2e/mock_county.mjs) with a
mock county's groups, and the real bot (wechaty transport, SQLite file, real classifier) against it."""
from __future__ import annotations

import asyncio
import logging
import shutil
from datetime import datetime

import pytest

from tests.databases import unavailable
from tests.e2e.county import ORG_SMALL, ROOT, TOKEN, MockCounty, eventually
from tests.harness import TZ


def _why_no_node() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (ROOT / "node_modules" / "wechaty-puppet-service").is_dir():
        return "node_modules missing (run `npm ci` in the project root, as `make test` does)"
    try:
        import bot.transport.wechaty_compat  # noqa: F401  (the SDK, through its 3.11 shim)
    except Exception as err:   # the optional group is not installed
        return f"the wechaty SDK is not installed (pip install -e '.[dev,wechaty]'): {err}"
    return None


@pytest.fixture(scope="session")
def node_ready() -> None:
    why = _why_no_node()
    if why is not None:
        unavailable(f"wechaty end-to-end tests: {why}")


@pytest.fixture
def county(node_ready, tmp_path) -> MockCounty:
    server = MockCounty(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bot_config(county, tmp_path, new_db):
    from bot.config import Config

    return Config(db=new_db("bot"), org=str(ORG_SMALL), transport="wechaty",
                  wechaty_token=TOKEN, wechaty_endpoint=county.endpoint, login_timeout=20,
                  attachments_dir=str(tmp_path / "attachments"), export_dir=str(tmp_path / "exports"),
                  send_interval=0.02, cache_dir=str(tmp_path / "jieba"))


class RunningBot:
    def __init__(self, bot, clock, task: asyncio.Task) -> None:
        self.bot = bot
        self.clock = clock
        self.task = task

    @property
    def transport(self):
        return self.bot.transport


@pytest.fixture
async def running_bot(bot_config, classifier, caplog):
    """The production bot (runtime.wechaty_bot) on a wall clock the test can move forward, logged in.
    The clock starts on a working morning, so the hour the suite runs at never matters."""
    caplog.set_level(logging.INFO, logger="gridbot")
    from bot.clock import OffsetClock
    from bot.runtime import wechaty_bot

    clock = OffsetClock(start=datetime(2026, 11, 25, 9, 0, tzinfo=TZ))
    bot = wechaty_bot(bot_config, clock=clock, classifier=classifier)
    task = asyncio.create_task(bot.run())
    running = RunningBot(bot, clock, task)
    try:
        await eventually(lambda: bot.transport.online or task.done(), 30, "the bot to log in")
        if task.done():
            task.result()
        yield running
    finally:
        await bot.transport.stop()
        await asyncio.wait_for(task, timeout=30)
