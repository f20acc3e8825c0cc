"""#统计, #排行, #清单, #导出 — the admins' view of the room's subtree."""
from bot.dispatch import Context, Router
from bot.domain import stats
from bot.errors import UserError
from bot.domain import stats_texts as texts

router = Router("stats")
CHART_WORDS = ("图表", "图")      # `#统计 本月 图`: the text and a chart image


def _period(args: str, allowed: tuple[str, ...], default: str, usage: str) -> str:
    word = args.strip() or default
    if word not in allowed:
        raise UserError(f"统计时段只能是 {'、'.join(allowed)}。用法：{usage}")
    return word


@router.command("统计", usage="#统计 [今天/本周/本月] [图]", summary="本级及以下的工单统计（加“图”附统计图）")
async def summary(ctx: Context, args: str) -> str | None:
    node = stats.scope(ctx.room.node, "查看统计")
    body = args.strip()
    chart = body.endswith(CHART_WORDS)
    if chart:
        body = next(body[:-len(w)] for w in CHART_WORDS if body.endswith(w)).strip()
    period = _period(body, stats.PERIODS, "今天", "#统计 [今天/本周/本月]")
    text = texts.summary(node.name, period, ctx.admin.summary(node, period))
    if not chart:
        return text
    ctx.reply(text, file_path=str(ctx.admin.chart(node, period)))
    return None


@router.command("排行", usage="#排行 [本月]", summary="办结排行（按办结人）")
async def ranking(ctx: Context, args: str) -> str:
    node = stats.scope(ctx.room.node, "查看排行")
    period = _period(args, stats.PERIODS, "本月", "#排行 [本月]")
    return texts.ranking(node.name, period, ctx.admin.ranking(node, period))


@router.command("清单", usage="#清单", summary="问题清单和本周解决清单")
async def lists(ctx: Context, args: str) -> str:
    node = stats.scope(ctx.room.node, "查看清单")
    return ctx.admin.lists(node, ctx.unsure.pending_in_subtree(node))


@router.command("导出", usage="#导出", summary="把本级及以下的工单导出为 Excel")
async def export(ctx: Context, args: str) -> None:
    count, path = ctx.admin.export(stats.scope(ctx.room.node, "导出工单"))
    ctx.reply(texts.exported(count, path), file_path=str(path))
