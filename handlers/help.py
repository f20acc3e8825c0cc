"""#帮助: the commands the sender's role may use."""
from bot.dispatch import Context, Router

router = Router("help")


@router.command("帮助", usage="#帮助", summary="查看可用命令")
async def show_help(ctx: Context, args: str) -> str:
    dispatcher = ctx.dispatcher
    lines = ["可用命令："]
    lines += [f"{c.usage}　{c.summary}" for c in dispatcher.offered(ctx)]
    lines.append("直接在群里描述问题（如“3栋楼道灯坏了”），机器人会自动登记工单。")
    return "\n".join(lines)
