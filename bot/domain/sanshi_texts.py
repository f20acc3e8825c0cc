"""User-facing sentences of 三事两门 (SPEC §5.2): 议事 votes and 走访 logs, in one place to review."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.texts import when
from bot.storage.models import Visit, Vote

USAGE_VOTE_OPEN = "#议事 <议题> [选项：A/B/C] [截止<时间>]"
USAGE_BALLOT = "#投票 Y3 <选项>"
USAGE_RESULT = "#议事结果 [Y3]"
USAGE_VISIT = "#走访 <对象> <情况>"
USAGE_LEDGER = "#走访台账 [本周/本月]"

VOTE_NOT_FOUND = "未找到议事 {no}"
VOTE_NEEDS_ROOM = "请在群里发起议事，投票在发起的群里进行。"
VOTE_NOT_NODE_ROOM = "议事请在网格、楼栋、中心户等组织架构里的群发起，这个群不在其中。"
VOTE_NONE_HERE = "这个群还没有发起过议事。用法：" + USAGE_RESULT
VOTE_PAST_DEADLINE = "截止时间已经过去了。"
VISIT_NO_NODE = "您在组织架构里没有可以登记走访的岗位（网格员、网格警、中心户）。"


def _options(options: list[str]) -> str:
    return " / ".join(options)


def vote_opened(v: Vote, options: list[str], tz: ZoneInfo) -> str:
    return (f"【议事 {v.no}】{v.topic}\n发起人：{v.opener_name}\n选项：{_options(options)}\n"
            f"截止：{when(v.closes_at, tz)}\n"
            f"请在本群投票，如：#投票 {v.no} {options[0]}（每人一票，可以改投，以最后一次为准）")


def vote_elsewhere(v: Vote, action: str) -> str:
    return f"议事 {v.no} 是在「{v.room_topic or '另一个群'}」发起的，请在那个群里{action}。"


def vote_closed(v: Vote, tz: ZoneInfo) -> str:
    return f"议事 {v.no} 已于 {when(v.closes_at, tz)} 截止，不能再投票。发送 #议事结果 {v.no} 查看结果。"


def unknown_option(v: Vote, given: str, options: list[str]) -> str:
    return f"议事 {v.no} 没有“{given}”这个选项，可选：{_options(options)}。用法：#投票 {v.no} {options[0]}"


def missing_option(v: Vote, options: list[str]) -> str:
    return f"请写上您选的选项（{_options(options)}）。用法：#投票 {v.no} {options[0]}"


def ballot_recorded(v: Vote, name: str, option: str, before: str | None, voters: int) -> str:
    if before == option:
        return f"{name}已经投过“{option}”，不用重复投票（议事 {v.no}，已有 {voters} 人投票）。"
    if before is not None:
        return f"已将{name}对议事 {v.no} 的投票由“{before}”改为“{option}”（已有 {voters} 人投票）。"
    return f"已记录{name}对议事 {v.no} 的投票：{option}（已有 {voters} 人投票）。"


def _tally_lines(tally: list[tuple[str, int]]) -> list[str]:
    total = sum(n for _, n in tally)
    return [f"{option}：{n}票" + (f"（{n * 100 / total:.0f}%）" if total else "") for option, n in tally]


def outcome(tally: list[tuple[str, int]]) -> str:
    total = sum(n for _, n in tally)
    if not total:
        return "无人投票"
    top = max(n for _, n in tally)
    leaders = [option for option, n in tally if n == top]
    if len(leaders) > 1:
        return f"平票（{'、'.join(leaders)}各 {top} 票）"
    return f"“{leaders[0]}”得票最多（{top}票）"


def vote_tally(v: Vote, tally: list[tuple[str, int]], now: datetime, tz: ZoneInfo) -> str:
    voters = sum(n for _, n in tally)
    if now < v.closes_at:
        head = f"【议事 {v.no}｜进行中】{v.topic}"
        foot = f"共 {voters} 人投票，{when(v.closes_at, tz)} 截止。"
    else:
        head = f"【议事 {v.no}｜已截止】{v.topic}"
        foot = f"共 {voters} 人投票，结果：{outcome(tally)}。"
    return "\n".join([head, *_tally_lines(tally), foot])


def vote_result(v: Vote, tally: list[tuple[str, int]], tz: ZoneInfo) -> str:
    """Posted to the room once, at the deadline."""
    voters = sum(n for _, n in tally)
    return "\n".join([f"【议事 {v.no} 结果】{v.topic}", f"投票已于 {when(v.closes_at, tz)} 截止。",
                      *_tally_lines(tally), f"共 {voters} 人投票，结果：{outcome(tally)}。"])


def visit_recorded(v: Visit, node_name: str, ticket_no: str | None, joined: bool) -> str:
    text = f"已登记走访：{v.subject}（{node_name}，{v.visitor_name}）。"
    if ticket_no is None:
        return text
    if joined:
        return text + f"走访中反映的问题与工单 {ticket_no} 相同，已并入该工单。"
    return text + f"走访中反映的问题已登记为工单 {ticket_no}，处理进展会在工单里通知。"


MAX_LEDGER_LINES = 50
_NOTE_LIMIT = 40


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def visit_ledger(scope: str, period: str, rows: list[tuple[Visit, str, str | None]], total: int,
                 tickets: int, tz: ZoneInfo) -> str:
    """rows: (visit, the visit's node name, ticket number or None), newest first."""
    if not total:
        return f"【{scope}｜{period}走访台账】暂无走访记录。"
    lines = [f"【{scope}｜{period}走访台账】共 {total} 次走访，发现问题并登记工单 {tickets} 件"]
    for i, (v, node_name, ticket_no) in enumerate(rows, 1):
        opened = f"（工单 {ticket_no}）" if ticket_no else ""
        lines.append(f"{i}. {when(v.at, tz)} {v.visitor_name}｜{node_name}｜{_short(v.subject, 20)}："
                     f"{_short(v.notes, _NOTE_LIMIT)}{opened}")
    if total > len(rows):
        lines.append(f"……另有 {total - len(rows)} 次走访未列出，可在下级群查看。")
    return "\n".join(lines)
