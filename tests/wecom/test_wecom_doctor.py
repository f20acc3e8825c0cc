"""`gridbot doctor` for a WeCom deployment: the SDK, the bot's credentials, the long-connection address."""
from __future__ import annotations

from dataclasses import replace

from bot.clock import SystemClock
from bot.runtime import open_database
from bot.tools.doctor import run


async def test_doctor_says_whether_the_wecom_address_can_be_reached(server, wecom_config, capsys):
    open_database(wecom_config, SystemClock())           # the bot's database, migrated, org imported
    assert run(wecom_config) == 0
    out = capsys.readouterr().out
    assert "✓ 企业微信 SDK 已安装" in out and f"✓ 企业微信长连接地址 {server.url} 可以连接" in out

    await server.close()
    assert run(replace(wecom_config, wecom_secret=None)) == 1
    out = capsys.readouterr().out
    assert f"✗ 连不上企业微信长连接地址 {server.url}" in out and "✗ 用企业微信通道但没有配置 WECOM_BOT_ID" in out
