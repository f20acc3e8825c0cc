"""The `gridbot` command line (SPEC §6.2)."""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import os
import sys
from pathlib import Path

from sqlalchemy.exc import ArgumentError, OperationalError

from bot.config import BUNDLED_ORG, Config, ConfigError
from bot.domain.orgfile import OrgFileError

DEMO_DB = "sqlite:///gridbot-demo.db"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except (OrgFileError, ConfigError) as err:
        print(f"错误：{err}", file=sys.stderr)
        return 2
    except OperationalError as err:
        print(f"错误：连不上数据库或数据库出错：{str(err.orig).strip().splitlines()[0]}"
              f"（gridbot doctor --db URL 可以帮助排查）", file=sys.stderr)
        return 2
    except ArgumentError as err:
        print(f"错误：数据库地址格式不对：{err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`gridbot org show | head`): stop quietly, as a Unix tool does. Point
        # stdout at /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gridbot", description="红网格工单机器人")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = p.add_subparsers(metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the whole bot on the bundled sample county in this terminal")
    demo.add_argument("--db", default=DEMO_DB, help=f"SQLAlchemy URL (default {DEMO_DB}, reset at start)")
    demo.add_argument("--keep", action="store_true", help="keep the demo database from the last run")
    demo.add_argument("--send-interval", type=float, default=1.5,
                      help="seconds between two bot messages (WeChat pacing; default 1.5)")
    demo.add_argument("--start-at", type=_moment, metavar="TIME", help=START_AT_HELP)
    demo.add_argument("--board-port", type=int, default=8080,
                      help="serve the web board on 127.0.0.1 at this port (default 8080, a free one if taken; 0: none)")
    demo.set_defaults(run=_demo)

    run = sub.add_parser("run", help="run the bot (production)")
    run.add_argument("--config")
    run.add_argument("--transport", choices=("wechaty", "wecom", "console"))
    run.add_argument("--org", help="import/sync this org file first")
    run.add_argument("--db")
    run.add_argument("--send-interval", type=float, help="seconds between two messages of this bot account")
    run.add_argument("--account", help="this process's bot account name (several processes on one database)")
    run.add_argument("--start-at", type=_moment, metavar="TIME", help=START_AT_HELP)
    run.add_argument("--board-port", type=int, help="also serve the web board at this port (SPEC §6.4)")
    run.add_argument("--board-host", default="127.0.0.1", help="the board's address (default 127.0.0.1)")
    run.set_defaults(run=_run)

    board = sub.add_parser("board", help="serve the command centre's web board (SPEC §6.4)")
    board.add_argument("--db", default=None)
    board.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1: this machine only)")
    board.add_argument("--port", type=int, default=8080)
    board.set_defaults(run=_board)

    org = sub.add_parser("org", help="import or show the org tree")
    org_sub = org.add_subparsers(metavar="ACTION")
    imp = org_sub.add_parser("import", help="validate and import an org file")
    imp.add_argument("file")
    imp.add_argument("--db", default=None)
    imp.set_defaults(run=_org_import)
    show = org_sub.add_parser("show", help="print the imported org tree")
    show.add_argument("--db", default=None)
    show.set_defaults(run=_org_show)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(metavar="ACTION")
    upgrade = db_sub.add_parser("upgrade", help="apply the schema migrations (Alembic)")
    upgrade.add_argument("--db", default=None)
    upgrade.set_defaults(run=_db_upgrade)

    doctor = sub.add_parser("doctor", help="check the database, migrations, org and puppet endpoint")
    doctor.add_argument("--config")
    doctor.add_argument("--db")
    doctor.add_argument("--org")
    doctor.set_defaults(run=_doctor)

    classify = sub.add_parser("classify", help='JSON lines {"id","text"} on stdin → classifications on stdout')
    classify.add_argument("--db", default=None,
                          help="use this database's own weights (gridbot train) when it has them; without it, "
                               "the default database's if that file exists, else the bundled weights")
    classify.add_argument("--config")
    classify.set_defaults(run=_classify)

    train = sub.add_parser("train", help="learn the classifier's weights from the bundled labelled messages plus "
                                         "the corrections recorded in the database, and save them there (SPEC §6.5)")
    train.add_argument("--db", default=None)
    train.add_argument("--config")
    train.set_defaults(run=_train)

    replay = sub.add_parser("replay", help="run a scenario on a virtual clock (SPEC §6.3)")
    replay.add_argument("scenario")
    replay.add_argument("--org")
    replay.add_argument("--db", default=None)
    replay.set_defaults(run=_replay)

    export = sub.add_parser("export", help="export to Excel")
    export_sub = export.add_subparsers(metavar="WHAT")
    export_tickets = export_sub.add_parser("tickets", help="tickets, with Chinese column headers")
    export_tickets.add_argument("--db", default=None)
    export_tickets.add_argument("--out", required=True, help="FILE.xlsx")
    export_tickets.add_argument("--since", help="only tickets opened on or after this date (YYYY-MM-DD)")
    export_tickets.set_defaults(run=_export_tickets)

    tickets = sub.add_parser("tickets", help="list tickets")
    tickets.add_argument("--db", default=None)
    tickets.add_argument("--json", action="store_true", help="a JSON array (SPEC §6.2)")
    tickets.set_defaults(run=_tickets)
    return p


