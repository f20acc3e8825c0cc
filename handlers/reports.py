"""Problems reported in plain chat (and forwarded chat records), and #上报 for an explicit report."""
import logging

from bot.dispatch import MAX_TEXT, Context, Router
from bot.domain.tickets import Report
from bot.errors import UserError

router = Router("reports")
log = logging.getLogger("gridbot.reports")

USAGE_REPORT = "#上报 <问题描述>"


@router.command("上报", usage=USAGE_REPORT, summary="直接登记一个问题")
async def report(ctx: Context, args: str) -> None:
    if not args:
        raise UserError(f"请写上问题内容。用法：{USAGE_REPORT}")
    found = ctx.classifier.classify(args)
    # An explicit report is a ticket even when the classifier doubts it; routed by the strongest
    # department evidence, or else waiting for the grid worker to route it with #转派.
    department = found.department or ctx.classifier.route(args)
    ctx.tickets.open(Report(text=args, department=department, urgency=found.urgency, keywords=found.keywords,
                            location=found.location),
                     ctx.actor, ctx.room, ctx.msg.room_id, ctx.msg.room_topic)


@router.text
async def chatter(ctx: Context) -> bool:
    """Open a ticket when ordinary chat reports a problem. Department rooms are where problems are
    handled, not reported, and rooms outside the org are not the bot's to act in."""
    msg = ctx.msg
    if msg.room_id is not None and ctx.room.node is None:
        return False
    if msg.kind == "chat_history":
        return _forwarded(ctx)
    if msg.kind != "text" or not msg.text.strip():
        return False
    if len(msg.text) > MAX_TEXT:
        log.info("message %s over %d characters not classified", msg.msg_id, MAX_TEXT)
        return False
    found = ctx.classifier.classify(msg.text)
    if not found.is_issue:
        return False
    ctx.tickets.open(Report(text=msg.text.strip(), department=found.department, urgency=found.urgency,
                            keywords=found.keywords, location=found.location),
                     ctx.actor, ctx.room, msg.room_id, msg.room_topic)
    return True


def _forwarded(ctx: Context) -> bool:
    """A household head forwards a neighbour's messages: each problem found in the record becomes a
    ticket whose reporter is the forwarder and whose text keeps the original speaker's name."""
    classifier = ctx.classifier
    by_department: dict[str | None, list] = {}
    for item in ctx.msg.items[:200]:
        text = item.text.strip()[:MAX_TEXT]
        found = classifier.classify(text)
        if found.is_issue:
            by_department.setdefault(found.department, []).append((item, found))
    for department, found_items in by_department.items():
        text = "\n".join(f"{item.name or '群友'}：{item.text.strip()}" for item, _ in found_items)
        urgent = any(f.urgency == "urgent" for _, f in found_items)
        first = found_items[0][1]
        ctx.tickets.open(Report(text=f"【转发聊天记录】{text}", department=department,
                                urgency="urgent" if urgent else "normal",
                                keywords=tuple(k for _, f in found_items for k in f.keywords),
                                location=first.location),
                         ctx.actor, ctx.room, ctx.msg.room_id, ctx.msg.room_topic)
    return bool(by_department)
