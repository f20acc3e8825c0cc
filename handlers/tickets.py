"""Ticket commands: #查询 #受理 #转派 #不受理 #办结 #评价 #撤销, and the closed loop's #指派 #合并 #督办
#延期 #同意延期 #驳回延期 #重开. Parse, call the ticket service, format."""
from bot.domain.departments import find_department
from bot.dispatch import Context, Router, parse_ticket_no, split_ticket, split_when
from bot.domain import texts
from bot.errors import UserError

router = Router("tickets")


USAGE_QUERY = "#查询 [T12]"
USAGE_ACCEPT = "#受理 T12"
USAGE_TRANSFER = "#转派 T12 <部门>"
USAGE_DECLINE = "#不受理 T12 <理由>（理由写“不是问题”时记为识别错误）"
USAGE_RESOLVE = "#办结 T12 <处理说明>"
USAGE_RATE = "#评价 T12 满意/基本满意/不满意 [意见]"
USAGE_CANCEL = "#撤销 T12"
USAGE_ASSIGN = "#指派 T12 <网格名、节点路径或联系人>，如 #指派 T12 第4网格"
USAGE_MERGE = "#合并 T4 T3（把 T4 并入 T3）"
USAGE_SUPERVISE = "#督办 T12 [要求]"
USAGE_EXTEND = "#延期 T12 <时间> <理由>，如 #延期 T12 下周五18点 需等配件到货"
USAGE_APPROVE = "#同意延期 T12"
USAGE_REJECT = "#驳回延期 T12 <理由>"
USAGE_REOPEN = "#重开 T12 [理由]"


def _missing(usage: str) -> UserError:
    return UserError(f"缺少参数。用法：{usage}")


def _ticket_and_text(args: str, usage: str) -> tuple[str, str]:
    """`T12 <text>` → ("T12", text); both are required."""
    token, text = split_ticket(args)
    if not token or not text.strip():
        raise _missing(usage)
    return parse_ticket_no(token, usage), text.strip()


def _ticket(args: str, usage: str) -> tuple[str, str]:
    """`T12 [text]` → ("T12", text); the text may be empty."""
    token, text = split_ticket(args)
    if not token:
        raise _missing(usage)
    return parse_ticket_no(token, usage), text.strip()


def _told_here(ctx: Context, ticket) -> bool:
    """The change was made in the room it was reported in, where the service's message already went."""
    return ctx.msg.address == ticket.source


@router.command("查询", usage=USAGE_QUERY, summary="查工单进度；不带单号查自己的工单")
async def query(ctx: Context, args: str) -> str:
    if not args:
        return texts.ticket_list(ctx.tickets.open_for(ctx.actor.contact_id), ctx.org.settings.tz,
                                 ctx.actor.contact_id)
    no = parse_ticket_no(split_ticket(args)[0], USAGE_QUERY)
    return ctx.tickets.detail(no, ctx.actor)


@router.command("受理", usage=USAGE_ACCEPT, summary="受理工单")
async def accept(ctx: Context, args: str) -> str:
    if not args:
        raise _missing(USAGE_ACCEPT)
    ticket = ctx.tickets.accept(parse_ticket_no(split_ticket(args)[0], USAGE_ACCEPT), ctx.actor, ctx.msg.address)
    return None if _told_here(ctx, ticket) else texts.accepted(ticket, ctx.actor.name)


@router.command("转派", usage=USAGE_TRANSFER, summary="转派到其他部门")
async def transfer(ctx: Context, args: str) -> str:
    no, dept_text = _ticket_and_text(args, USAGE_TRANSFER)
    code = find_department(dept_text)
    if code is None:
        raise UserError(f"不认识的部门：{dept_text}。可填部门名称，如 城管、供水、供电、公安。")
    ticket, old = ctx.tickets.transfer(no, code, ctx.actor, ctx.msg.address)
    return texts.transferred(ticket, old, ctx.actor.name)


@router.command("不受理", usage=USAGE_DECLINE, summary="不予受理并告知上报人理由")
async def decline(ctx: Context, args: str) -> str:
    ticket, taught = ctx.tickets.decline(*_ticket_and_text(args, USAGE_DECLINE), ctx.actor, ctx.msg.address)
    return None if _told_here(ctx, ticket) else texts.declined_done(ticket, taught)