START_AT_HELP = ("start the bot's clock at this moment, ISO 8601 with offset (2026-11-25T10:00+08:00); "
                 "it then runs with the wall clock (rehearsals and tests at a chosen hour)")


def _moment(text: str):
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"时间格式应为带时区的 ISO 8601，例如 2026-11-25T10:00+08:00：{text}")
    return moment


def _demo(args) -> int:
    from sqlalchemy.engine import make_url

    from bot.runtime import console_bot, run_live
    from bot.storage.db import hold_sole_use

    url = make_url(args.db)
    hold_sole_use(url)      # before the reset: a second demo must not delete the first one's database
    if not args.keep and url.get_backend_name() == "sqlite" and url.database:
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
    bot = console_bot(Config(db=args.db, org=str(BUNDLED_ORG), send_interval=args.send_interval,
                             start_at=args.start_at))
    sock = None
    if args.board_port:
        from bot.board.server import address, bind
        from bot.domain.board_login import BoardLogins
        from bot.domain.org import OrgDirectory
        from bot.storage.db import session

        sock = bind("127.0.0.1", args.board_port, fallback=True)
        with session(bot.engine) as s:
            org = OrgDirectory(s)
            admin = org.members_at(org.root(), "admin")[0]
            code, until = BoardLogins(s, bot.clock, org).issue(admin.contact_id)
            s.commit()
        print(f"指挥看板：{address(sock)}/login  微信号 {admin.contact_id}（{admin.name}） 验证码 {code}"
              f"（{until.astimezone(org.settings.tz):%H:%M}前有效；之后私聊机器人发 #登录 取新码）", flush=True)
    asyncio.run(run_live(bot, sock))
    return 0


def _run(args) -> int:
    from bot.runtime import console_bot, run_live

    config = Config.load(args.config).override(transport=args.transport, org=args.org, db=args.db,
                                               send_interval=args.send_interval, account=args.account,
                                               start_at=args.start_at)
    if config.transport == "wechaty":
        return _run_wechaty(config, args)
    if config.transport == "wecom":
        return _run_wecom(config, args)
    if config.transport != "console":
        print(f"错误：未知的通道 {config.transport}，可用 wechaty、wecom 或 console。", file=sys.stderr)
        return 2
    asyncio.run(run_live(console_bot(config), _board_socket(args)))
    return 0


