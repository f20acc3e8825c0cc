"""Pictures and files sent after a report become the ticket's evidence; a forwarded chat record the
transport could not read gets a request to forward the messages one by one instead of silence."""
from pathlib import Path

from bot.dispatch import Context, Router

router = Router("evidence")

KIND_NAMES = {"image": "图片", "file": "文件"}
UNREADABLE_RECORD = "收到您转发的聊天记录，但机器人读不到里面的内容。请把反映问题的消息逐条转发过来（或直接文字描述），我来登记。"


def _attached(no: str, kind: str, name: str) -> str:
    what = "照片" if kind == "image" else f"文件“{name}”"
    return f"已把{what}附到工单 {no}，处理人查询工单时可以看到。"


def _in_scope(ctx: Context) -> bool:
    # Like plain chat: act in the org's node groups and 1:1, not in department or outside groups.
    return ctx.msg.room_id is None or ctx.room.node is not None


@router.text
async def attachment(ctx: Context) -> bool:
    """An image or file from someone who reported a problem in the last 10 minutes."""
    msg = ctx.msg
    if msg.kind not in KIND_NAMES or not msg.attachment or not _in_scope(ctx):
        return False
    ticket = ctx.tickets.attach_evidence(msg.sender_id, msg.kind, msg.attachment)
    if ticket is None:
        return False        # photos are shared in groups all day; only a reporter's count
    # The transport prefixes saved files with the message id; show the name the sender gave it.
    ctx.reply(_attached(ticket.no, msg.kind, Path(msg.attachment).name.split("-", 1)[-1]))
    return True


@router.text
async def unreadable_record(ctx: Context) -> bool:
    msg = ctx.msg
    if msg.kind != "chat_history" or msg.items or not _in_scope(ctx):
        return False
    ctx.reply(UNREADABLE_RECORD)
    return True

