"""The command centre's web board (SPEC §6.4): a small Starlette app over the bot's database.

Every request reads in its own short transaction on a worker thread (never holding the bot's event
loop or a lock for long); the two actions (转派, 催办) go through the same TicketService, permission
table and outbox as the chat commands, in one write transaction each, and are marked as done on the
board in the ticket's history."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.engine import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.board import charts, queries
from bot.board.auth import COOKIE, SESSION_SECONDS, BoardSession, Signer
from bot.clock import Clock
from bot.dispatch import parse_ticket_no, parse_number
from bot.domain import deadlines, permissions, texts
from bot.domain.board_login import BoardLogins, may_use_board
from bot.domain.departments import DEPARTMENTS, find_department
from bot.domain.evidence import evidence_of
from bot.domain.org import NotImported, OrgDirectory
from bot.domain.stats import ranking
from bot.domain.tickets import Actor, TicketService, ticket_json
from bot.errors import UserError, report_crash
from bot.outbox import Outbox
from bot.privacy import mask_private
from bot.storage.db import session
from bot.storage.models import Node, Notice, NoticeTarget, OutboxMessage, Ticket

log = logging.getLogger("gridbot.board")
HERE = Path(__file__).parent
CHANNEL = "指挥看板"
LIST_LIMIT = 300
LEVEL_NAMES = {"town": "乡镇/街道", "community": "社区/村", "grid": "网格", "group": "楼栋/小组", "household": "中心户"}


class Refused(Exception):
    """A request the viewer may not make: the status and the Chinese sentence to show."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class BoardConfig:
    engine: Engine
    clock: Clock
    on_change: Callable[[], Awaitable[None]] | None = None   # a change was committed: deliver its messages
    refresh_seconds: int = 30