def _board_socket(args):
    """`run --board-port N`: the board's socket, bound before the bot starts (a taken port fails now)."""
    if not args.board_port:
        return None
    from bot.board.server import address, bind

    try:
        sock = bind(args.board_host, args.board_port)
    except OSError as err:
        raise ConfigError(f"看板端口 {args.board_host}:{args.board_port} 用不了：{err.strerror}") from None
    print(f"指挥看板：{address(sock)}", file=sys.stderr, flush=True)
    return sock


def _board(args) -> int:
    from bot.board.server import address, bind, server
    from bot.clock import SystemClock
    from bot.storage.db import make_engine

    engine = make_engine(Config().override(db=args.db).db)
    try:
        sock = bind(args.host, args.port)
    except OSError as err:
        raise ConfigError(f"看板端口 {args.host}:{args.port} 用不了：{err.strerror}") from None
    print(f"指挥看板：{address(sock)}（Ctrl-C 结束）", file=sys.stderr, flush=True)
    asyncio.run(server(engine, SystemClock(), embedded=False).serve(sockets=[sock]))
    return 0


def _run_wechaty(config: Config, args) -> int:
    from bot.runtime import wechaty_bot
    from bot.transport.wechaty import LoginFailed, PortTaken

    return _run_transport(wechaty_bot, config, args, "gridbot.wechaty", (LoginFailed, PortTaken))


def _run_wecom(config: Config, args) -> int:
    from bot.runtime import wecom_bot

    bot = wecom_bot(config)        # a missing SDK or secret is a ConfigError here, before the import below
    from bot.transport.wecom import LoginFailed

    return _run_transport(lambda _config: bot, config, args, "gridbot.wecom", (LoginFailed,))


def _run_transport(make_bot, config: Config, args, logger: str, failures: tuple[type[Exception], ...]) -> int:
    """Run a chat transport's bot until SIGTERM/SIGINT (with the board beside it when asked); a failed
    login exits 1 with its one-line Chinese reason."""
    import signal

    from bot.runtime import run_live

    # Connection state changes (connecting, logged in, rooms bound, disconnected …) are always shown.
    for name in (logger, "gridbot.bindings"):
        logging.getLogger(name).setLevel(logging.INFO)
    bot = make_bot(config)
    board_socket = _board_socket(args)

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bot.transport.stop()))
        await run_live(bot, board_socket)

    try:
        asyncio.run(serve())
    except failures as err:
        print(f"错误：{err}", file=sys.stderr)
        return 1
    return 0


def _org_import(args) -> int:
    from bot.runtime import import_org
    from bot.storage.db import make_engine

    counts = import_org(make_engine(Config().override(db=args.db).db), args.file)
    print(f"已导入：{counts['nodes']} 个节点，{counts['departments']} 个部门，{counts['members']} 名人员。")
    return 0


def _org_show(args) -> int:
    from bot.domain.org import OrgDirectory
    from bot.storage.db import make_engine, session

    with session(make_engine(Config().override(db=args.db).db)) as s:
        org = OrgDirectory(s)
        if not org.is_imported():
            print("尚未导入组织架构（gridbot org import ORG.yaml --db URL）。", file=sys.stderr)
            return 1
        for node in org.nodes():
            members = "、".join(f"{m.name}({m.role})" for m in org.members_at(node))
            room = f" 〔{node.room_topic}〕" if node.room_topic else ""
            print(f"{'  ' * node.depth}{node.name} [{node.level}]{room}{'  ' + members if members else ''}")
    return 0


def _db_upgrade(args) -> int:
    from bot.storage.db import current_revision, make_engine, upgrade

    engine = make_engine(Config().override(db=args.db).db, migrate=False)
    before = current_revision(engine)
    head = upgrade(engine)
    print(f"数据库结构已是最新：{head}" if before == head else f"数据库结构已升级：{before or '空库'} → {head}")
    return 0


def _doctor(args) -> int:
    from bot.tools.doctor import run

    return run(Config.load(args.config).override(db=args.db, org=args.org))


