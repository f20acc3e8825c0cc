"""#通知 down the tree, #回执, and 收到 in a target room recorded as a receipt."""
from bot.dispatch import Context, Router, split_args
from bot.domain import texts
from bot.domain.notices import parse_notice
from nlp.courtesy import is_acknowledgement
from bot.errors import UserError
from nlp.timeexpr import parse_time

router = Router("notices")

USAGE_NOTICE = "#通知 [到<层级>] <内容> [截止<时间>]"
USAGE_RECEIPTS = "#回执 [N3]"


@router.command("通知", usage=USAGE_NOTICE, summary="向下级各群发通知并统计回执")
async def notice(ctx: Context, args: str) -> str:
    if not args:
        raise UserError(f"缺少参数。用法：{USAGE_NOTICE}")
    tz = ctx.org.settings.tz
    request = parse_notice(args, ctx.clock.now().astimezone(tz), parse_time)
    plan = ctx.notices.send(request, ctx.actor, ctx.room, ctx.msg.address)
    return texts.notice_planned(plan, ctx.notices.finish_estimate(plan.start, plan.rooms + 1), tz)


@router.command("回执", usage=USAGE_RECEIPTS, summary="查看通知的送达和回执情况")
async def receipts(ctx: Context, args: str) -> str:
    service = ctx.notices
    if args:
        token = split_args(args, 2)[0].upper().lstrip("Ｎ")
        no = token if token.startswith("N") else f"N{token}"
        if not no[1:].isdigit():
            raise UserError(f"通知号格式不对：{args}。用法：{USAGE_RECEIPTS}")
        found = service.get(no)
    elif ctx.room.node is not None:
        found = service.latest_from(ctx.room.node)
    else:
        raise UserError(f"缺少参数。用法：{USAGE_RECEIPTS}")
    return service.status(found, ctx.actor)


@router.text
async def receipt(ctx: Context) -> bool:
    """收到 in a room a notice went to, from someone who answers for that room, records the receipt
    silently (no ticket, no reply: hundreds of rooms answering would otherwise double the traffic)."""
    if ctx.msg.kind != "text" or not is_acknowledgement(ctx.msg.text):
        return False
    return ctx.notices.record_receipt(ctx.room, ctx.actor) is not None
