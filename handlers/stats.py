"""#统计, #排行, #清单, #导出 — the admins' view of the room's subtree."""
from pathlib import Path

from bot.dispatch import Context, Router
from bot.domain import stats
from bot.domain.digests import subtree_lists
from bot.domain.org import ADMIN_ROLES
from bot.errors import UserError
from bot.export import export_tickets
from bot.storage.models import Node
from bot.transport import Outgoing
from handlers import stats_texts as texts

router = Router("stats")

ADMINS = {"admin"}
ADMINS_AND_WORKERS = {"admin", "grid_worker"}


def _scope(ctx: Context, roles: frozenset[str], what: str) -> Node:
    """The room's node, when the sender holds one of `roles` over it."""
    node = ctx.room.node
    if node is None:
        raise UserError(f"请在本级工作群里{what}，统计范围就是这个群所在的层级及以下。")
    if not ctx.org.holds_role(ctx.actor.contact_id, roles, node):
        who = "管理员" if roles == ADMIN_ROLES else "管理员或网格员"
        raise UserError(f"只有{node.name}或上级的{who}可以{what}。")
    return node


def _period(args: str, allowed: tuple[str, ...], default: str, usage: str) -> str:
    word = args.strip() or default
    if word not in allowed:
        raise UserError(f"统计时段只能是 {'、'.join(allowed)}。用法：{usage}")
    return word


@router.command("统计", usage="#统计 [今天/本周/本月]", summary="本级及以下的工单统计", roles=ADMINS_AND_WORKERS)
async def summary(ctx: Context, args: str) -> str:
    node = _scope(ctx, frozenset(ADMINS_AND_WORKERS), "查看统计")
    period = _period(args, stats.PERIODS, "今天", "#统计 [今天/本周/本月]")
    tz = ctx.org.settings.tz
    now = ctx.clock.now()
    result = stats.summary(ctx.session, node, stats.period_start(period, now, tz), now)
    return texts.summary(node.name, period, result)


@router.command("排行", usage="#排行 [本月]", summary="网格员办结排行", roles=ADMINS)
async def ranking(ctx: Context, args: str) -> str:
    node = _scope(ctx, ADMIN_ROLES, "查看排行")
    period = _period(args, stats.PERIODS, "本月", "#排行 [本月]")
    tz = ctx.org.settings.tz
    ranks = stats.ranking(ctx.session, node, stats.period_start(period, ctx.clock.now(), tz))
    return texts.ranking(node.name, period, ranks)


@router.command("清单", usage="#清单", summary="问题清单和本周解决清单", roles=ADMINS_AND_WORKERS)
async def lists(ctx: Context, args: str) -> str:
    node = _scope(ctx, frozenset(ADMINS_AND_WORKERS), "查看清单")
    tz = ctx.org.settings.tz
    now = ctx.clock.now()
    return subtree_lists(ctx.session, node, now, stats.period_start("本周", now, tz), tz)


@router.command("导出", usage="#导出", summary="把本级及以下的工单导出为 Excel", roles=ADMINS)
async def export(ctx: Context, args: str) -> None:
    node = _scope(ctx, ADMIN_ROLES, "导出工单")
    tz = ctx.org.settings.tz
    local = ctx.clock.now().astimezone(tz)
    path = Path(ctx.export_dir) / f"工单_{node.name}_{local:%Y%m%d_%H%M%S}.xlsx"
    count = export_tickets(ctx.session, path, tz, ctx.clock.now(), node=node)
    reply = texts.exported(count, path.resolve())
    if ctx.msg.room_id is None:
        ctx.outbox.post(Outgoing(text=reply, to=ctx.msg.sender_id, file_path=str(path.resolve())))
    else:
        ctx.outbox.post(Outgoing(text=reply, room_id=ctx.msg.room_id, room_topic=ctx.msg.room_topic,
                                 file_path=str(path.resolve())))
