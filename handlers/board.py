"""#登录: a one-time code for the command centre's web board, given 1:1 only (SPEC §5.1, §6.4)."""
from bot.dispatch import Context, Router
from bot.domain import texts
from bot.errors import UserError

router = Router("board")


@router.command("登录", usage="#登录", summary="获取指挥看板的一次性登录验证码（私聊机器人）")
async def login_code(ctx: Context, args: str) -> str:
    if ctx.msg.address.is_room:
        # A code said in a group is a code everyone there has read.
        raise UserError(texts.BOARD_ONLY_PRIVATE)
    code, until = ctx.logins.issue(ctx.actor.contact_id)
    return texts.board_code(code, ctx.actor.contact_id, until, ctx.org.settings.tz)
