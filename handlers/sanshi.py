"""三事两门 (SPEC §5.2): #议事, #投票, #议事结果 — votes in a room; #走访, #走访台账 — home visits."""
import re

from bot.dispatch import Context, Router, parse_number
from bot.domain import sanshi_texts as texts
from bot.domain import stats
from bot.domain.tickets import Report
from bot.domain.visits import LEDGER_PERIODS, visit_ticket_text
from bot.domain.votes import parse_vote
from bot.errors import UserError
from nlp.timeexpr import parse_time

router = Router("sanshi")

_VOTE_HEAD = re.compile(r"^\s*([A-Za-zＡ-Ｚａ-ｚ]?[0-9０-９]{1,9})(?=$|[\s:：,，、。;；]|[^\x00-\x7f０-９])[\s:：,，、。;；]*(.*)$",
                        re.DOTALL)


def _vote_no(token: str, usage: str) -> str:
    return parse_number(token, "Y", "议事编号", usage)


@router.command("议事", usage=texts.USAGE_VOTE_OPEN, summary="在本群发起议事投票（默认 同意/不同意，48小时后截止）")
async def open_vote(ctx: Context, args: str) -> str:
    if not args:
        raise UserError(f"缺少参数。用法：{texts.USAGE_VOTE_OPEN}，如 #议事 5栋加装电梯 选项：同意/不同意/弃权 截止周五18点")
    tz = ctx.org.settings.tz
    request = parse_vote(args, ctx.clock.now().astimezone(tz), parse_time)
    vote = ctx.votes.open(request, ctx.actor, ctx.room, ctx.msg.address)
    return texts.vote_opened(vote, ctx.votes.options(vote), tz)


@router.command("投票", usage=texts.USAGE_BALLOT, summary="在本群的议事中投票（可改投，以最后一次为准）")
async def ballot(ctx: Context, args: str) -> str:
    match = _VOTE_HEAD.match(args)
    if not args.strip() or match is None:
        raise UserError(f"缺少议事编号。用法：{texts.USAGE_BALLOT}")
    return ctx.votes.cast(_vote_no(match.group(1), texts.USAGE_BALLOT), match.group(2), ctx.actor, ctx.msg.address)


@router.command("议事结果", usage=texts.USAGE_RESULT, summary="查看议事的投票情况（不写编号：本群最近一次）")
async def result(ctx: Context, args: str) -> str:
    no = _vote_no(args.split()[0], texts.USAGE_RESULT) if args.strip() else None
    return ctx.votes.result(no, ctx.actor, ctx.msg.address)


@router.command("走访", usage=texts.USAGE_VISIT, summary="登记一次走访（上门），情况里反映的问题自动登记工单")
async def visit(ctx: Context, args: str) -> str:
    parts = args.split(maxsplit=1)
    if len(parts) < 2:
        raise UserError(f"请写上走访对象和情况。用法：{texts.USAGE_VISIT}，如 #走访 5栋2单元李大爷 独居，身体还好，反映楼道灯坏了")
    subject, notes = parts[0], parts[1].strip()
    # The notes are read as a natural report would be: a problem in them becomes a ticket.
    found = ctx.classifier.classify(notes)
    problem = Report(text=visit_ticket_text(subject, notes), department=found.department, urgency=found.urgency,
                     keywords=found.keywords, location=found.location) if found.is_issue else None
    logged, node, ticket, joined = ctx.visits.record(subject, notes, ctx.actor, problem, ctx.msg.address)
    return texts.visit_recorded(logged, node.name, ticket.no if ticket else None, joined)


@router.command("走访台账", usage=texts.USAGE_LEDGER, summary="本级及以下的走访记录（谁、走访谁、何时、情况、工单）")
async def ledger(ctx: Context, args: str) -> str:
    node = stats.scope(ctx.room.node, "查看走访台账")
    period = args.strip() or LEDGER_PERIODS[0]
    if period not in LEDGER_PERIODS:
        raise UserError(f"时段只能是 {'、'.join(LEDGER_PERIODS)}。用法：{texts.USAGE_LEDGER}")
    rows, total, tickets = ctx.visits.ledger(node, period)
    return texts.visit_ledger(node.name, period, rows, total, tickets, ctx.org.settings.tz)