def create_app(engine: Engine, clock: Clock, *, on_change: Callable[[], Awaitable[None]] | None = None,
               secret: bytes | None = None) -> Starlette:
    board = Board(BoardConfig(engine, clock, on_change), Signer(clock, secret))
    routes = [
        Route("/login", board.login_page, methods=["GET"]),
        Route("/login", board.login, methods=["POST"]),
        Route("/logout", board.logout, methods=["POST"]),
        Route("/", board.overview_page),
        Route("/screen", board.screen_page),
        Route("/partials/overview", board.overview_partial),
        Route("/tickets", board.ticket_list_page),
        Route("/tickets/{no}", board.ticket_page),
        Route("/tickets/{no}/transfer", board.transfer, methods=["POST"]),
        Route("/tickets/{no}/nudge", board.nudge, methods=["POST"]),
        Route("/tickets/{no}/assign", board.assign, methods=["POST"]),
        Route("/tickets/{no}/supervise", board.supervise, methods=["POST"]),
        Route("/evidence/{id:int}", board.evidence_file),
        Route("/notices/{no}", board.notice_page),
        Route("/rankings", board.rankings_page),
        Route("/api/tickets", board.api_tickets),
        Route("/api/tickets/{no}", board.api_ticket),
        Route("/api/summary", board.api_summary),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Starlette(routes=routes)


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


class Board:
    def __init__(self, config: BoardConfig, signer: Signer) -> None:
        self.config = config
        self.signer = signer
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
        self.env.globals.update(pct=_pct, status_name=lambda s: texts.STATUS_NAMES.get(s, s), dept=texts.dept,
                                urgency_name=lambda u: texts.URGENCY_NAMES.get(u, u), periods=queries.PERIODS,
                                filters=queries.FILTERS, quote=quote, urlencode=urlencode)
        # Staff read the board; phone and ID numbers are masked as in every relay (the API keeps the original).
        self.env.filters["masked"] = mask_private

    # ---- plumbing -----------------------------------------------------------------------------
    def _render(self, name: str, status: int = 200, **context) -> HTMLResponse:
        return HTMLResponse(self.env.get_template(name).render(**context), status_code=status)

    def _session(self, request: Request) -> BoardSession | None:
        return self.signer.read(request.cookies.get(COOKIE))

    async def _read(self, request: Request, work, *, api: bool = False):
        """Run `work(s, org, viewer, session)` in a short transaction on a worker thread, for a logged-in
        person; pages without a session go to /login, the API answers 401."""
        board_session = self._session(request)
        if board_session is None:
            return self._no_session(request, api)

        def run():
            with session(self.config.engine) as s:
                org = OrgDirectory(s)
                if not may_use_board(org, board_session.contact_id):
                    return None
                try:
                    return work(s, org, queries.viewer(org, board_session.contact_id), board_session)
                finally:
                    s.rollback()          # read-only: end the transaction now, whatever it was

        try:
            result = await run_in_threadpool(run)
        except Refused as err:
            if api:
                return JSONResponse({"error": err.message}, status_code=err.status)
            return self._render("message.html", err.status, message=err.message, title="无法查看")
        except NotImported:
            message = texts.NO_ORG
            return JSONResponse({"error": message}, 503) if api else self._render("message.html", 503, message=message,
                                                                                   title="尚未导入组织架构")
        except Exception as exc:
            report_crash(log, "board", exc, path=request.url.path)
            return JSONResponse({"error": "服务器出错"}, 500) if api else self._render(
                "message.html", 500, message="抱歉，看板出错了，已记录。", title="出错了")
        if result is None:
            return self._no_session(request, api)
        return result

    def _no_session(self, request: Request, api: bool) -> Response:
        if api:
            return JSONResponse({"error": "未登录：请先在 /login 用 #登录 获得的验证码登录"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)

    def _base(self, org: OrgDirectory, v: queries.Viewer, board_session: BoardSession) -> dict:
        return {"viewer": v, "csrf": self.signer.csrf(board_session), "county": org.settings.county,
                "refresh": self.config.refresh_seconds}

    @staticmethod
    def _scope(s, v: queries.Viewer, request: Request) -> Node:
        raw = request.query_params.get("node")
        if raw is None or raw == "":
            if v.home is None:
                raise Refused(403, "您在组织架构里没有可查看的层级。")
            return v.home
        node = s.get(Node, int(raw)) if raw.isdigit() else None
        if node is None or not node.active:
            raise Refused(404, f"未找到层级 {raw}")
        if not v.reaches(node):
            raise Refused(403, f"无权查看{node.name}：看板只显示您所在层级及以下。")
        return node

    def _ticket(self, s, org: OrgDirectory, v: queries.Viewer, raw: str) -> Ticket:
        try:
            no = parse_ticket_no(raw, "/tickets/T12")
        except UserError as err:
            raise Refused(404, err.reply) from None
        t = s.exec(select(Ticket).where(Ticket.no == no)).first()
        if t is None:
            raise Refused(404, texts.NOT_FOUND.format(no=no))
        if not TicketService(s, self.config.clock, org, Outbox(s, self.config.clock)).may_read(t, v.contact_id):
            raise Refused(403, texts.NOT_ALLOWED_READ.format(no=no))
        return t

    @staticmethod
    def _same_origin(request: Request) -> bool:
        origin = request.headers.get("origin")
        if not origin or origin == "null":
            return origin is None
        return origin.split("://", 1)[-1] == request.headers.get("host", "")

    # ---- login --------------------------------------------------------------------------------
    async def login_page(self, request: Request) -> Response:
        return self._render("login.html", next=request.query_params.get("next", "/"))

    async def login(self, request: Request) -> Response:
        form = await request.form()
        contact_id = str(form.get("contact_id", "")).strip()
        code = str(form.get("code", "")).strip()
        target = str(form.get("next", "/"))
        if not target.startswith("/") or target.startswith("//"):
            target = "/"
        if not self._same_origin(request):
            return self._render("login.html", 403, error="登录请求来自其他网站，已拒绝。", next="/", contact_id=contact_id)
        if not contact_id or not code:
            return self._render("login.html", 400, error="请填写微信号和验证码。", next=target, contact_id=contact_id)

        def verify() -> str | None:
            with session(self.config.engine) as s:
                org = OrgDirectory(s)
                try:
                    BoardLogins(s, self.config.clock, org).verify(contact_id, code)
                    return None
                except UserError as err:
                    return err.reply
                finally:
                    s.commit()          # the wrong try counts, the used code is gone

        error = await run_in_threadpool(verify)
        if error is not None:
            return self._render("login.html", 401, error=error, next=target, contact_id=contact_id)
        cookie, _ = self.signer.issue(contact_id)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, cookie, max_age=SESSION_SECONDS, httponly=True, samesite="strict", path="/")
        return response

    async def logout(self, request: Request) -> Response:
        board_session = self._session(request)
        form = await request.form()
        if board_session is not None and not self.signer.csrf_ok(board_session, str(form.get("csrf", ""))):
            return self._render("message.html", 403, message="页面已过期，请刷新后再试。", title="无法退出")
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    # ---- overview -----------------------------------------------------------------------------
    def _overview_context(self, s, org: OrgDirectory, v: queries.Viewer, request: Request) -> dict:
        node = self._scope(s, v, request)
        now = self.config.clock.now()
        tz = org.settings.tz
        data = queries.overview(s, org, node, now)
        child_level = data.children[0][0].level if data.children else None
        month = "month"
        charts_html = {
            "children": charts.bars([(c.name, f.new[month], f"/?node={c.id}") for c, f in data.children],
                                    title=f"本月新增（按{LEVEL_NAMES.get(child_level, '下级')}）"),
            "open_children": charts.bars([(c.name, f.open, f"/tickets?node={c.id}&f=open") for c, f in data.children],
                                         title="未办结", color=charts.RED),
            "rates": charts.rates([(c.name, f.on_time_rate(month)) for c, f in data.children],
                                  title="本月按时办结率"),
            "departments": charts.bars([(texts.dept(d), n, f"/tickets?node={node.id}&f=new_month&dept={d or 'none'}")
                                        for d, n, _, _ in data.by_department], title="本月新增（按部门）"),
            "trend": charts.trend([(f"{day.astimezone(tz):%m-%d}", n, r) for day, n, r in data.trend],
                                  title="近30天 新增与办结"),
        }
        crumbs = [a for a in reversed(org.ancestors(node)) if v.reaches(a)] + [node]
        return {"node": node, "data": data, "charts": charts_html, "crumbs": crumbs, "now": now.astimezone(tz),
                "tz": tz, "names": data.names, "overdue_kinds": deadlines.overdue_kinds}

    async def overview_page(self, request: Request) -> Response:
        def work(s, org, v, bs):
            return self._render("overview.html", **self._base(org, v, bs), **self._overview_context(s, org, v, request))
        return await self._read(request, work)

    async def screen_page(self, request: Request) -> Response:
        def work(s, org, v, bs):
            return self._render("screen.html", **self._base(org, v, bs), **self._overview_context(s, org, v, request))
        return await self._read(request, work)

    async def overview_partial(self, request: Request) -> Response:
        def work(s, org, v, bs):
            return self._render("_figures.html", **self._base(org, v, bs), **self._overview_context(s, org, v, request),
                                screen=request.query_params.get("screen") == "1")
        return await self._read(request, work)

    # ---- tickets ------------------------------------------------------------------------------
    async def ticket_list_page(self, request: Request) -> Response:
        def work(s, org, v, bs):
            node = self._scope(s, v, request)
            name = request.query_params.get("f", "all")
            now = self.config.clock.now()
            try:
                condition = queries.filter_condition(name, now, org.settings.tz)
            except KeyError:
                raise Refused(404, f"未知的筛选：{name}") from None
            dept = request.query_params.get("dept")
            if dept is not None and dept != "none" and dept not in DEPARTMENTS:
                raise Refused(404, f"未知的部门：{dept}")
            rows = queries.tickets(s, v, node, condition, dept, limit=LIST_LIMIT + 1)
            return self._render("tickets.html", **self._base(org, v, bs), node=node, rows=rows[:LIST_LIMIT],
                                more=len(rows) > LIST_LIMIT, filter_name=queries.FILTERS[name],
                                dept_name=texts.dept(None if dept == "none" else dept) if dept else None,
                                paths=queries.node_paths(s), names=queries._names(s), now=now, tz=org.settings.tz,
                                overdue_kinds=deadlines.overdue_kinds)
        return await self._read(request, work)

    async def ticket_page(self, request: Request) -> Response:
        def work(s, org, v, bs):
            t = self._ticket(s, org, v, request.path_params["no"])
            service = TicketService(s, self.config.clock, org, Outbox(s, self.config.clock))
            node = org.node(t.node_id)
            now = self.config.clock.now()
            return self._render(
                "ticket.html", **self._base(org, v, bs), t=t, node=node, events=service.events(t),
                followers=service.followers(t), evidence=evidence_of(s, t), names=queries._names(s),
                tz=org.settings.tz, now=now, may_act=v.is_admin_over(node) and t.status in queries.OPEN,
                overdue_accept=bool(deadlines.overdue_accept(t, now)),
                overdue_resolve=bool(deadlines.overdue_resolve(t, now)),
                departments=sorted(DEPARTMENTS.items()), event_names=texts.EVENT_NAMES,
                message=request.query_params.get("msg"), error=request.query_params.get("err"))
        return await self._read(request, work)

    async def evidence_file(self, request: Request) -> Response:
        from bot.storage.models import Evidence

        def work(s, org, v, bs):
            item = s.get(Evidence, request.path_params["id"])
            if item is None:
                raise Refused(404, "未找到这张图片")
            self._ticket(s, org, v, s.get(Ticket, item.ticket_id).no)
            path = Path(item.path)
            if not path.is_file():
                raise Refused(404, "图片文件已不在服务器上")
            return FileResponse(path)
        return await self._read(request, work)

    # ---- actions: the chat commands' services, permissions and outbox ---------------------------
    async def _act(self, request: Request, command: str, change) -> Response:
        board_session = self._session(request)
        if board_session is None:
            return self._no_session(request, api=False)
        form = await request.form()
        if not self.signer.csrf_ok(board_session, str(form.get("csrf", ""))) or not self._same_origin(request):
            return self._render("message.html", 403, message="页面已过期或请求来源不对（CSRF 校验失败），请刷新后再试。",
                                title="操作被拒绝")
        raw = request.path_params["no"]

        def run() -> tuple[str, str | None]:
            with session(self.config.engine) as s:
                org = OrgDirectory(s)
                if not may_use_board(org, board_session.contact_id):
                    return "", "无权操作"
                try:
                    no = parse_ticket_no(raw, "/tickets/T12")
                    v = queries.viewer(org, board_session.contact_id)
                    t = s.exec(select(Ticket).where(Ticket.no == no)).first()
                    if t is None:
                        raise UserError(texts.NOT_FOUND.format(no=no))
                    if not v.is_admin_over(org.node(t.node_id)):
                        raise UserError(f"看板上的操作只对{org.node(t.node_id).name}或上级的管理员开放。")
                    refused = permissions.refusal(command, org, board_session.contact_id, None)
                    if refused is not None:
                        raise UserError(refused)
                    outbox = Outbox(s, self.config.clock)
                    service = TicketService(s, self.config.clock, org, outbox, via=CHANNEL)
                    done = change(service, org, outbox, no, Actor(board_session.contact_id, v.name), form)
                    s.commit()
                    return no, done
                except UserError as err:
                    s.rollback()
                    return raw, "!" + err.reply

        no, result = await run_in_threadpool(run)
        if not no:
            return self._no_session(request, api=False)
        if result and not result.startswith("!") and self.config.on_change is not None:
            await self.config.on_change()
        key = "err" if result and result.startswith("!") else "msg"
        return RedirectResponse(f"/tickets/{quote(no)}?{urlencode({key: (result or '').lstrip('!')})}", status_code=303)

    async def transfer(self, request: Request) -> Response:
        def change(service: TicketService, org, outbox, no, actor, form) -> str:
            raw = str(form.get("department", "")).strip()
            code = raw if raw in DEPARTMENTS else find_department(raw)
            if code is None:
                raise UserError(f"不认识的部门：{raw}。")
            ticket, old = service.transfer(no, code, actor)       # the service tells the rooms involved
            return texts.transferred(ticket, old, actor.name)
        return await self._act(request, "转派", change)

    async def nudge(self, request: Request) -> Response:
        def change(service: TicketService, org, outbox, no, actor, form) -> str:
            return texts.nudged(service.nudge(no, actor))
        return await self._act(request, "催办", change)

    async def assign(self, request: Request) -> Response:
        def change(service: TicketService, org, outbox, no, actor, form) -> str:
            target = str(form.get("target", "")).strip()
            if not target:
                raise UserError("请填写要指派的网格、节点路径或联系人。")
            ticket, place, name, _ = service.assign(no, target, actor)
            return texts.assigned(ticket, place.name, name)
        return await self._act(request, "指派", change)

    async def supervise(self, request: Request) -> Response:
        def change(service: TicketService, org, outbox, no, actor, form) -> str:
            service.supervise(no, str(form.get("demand", "")).strip(), actor)
            return texts.supervised_done(service.get(no))
        return await self._act(request, "督办", change)

    # ---- notices ------------------------------------------------------------------------------
    async def notice_page(self, request: Request) -> Response:
        def work(s, org, v, bs):
            try:
                no = parse_number(request.path_params["no"], "N", "通知号", "/notices/N3")
            except UserError as err:
                raise Refused(404, err.reply) from None
            notice = s.exec(select(Notice).where(Notice.no == no)).first()
            if notice is None:
                raise Refused(404, f"未找到通知 {no}")
            origin = org.node(notice.node_id)
            if not v.is_admin_over(origin):
                raise Refused(403, f"只有{origin.name}或上级的管理员可以查看通知 {no} 的回执。")
            rows = s.exec(select(NoticeTarget, OutboxMessage.status)
                          .join(OutboxMessage, OutboxMessage.id == NoticeTarget.outbox_id, isouter=True)
                          .where(NoticeTarget.notice_id == notice.id).order_by(NoticeTarget.id)).all()
            delivered = [t for t, st in rows if st == "sent" or t.acked_at is not None]
            confirmed = [t for t, _ in rows if t.acked_at is not None]
            missing = [t for t, _ in rows if t.acked_at is None]
            towns: dict[str, list[NoticeTarget]] = {}
            paths = queries.node_paths(s)
            for target in missing:
                parts = paths.get(target.node_id, "").split("/")
                towns.setdefault(parts[1] if len(parts) > 1 else parts[0], []).append(target)
            return self._render("notice.html", **self._base(org, v, bs), notice=notice, origin=origin,
                                total=len(rows), delivered=len(delivered), confirmed=len(confirmed),
                                missing=towns, missing_count=len(missing), tz=org.settings.tz,
                                bar=charts.progress(len(confirmed), len(delivered), len(rows)))
        return await self._read(request, work)

    # ---- rankings -----------------------------------------------------------------------------
    async def rankings_page(self, request: Request) -> Response:
        def work(s, org, v, bs):
            node = self._scope(s, v, request)
            since = queries.period_starts(self.config.clock.now(), org.settings.tz)["month"]
            ranks = ranking(s, node, since, limit=30)
            return self._render("rankings.html", **self._base(org, v, bs), node=node, ranks=ranks,
                                bars=charts.bars([(r.name, r.resolved, None) for r in ranks], title="本月办结数",
                                                 color=charts.GREEN))
        return await self._read(request, work)

    # ---- the API of §6.4 ----------------------------------------------------------------------
    async def api_tickets(self, request: Request) -> Response:
        def work(s, org, v, bs):
            rows = queries.tickets(s, v, None, None)
            rows.sort(key=lambda t: t.id)
            paths = queries.node_paths(s)
            followers = queries.followers_of(s, [t.id for t in rows])
            tz = org.settings.tz
            return JSONResponse([ticket_json(t, paths.get(t.node_id, ""), followers.get(t.id, []), tz) for t in rows])
        return await self._read(request, work, api=True)

    async def api_ticket(self, request: Request) -> Response:
        def work(s, org, v, bs):
            t = self._ticket(s, org, v, request.path_params["no"])
            service = TicketService(s, self.config.clock, org, Outbox(s, self.config.clock))
            tz = org.settings.tz
            data = ticket_json(t, org.node(t.node_id).path, [f.contact_id for f in service.followers(t)], tz)
            data["events"] = [{"who": e.actor_id, "name": e.actor_name, "when": e.at.astimezone(tz).isoformat(),
                               "what": e.kind, "detail": e.detail} for e in service.events(t)]
            return JSONResponse(data)
        return await self._read(request, work, api=True)

    async def api_summary(self, request: Request) -> Response:
        def work(s, org, v, bs):
            node = self._scope(s, v, request) if request.query_params.get("node") else None
            return JSONResponse(queries.summary(s, org, v, node, self.config.clock.now()))
        return await self._read(request, work, api=True)