def _classify(args) -> int:
    from bot.runtime import county_classifier
    from bot.transport import clean_text

    config = Config.load(args.config).override(db=args.db)
    classifier = county_classifier(config, explicit_db=args.db is not None)
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="replace") \
        if hasattr(sys.stdin, "buffer") else sys.stdin
    for lineno, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        # One output line per input line, in order: a line that cannot be read is "not an issue"
        # (with its id when there is one) and the reason goes to stderr.
        item, text = {}, ""
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise TypeError
            text = clean_text(item["text"])
        except (ValueError, TypeError):
            print(f"第{lineno}行不是 {{\"id\", \"text\"}} 格式的 JSON，按非问题输出", file=sys.stderr)
            item = item if isinstance(item, dict) else {}
        found = classifier.classify(text)
        result = {"id": item.get("id"), "is_issue": found.is_issue, "department": found.department,
                  "urgency": found.urgency, "keywords": list(found.keywords)}
        line_out = json.dumps(result, ensure_ascii=False)
        try:
            line_out.encode("utf-8")
        except UnicodeEncodeError:          # an id with a lone surrogate: escaped rather than lost
            line_out = json.dumps(result, ensure_ascii=True)
        print(line_out)
    sys.stdout.flush()
    return 0


def _train(args) -> int:
    from bot.clock import SystemClock
    from bot.domain.learning import train
    from bot.runtime import load_classifier
    from bot.storage.db import make_engine

    config = Config.load(args.config).override(db=args.db)
    trained = train(make_engine(config.db), load_classifier(config), SystemClock())
    print(f"已用 {trained.messages} 条标注消息训练分类器（其中本地纠正 {trained.corrections} 条），"
          f"权重已存入数据库 {_shown_url(config.db)}；机器人和 gridbot classify --db 之后就用它。")
    return 0


def _shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _replay(args) -> int:
    from bot.runtime import replay_bot

    try:
        # utf-8-sig: a file saved by Notepad starts with a BOM, which would spoil its first line.
        scenario = open(args.scenario, encoding="utf-8-sig", errors="replace")
    except OSError as err:
        print(f"错误：读不了场景文件 {args.scenario}：{err.strerror}", file=sys.stderr)
        return 2
    with scenario:
        bot = replay_bot(Config().override(db=args.db, org=args.org), scenario)
        asyncio.run(bot.run())
    return 0


def _export_tickets(args) -> int:
    from datetime import date, datetime, time

    from bot.clock import SystemClock
    from bot.domain.org import OrgDirectory
    from bot.domain.export import export_tickets
    from bot.storage.db import make_engine, session

    since = None
    with session(make_engine(Config().override(db=args.db).db)) as s:
        org = OrgDirectory(s)
        if not org.is_imported():
            print("错误：数据库里还没有导入组织架构。", file=sys.stderr)
            return 2
        tz = org.settings.tz
        if args.since:
            try:
                since = datetime.combine(date.fromisoformat(args.since), time(0), tz)
            except ValueError:
                print(f"错误：--since 的日期格式应为 YYYY-MM-DD：{args.since}", file=sys.stderr)
                return 2
        count = export_tickets(s, Path(args.out), tz, SystemClock().now(), since=since)
    print(f"已导出 {count} 张工单到 {args.out}")
    return 0


def _tickets(args) -> int:
    from bot.domain.org import OrgDirectory
    from bot.domain.tickets import ticket_json, ticket_rows
    from bot.storage.db import make_engine, session

    with session(make_engine(Config().override(db=args.db).db)) as s:
        rows = ticket_rows(s)
        org = OrgDirectory(s)
        tz = org.settings.tz if org.is_imported() else None
        data = [ticket_json(t, path, followers, tz) for t, path, followers in rows]
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        for t in data:
            print(f"{t['no']}\t{t['status']}\t{t['department']}\t{t['urgency']}\t{t['node']}\t{t['text'][:30]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