@router.command("办结", usage=USAGE_RESOLVE, summary="办结工单并请上报人评价")
async def resolve(ctx: Context, args: str) -> str:
    ticket = ctx.tickets.resolve(*_ticket_and_text(args, USAGE_RESOLVE), ctx.actor, ctx.msg.address)
    return None if _told_here(ctx, ticket) else texts.resolved(ticket, ctx.actor.name)


@router.command("评价", usage=USAGE_RATE, summary="评价已办结的工单")
async def rate(ctx: Context, args: str) -> str:
    no, rating_and_note = _ticket_and_text(args, USAGE_RATE)
    rating, note = texts.parse_rating(rating_and_note)
    if rating is None:
        raise UserError(f"评价只能是 满意、基本满意 或 不满意。用法：{USAGE_RATE}")
    ticket = ctx.tickets.rate(no, rating, note, ctx.actor)
    return texts.rated(ticket, rating)


@router.command("撤销", usage=USAGE_CANCEL, summary="撤销自己上报的工单")
async def cancel(ctx: Context, args: str) -> str:
    if not args:
        raise _missing(USAGE_CANCEL)
    ticket = ctx.tickets.cancel(parse_ticket_no(split_ticket(args)[0], USAGE_CANCEL), ctx.actor, ctx.msg.address)
    return None if _told_here(ctx, ticket) else texts.cancelled(ticket, ctx.actor.name)


@router.command("指派", usage=USAGE_ASSIGN, summary="把工单交给某个网格或某位人员")
async def assign(ctx: Context, args: str) -> str:
    no, target = _ticket_and_text(args, USAGE_ASSIGN)
    ticket, place, name, told_here = ctx.tickets.assign(no, target, ctx.actor, ctx.msg.address)
    return None if told_here else texts.assigned(ticket, place.name, name)


@router.command("合并", usage=USAGE_MERGE, summary="把重复的工单并入另一张")
async def merge(ctx: Context, args: str) -> str:
    no, rest = _ticket_and_text(args, USAGE_MERGE)
    into_no = parse_ticket_no(split_ticket(rest)[0], USAGE_MERGE)
    ticket, into = ctx.tickets.merge(no, into_no, ctx.actor, ctx.msg.address)
    return None if _told_here(ctx, ticket) else texts.merged_done(ticket, into)


@router.command("督办", usage=USAGE_SUPERVISE, summary="督办工单，提醒处理人限时办理")
async def supervise(ctx: Context, args: str) -> str:
    no, demand = _ticket(args, USAGE_SUPERVISE)
    told_here = ctx.tickets.supervise(no, demand, ctx.actor, ctx.msg.address)
    return None if told_here else texts.supervised_done(ctx.tickets.get(no))


@router.command("延期", usage=USAGE_EXTEND, summary="申请推迟办结时限，由上级审批")
async def extend(ctx: Context, args: str) -> str:
    no, rest = _ticket_and_text(args, USAGE_EXTEND)
    tz = ctx.org.settings.tz
    until, reason = split_when(rest, ctx.clock.now().astimezone(tz), USAGE_EXTEND, "延期理由")
    ticket, decider, told_here = ctx.tickets.request_extension(no, until, reason, ctx.actor, ctx.msg.address)
    return None if told_here else texts.extension_request_sent(ticket, decider.name, until, tz)


@router.command("同意延期", usage=USAGE_APPROVE, summary="同意延期申请")
async def approve_extension(ctx: Context, args: str) -> str:
    no, _ = _ticket(args, USAGE_APPROVE)
    ticket, until, told_here = ctx.tickets.decide_extension(no, True, "", ctx.actor, ctx.msg.address)
    return None if told_here else texts.extension_decided(ticket, True, until, ctx.org.settings.tz)


@router.command("驳回延期", usage=USAGE_REJECT, summary="驳回延期申请并说明理由")
async def reject_extension(ctx: Context, args: str) -> str:
    no, reason = _ticket_and_text(args, USAGE_REJECT)
    ticket, until, told_here = ctx.tickets.decide_extension(no, False, reason, ctx.actor, ctx.msg.address)
    return None if told_here else texts.extension_decided(ticket, False, until, ctx.org.settings.tz)


@router.command("重开", usage=USAGE_REOPEN, summary="重开已办结、已归档、不予受理或已合并的工单")
async def reopen(ctx: Context, args: str) -> str:
    no, reason = _ticket(args, USAGE_REOPEN)
    ticket = ctx.tickets.reopen(no, reason, ctx.actor, ctx.msg.address)
    return None if _told_here(ctx, ticket) else texts.reopened_done(ticket, ctx.org.settings.tz)
