"""#提醒 (scheduled reminders) and #催办 (nudging a ticket's assignee)."""
from bot.dispatch import Context, Router, parse_ticket_no, split_ticket, split_when
from bot.domain import texts
from bot.domain.reminders import MAX_REMINDER_TEXT
from bot.errors import UserError

router = Router("reminders")

USAGE_REMIND = "#提醒 <时间> <内容>，如 #提醒 明天9点 交防汛材料"
USAGE_NUDGE = "#催办 T12"


@router.command("提醒", usage="#提醒 <时间> <内容>", summary="定时在本群提醒（如 明天9点、30分钟后）")
async def remind(ctx: Context, args: str) -> str:
    if not args:
        raise UserError(f"缺少参数。用法：{USAGE_REMIND}")
    tz = ctx.org.settings.tz
    when, content = split_when(args, ctx.clock.now().astimezone(tz), USAGE_REMIND, "提醒内容")
    if len(content) > MAX_REMINDER_TEXT:
        raise UserError(f"提醒内容太长（超过{MAX_REMINDER_TEXT}字），请精简。")
    ctx.reminders.schedule(when, content, ctx.actor.name, ctx.msg.address)
    return texts.reminder_set(when, content, tz)


@router.command("催办", usage=USAGE_NUDGE, summary="催促处理人尽快处理工单")
async def nudge(ctx: Context, args: str) -> str:
    if not args:
        raise UserError(f"缺少参数。用法：{USAGE_NUDGE}")
    ticket = ctx.tickets.nudge(parse_ticket_no(split_ticket(args)[0], USAGE_NUDGE), ctx.actor)
    return texts.nudged(ticket)
