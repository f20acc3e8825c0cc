"""#统计, #排行, #清单, #导出 — the admins' view of the room's subtree."""
from pathlib import Path

from bot.dispatch import Context, Router
from bot.domain import stats
from bot.domain.digests import subtree_lists
from bot.domain.texts import unsure_lines
from bot.domain.unsure import UnsureService
from bot.errors import UserError
from bot.export import export_tickets
from handlers import stats_texts as texts

router = Router("stats")



def _period(args: str, allowed: tuple[str, ...], default: str, usage: str) -> str:
    word = args.strip() or default
    if word not in allowed:
        raise UserError(f"统计时段只能是 {'、'.join(allowed)}。用法：{usage}")
    return word


@router.command("统计", usage="#统计 [今天/本周/本月]", summary="本级及以下的工单统计")
async def summary(ctx: Context, args: str) -> str:
    node = stats.scope(ctx.room.node, "查看统计")
    period = _period(args, stats.PERIODS, "今天", "#统计 [今天/本周/本月]")
    tz = ctx.org.settings.tz
    now = ctx.clock.now()
    result = stats.summary(ctx.session, node, stats.period_start(period, now, tz), now)
    return texts.summary(node.name, period, result)


@router.command("排行", usage="#排行 [本月]", summary="网格员办结排行")
async def ranking(ctx: Context, args: str) -> str:
    node = stats.scope(ctx.room.node, "查看排行")
    period = _period(args, stats.PERIODS, "本月", "#排行 [本月]")
    tz = ctx.org.settings.tz
    ranks = stats.ranking(ctx.session, node, stats.period_start(period, ctx.clock.now(), tz))
    return texts.ranking(node.name, period, ranks)


@router.command("清单", usage="#清单", summary="问题清单和本周解决清单")
async def lists(ctx: Context, args: str) -> str:
    node = stats.scope(ctx.room.node, "查看清单")
    tz = ctx.org.settings.tz
    now = ctx.clock.now()
    unsure = UnsureService(ctx.session, ctx.clock, ctx.org, ctx.tickets).pending_in_subtree(node)
    return "\n".join([subtree_lists(ctx.session, node, now, stats.period_start("本周", now, tz), tz),
                      *unsure_lines(unsure, tz)])


@router.command("导出", usage="#导出", summary="把本级及以下的工单导出为 Excel")
async def export(ctx: Context, args: str) -> None:
    node = stats.scope(ctx.room.node, "导出工单")
    tz = ctx.org.settings.tz
    local = ctx.clock.now().astimezone(tz)
    path = Path(ctx.export_dir) / f"工单_{node.name}_{local:%Y%m%d_%H%M%S}.xlsx"
    count = export_tickets(ctx.session, path, tz, ctx.clock.now(), node=node)
    reply = texts.exported(count, path.resolve())
    ctx.reply(reply, file_path=str(path.resolve()))
