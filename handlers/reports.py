"""Problems reported in plain chat (and forwarded chat records), #上报 for an explicit report, and
the 待确认 list: #确认 / #忽略 for messages the classifier was unsure of."""
import logging

from bot.dispatch import MAX_TEXT, Context, Router, parse_number
from bot.domain import learning, texts
from nlp.courtesy import is_closing
from bot.domain.tickets import Report
from bot.errors import UserError

router = Router("reports")
log = logging.getLogger("gridbot.reports")

USAGE_REPORT = "#上报 <问题描述>"
USAGE_CONFIRM = "#确认 Q3"
USAGE_DISMISS = "#忽略 Q3"


@router.command("上报", usage=USAGE_REPORT, summary="直接登记一个问题（也可引用一条消息回复 #上报）")
async def report(ctx: Context, args: str) -> None:
    # Quoting a message and replying #上报 reports the quoted message; words after #上报 add to it.
    problem = ctx.quoted or args
    if not problem:
        raise UserError(f"请写上问题内容。用法：{USAGE_REPORT}")
    text = f"{ctx.quoted}（{args}）" if ctx.quoted and args else problem
    found = ctx.classifier.classify(problem)
    # An explicit report is a ticket even when the classifier doubts it; routed by the strongest
    # department evidence, or else waiting for the grid worker to route it with #转派. A problem the
    # classifier missed is a correction it learns from (once someone takes the ticket on).
    department = found.department or ctx.classifier.route(problem)
    ctx.tickets.open(Report(text=text, department=department, urgency=found.urgency, keywords=found.keywords,
                            location=found.location),
                     ctx.actor, ctx.room, ctx.msg.address,
                     teaches=None if found.is_issue else learning.MISSED)


@router.command("确认", usage=USAGE_CONFIRM, summary="把待确认消息登记为工单")
async def confirm(ctx: Context, args: str) -> str:
    no = _unsure_no(args, USAGE_CONFIRM)
    row, ticket = ctx.unsure.confirm(no, ctx.actor, ctx.classifier)
    return texts.unsure_confirmed(row, ticket)


@router.command("忽略", usage=USAGE_DISMISS, summary="待确认消息不是问题")
async def dismiss(ctx: Context, args: str) -> str:
    row = ctx.unsure.dismiss(_unsure_no(args, USAGE_DISMISS), ctx.actor)
    return texts.unsure_dismissed(row)


def _unsure_no(args: str, usage: str) -> str:
    token = args.split(maxsplit=1)[0] if args.strip() else ""
    if not token:
        raise UserError(f"缺少参数。用法：{usage}")
    return parse_number(token, "Q", "待确认编号", usage)


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
        return _too_long(ctx)
    found = ctx.classifier.classify(msg.text)
    if msg.room_id is None and ctx.tickets.places.answer(ctx.actor, msg.address, msg.text, found.is_issue):
        ctx.greetings.answered(ctx.actor.contact_id)     # just talked: no hello on top of it for a while
        return True            # the answer to "where do you live?" (bot/domain/places.py)
    if not found.is_issue:
        node = ctx.room.node or ctx.org.home_node(ctx.actor.contact_id)
        if found.unsure and node is not None:
            ctx.unsure.add(msg.text, msg.address, ctx.actor, node)
        if msg.room_id is None and not is_closing(msg.text):
            return ctx.greetings.hello(ctx.actor.contact_id)
        return False
    ctx.tickets.open(Report(text=msg.text.strip(), department=found.department, urgency=found.urgency,
                            keywords=found.keywords, location=found.location),
                     ctx.actor, ctx.room, msg.address)
    return True


def _too_long(ctx: Context) -> bool:
    """A message over MAX_TEXT is not classified or recorded. 1:1 it is always answered (the sender
    waits for the bot); in a group only when its beginning reads as a report, so long pasted articles
    and notices in a group stay unanswered."""
    msg = ctx.msg
    log.info("message %s over %d characters not classified", msg.msg_id, MAX_TEXT)
    if msg.room_id is not None and not ctx.classifier.classify(msg.text[:MAX_TEXT]).is_issue:
        return False
    ctx.reply(texts.too_long(MAX_TEXT, len(msg.text)))
    return True


def _forwarded(ctx: Context) -> bool:
    """A household head forwards a neighbour's messages: the problems found in the record become
    tickets (bot/domain/tickets.py says how they are grouped and told)."""
    found = []
    for item in ctx.msg.items[:200]:
        result = ctx.classifier.classify(item.text.strip()[:MAX_TEXT])
        if result.is_issue:
            found.append((item.name, item.text.strip(), result))
    ctx.tickets.open_forwarded(found, ctx.actor, ctx.room, ctx.msg.address)
    return bool(found)
