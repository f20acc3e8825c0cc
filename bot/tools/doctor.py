"""`gridbot doctor`: checks what a deployment needs, and says what is wrong in plain words."""
from __future__ import annotations

import os
import socket
from collections.abc import Iterator

from sqlalchemy import text

from bot.config import Config
from bot.domain.orgfile import OrgFileError, load_org_file

OK, BAD, NOTE = "✓", "✗", "·"


def checks(config: Config) -> Iterator[tuple[bool | None, str]]:
    """(True, line) is fine, (False, line) needs doing, (None, line) is worth knowing."""
    from sqlalchemy.engine import make_url

    from bot.domain.org import OrgDirectory
    from bot.storage.db import current_revision, head_revision, make_engine, session

    try:
        url = make_url(config.db)
    except Exception as err:                              # noqa: BLE001 — reported to the user
        yield False, f"数据库地址格式不对：{config.db}（{type(err).__name__}）"
        return
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not os.path.exists(url.database):
        # Opening the file would create an empty database where doctor happens to run.
        yield False, (f"数据库文件 {url.database} 不存在：用 --db 指向机器人的数据库，"
                      f"或先运行 gridbot db upgrade --db {config.db}")
        return
    try:
        engine = make_engine(config.db, migrate=False)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as err:                              # noqa: BLE001 — reported to the user
        yield False, f"连不上数据库 {config.db}：{type(err).__name__}: {str(err).splitlines()[0]}"
        return
    yield True, f"数据库可以连接（{engine.dialect.name}）"

    current, head = current_revision(engine), head_revision()
    if current == head:
        yield True, f"数据库结构是最新的（{head}）"
    elif current is None:
        yield False, "数据库还没有建表：运行 gridbot db upgrade --db URL（demo/run 也会自动建）"
        return
    else:
        yield False, f"数据库结构需要升级（{current} → {head}）：运行 gridbot db upgrade --db URL"
        return

    with session(engine) as s:
        org = OrgDirectory(s)
        if not org.is_imported():
            yield False, "还没有导入组织架构：运行 gridbot org import ORG.yaml --db URL"
        else:
            nodes = org.nodes()
            unbound = org.unbound_rooms()
            yield True, f"组织架构已导入：{org.settings.county}，{len(nodes)} 个节点"
            if unbound:
                yield None, f"{len(unbound)} 个群尚未绑定微信群 id（机器人登录后按群名自动绑定，或在群里发 #绑定 节点路径）"
        yield from failing_due_work(s)

    if config.org:
        try:
            load_org_file(config.org)
            yield True, f"组织架构文件 {config.org} 格式正确"
        except OrgFileError as err:
            yield False, f"组织架构文件有错：{err}"

    endpoint = getattr(config, "wechaty_endpoint", None) or os.environ.get("WECHATY_PUPPET_SERVICE_ENDPOINT")
    if config.transport == "wechaty" or endpoint:
        if not endpoint:
            yield False, "用微信通道但没有配置 WECHATY_PUPPET_SERVICE_ENDPOINT（puppet 服务地址）"
        else:
            host, _, port = endpoint.rpartition(":")
            try:
                with socket.create_connection((host or "127.0.0.1", int(port)), timeout=3):
                    pass
                yield True, f"puppet 服务 {endpoint} 可以连接"
            except (OSError, ValueError) as err:
                yield False, f"连不上 puppet 服务 {endpoint}：{err}"

    if config.transport == "wecom":
        yield from wecom_checks(config)


def wecom_checks(config: Config) -> Iterator[tuple[bool, str]]:
    from urllib.parse import urlsplit

    if not config.wecom_bot_id or not config.wecom_secret:
        yield False, "用企业微信通道但没有配置 WECOM_BOT_ID / WECOM_BOT_SECRET（智能机器人的 bot_id 和 secret）"
    try:
        import bot.transport.wecom_compat  # noqa: F401
        yield True, "企业微信 SDK 已安装"
    except ImportError:
        yield False, "企业微信 SDK 未安装：pip install 'gridbot[wecom]'（不要与 gridbot[wechaty] 装在同一环境）"
    url = urlsplit(config.wecom_ws_url)
    port = url.port or (443 if url.scheme == "wss" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=3):
            pass
        yield True, f"企业微信长连接地址 {config.wecom_ws_url} 可以连接"
    except (OSError, ValueError) as err:
        yield False, f"连不上企业微信长连接地址 {config.wecom_ws_url}：{err}"


MAX_FAILURES_LISTED = 20


def failing_due_work(s) -> Iterator[tuple[bool, str]]:
    """Due items (ticket timers, notice deadlines, schedules) that keep failing, each with what to do."""
    from zoneinfo import ZoneInfo

    from bot.domain.org import OrgDirectory
    from bot.domain.texts import when
    from scheduler.failures import keeps_failing
    from scheduler.schedules import SCHEDULES

    org = OrgDirectory(s)
    tz = org.settings.tz if org.is_imported() else ZoneInfo("Asia/Shanghai")
    titles = {schedule.name: schedule.title for schedule in SCHEDULES}
    failing = keeps_failing(s)
    for f in failing[:MAX_FAILURES_LISTED]:
        what = {"ticket": f"工单 {f.item} 的到期处理（提醒、升级）",
                "notice": f"通知 {f.item} 的回执截止处理",
                "vote": f"议事 {f.item} 的截止结果发布",
                "schedule": f"定时任务“{titles.get(f.item, f.item)}”"}.get(f.kind, f"{f.kind} {f.item}")
        yield False, (f"{what}已连续失败 {f.failures} 次（最近一次 {when(f.last_failed_at, tz)}：{f.error}，"
                      f"出错位置 {f.location}）。多半是数据库里这条记录坏了（例如指向已不存在的节点）："
                      f"按日志中 item={f.item} 的 due work failed 记录修好数据，不用重启，"
                      f"机器人会在 {when(f.retry_at, tz)} 自动重试")
    if len(failing) > MAX_FAILURES_LISTED:
        yield False, f"……另有 {len(failing) - MAX_FAILURES_LISTED} 项到期处理在连续失败，见日志中的 due work failed 记录"


def run(config: Config) -> int:
    healthy = True
    for ok, line in checks(config):
        print(f"{NOTE if ok is None else OK if ok else BAD} {line}")
        healthy &= ok is not False
    print("一切正常。" if healthy else "有问题需要处理，见上面标 ✗ 的行。")
    return 0 if healthy else 1
