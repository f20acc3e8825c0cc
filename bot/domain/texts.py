"""Every user-facing sentence about tickets, in one place to read and review together."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.departments import department_name
from bot.privacy import mask_private
from bot.storage.models import Evidence, Ticket, TicketEvent

STATUS_NAMES = {
    "open": "待受理",
    "accepted": "处置中",
    "resolved": "已办结",
    "closed": "已归档",
    "cancelled": "已撤销",
    "declined": "不予受理",
    "merged": "已合并",
}
OVERDUE_NAMES = {"overdue_accept": "超期未受理", "overdue_resolve": "超期未办结"}   # bot/domain/deadlines.py
UNRATED = "未评价"
URGENCY_NAMES = {"urgent": "紧急", "normal": "一般"}
RATINGS = ("满意", "基本满意", "不满意")
_RATING_WORDS = (  # what people type, most specific first → the rating it means
    ("不太满意", "不满意"), ("不满意", "不满意"), ("基本满意", "基本满意"), ("还算满意", "基本满意"),
    ("还行", "基本满意"), ("一般", "基本满意"), ("非常满意", "满意"), ("很满意", "满意"), ("满意", "满意"),
)


def parse_rating(text: str) -> tuple[str | None, str]:
    """`满意`, `非常满意 谢谢`, `不满意 还在漏` → (rating, note). The rating word must lead the text."""
    head = text.strip()
    for word, rating in _RATING_WORDS:
        if head.startswith(word):
            return rating, head[len(word):].strip(" ，,。！!")
    return None, head
EVENT_NAMES = {
    "opened": "上报",
    "followed": "重复反映",
    "nudged": "催办",
    "accepted": "受理",
    "transferred": "转派",
    "resolved": "办结",
    "rated": "评价",
    "reopened": "重新办理",
    "closed": "归档",
    "cancelled": "撤销",
    "declined": "不予受理",
    "assigned": "指派",
    "merged": "合并至",
    "merged_in": "并入工单",
    "supervised": "督办",
    "extension_requested": "申请延期",
    "extension_approved": "同意延期",
    "extension_rejected": "驳回延期",
    "moved": "转至",
    "rate_reminded": "回访提醒评价",
}


RELAY_LIMIT = 120      # characters of a ticket's text relayed to another room (the rest: #查询)
DETAIL_LIMIT = 3000    # characters of a ticket's text in #查询 (a forwarded record can be longer)
EVENT_LIMIT = 100      # characters of one event's note in #查询
MAX_EVENTS = 30        # events listed in #查询 (the latest ones)
_SENTENCE_ENDS = "。！？!?；;\n"
_CLAUSE_ENDS = "，,、："


def relayed(t: Ticket) -> str:
    """A ticket's text as relayed to other rooms (alerts, dispatches, escalations): private numbers
    masked, and a long text summarised by its beginning with a pointer to #查询 for the rest."""
    text = mask_private(t.text).strip()
    if len(text) <= RELAY_LIMIT:
        return text
    return f"{cut_at_sentence(text, RELAY_LIMIT)}…（共{len(text)}字，详见 #查询 {t.no}）"


def cut_at_sentence(text: str, limit: int) -> str:
    """The first `limit` characters at most, cut after the last sentence end in them (else a clause
    end) when that keeps at least half; otherwise cut at the limit. Mask before calling: a number cut
    in two would no longer be recognised."""
    head = text[:limit]
    for ends in (_SENTENCE_ENDS, _CLAUSE_ENDS):
        cut = max(head.rfind(c) for c in ends)
        if cut + 1 >= limit // 2:
            return head[:cut + 1].rstrip()
    return head


def when(dt: datetime, tz: ZoneInfo) -> str:
    local = dt.astimezone(tz)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def dept(code: str | None) -> str:
    return department_name(code) if code else "待分派"


def mention(name: str) -> str:
    # WeChat renders a mention as "@name" followed by a four-per-em space. A resident is mentioned
    # by the name WeChat shows them (居民「张阿姨」 → @张阿姨): the mark is for relaying, not addressing.
    if name.startswith("居民「") and name.endswith("」"):
        name = name[3:-1]
    return f"@{name}\u2005"


# What a resident in danger should dial at once, by the ticket's department: the police for
# crime and traffic, the fire brigade for fire. The emergency department holds both medical
# emergencies (someone fallen, unconscious, poisoned) and rescues (trapped, gas, collapse,
# flood), so it names both numbers with what each is for; the rest get the ambulance, as the
# danger there is mostly to someone's body (a shock, a fall, food poisoning).
EMERGENCY_CALLS = {
    "police": "请立即拨打110！",
    "traffic": "请立即拨打110，有人受伤同时拨打120！",
    "fire": "请立即拨打119！",
    "emergency": "有人受伤、昏迷或中毒请立即拨打120，有人被困或需要抢险请立即拨打119！",
}
EMERGENCY_CALL_OTHER = "有人受伤或身体不适请立即拨打120！"


def acknowledged(t: Ticket, assignee_name: str | None, tz: ZoneInfo) -> str:
    who = f"由{assignee_name}负责" if assignee_name else "待指派处理人"
    head = ("【紧急】" + EMERGENCY_CALLS.get(t.department or "", EMERGENCY_CALL_OTHER)) if t.urgency == "urgent" else ""
    return (f"{head}已登记工单 {t.no}（{dept(t.department)}），{who}，"
            f"{when(t.accept_by, tz)}前受理，{when(t.resolve_by, tz)}前办结。"
            f"查进度请发：#查询 {t.no}")


def grid_alert(t: Ticket, node_path: str, text: str, assignee_name: str | None, tz: ZoneInfo,
               admin_names: list[str] = ()) -> str:
    if assignee_name:
        who = f"{mention(assignee_name)}请于{when(t.accept_by, tz)}前受理：#受理 {t.no}"
    else:
        heads = "".join(mention(n) for n in admin_names)
        who = f"{heads}暂无对应网格员，请管理员受理或转派：#受理 {t.no}"
    return (f"【新工单 {t.no}｜{URGENCY_NAMES[t.urgency]}｜{dept(t.department)}】\n"
            f"地点：{_place(t, node_path)}\n内容：{text}\n上报人：{t.reporter_name}\n{who}")


def department_dispatch(t: Ticket, node_path: str, text: str, assignee_name: str | None, tz: ZoneInfo) -> str:
    return (f"【工单派发 {t.no}｜{URGENCY_NAMES[t.urgency]}】\n地点：{_place(t, node_path)}\n内容：{text}\n"
            f"网格负责人：{assignee_name or '待指派'}\n办结时限：{when(t.resolve_by, tz)}\n"
            f"受理请发：#受理 {t.no}；办结请发：#办结 {t.no} 处理说明")


def urgent_alert(t: Ticket, node_path: str, text: str, assignee_name: str | None, tz: ZoneInfo) -> str:
    return (f"【紧急工单 {t.no}｜{dept(t.department)}】\n地点：{_place(t, node_path)}\n内容：{text}\n"
            f"网格负责人：{assignee_name or '待指派'}，须{when(t.accept_by, tz)}前受理")


def _place(t: Ticket, node_path: str) -> str:
    return f"{node_path}（{t.location}）" if t.location else node_path


def accepted(t: Ticket, by_name: str) -> str:
    return f"{by_name}已受理工单 {t.no}（{dept(t.department)}），正在处置。"


def transferred(t: Ticket, old: str | None, by_name: str) -> str:
    return f"工单 {t.no} 已由{by_name}从{dept(old)}转派至{dept(t.department)}。"


def resolved(t: Ticket, by_name: str) -> str:
    return f"工单 {t.no} 已由{by_name}办结：{t.resolution}"


def rate_request(t: Ticket, reporter_name: str) -> str:
    return (f"{mention(reporter_name)}您反映的问题（工单 {t.no}）已办结：{t.resolution}\n"
            f"请评价：#评价 {t.no} 满意 / 基本满意 / 不满意")


def rate_reminder(t: Ticket, close_at: datetime, tz: ZoneInfo) -> str:
    return (f"【回访】{mention(t.reporter_name)}您反映的问题（工单 {t.no}）已于{when(t.resolved_at, tz)}办结，"
            f"还没有收到您的评价。请评价：#评价 {t.no} 满意 / 基本满意 / 不满意\n"
            f"{when(close_at, tz)}前未评价的，工单将按“{UNRATED}”归档。")


def gathered_revisits(items: list[str], tail: str = "") -> str:
    """回访 reminders due together for one room: one message, each reporter mentioned on their line."""
    if len(items) == 1:
        return items[0]
    return "\n".join([f"【回访】共{len(items)}件工单已办结、尚未评价："]
                     + [f"{i}. {item.removeprefix('【回访】')}" for i, item in enumerate(items, 1)])


def overdue(kinds: tuple[str, ...]) -> str:
    """`超期未受理、超期未办结`, or "" when not overdue."""
    return "、".join(OVERDUE_NAMES[k] for k in kinds)


def rated(t: Ticket, rating: str) -> str:
    if rating == "不满意":
        return f"收到您对工单 {t.no} 的评价：不满意。工单已重新交办，我们会继续跟进。"
    return f"感谢评价！工单 {t.no} 评价为“{rating}”，已归档。"


def reopened(t: Ticket, assignee_name: str | None, note: str, tz: ZoneInfo) -> str:
    who = mention(assignee_name) if assignee_name else ""
    reason = f"，意见：{note}" if note else ""
    return (f"{who}工单 {t.no} 上报人评价不满意{reason}，已重新交办，"
            f"请于{when(t.resolve_by, tz)}前办结：#办结 {t.no} 处理说明")


def declined(t: Ticket, by_name: str, reason: str) -> str:
    return f"{mention(t.reporter_name)}您反映的问题（工单 {t.no}）经{by_name}核实不予受理。理由：{reason}"


def declined_done(t: Ticket, taught: bool) -> str:
    lesson = "已记为识别错误，机器人会从中学习。" if taught else ""
    return f"工单 {t.no} 已标记为不予受理，已告知上报人。{lesson}"


def cancelled(t: Ticket, by_name: str) -> str:
    return f"工单 {t.no} 已由{by_name}撤销。"


def ticket_detail(t: Ticket, node_path: str, assignee_name: str | None, events: list[TicketEvent],
                  tz: ZoneInfo, evidence: list[Evidence] = (), merged_into: str | None = None,
                  overdue_kinds: tuple[str, ...] = ()) -> str:
    """`overdue_kinds`: bot/domain/deadlines.overdue_kinds(t, now), as the lists and figures say."""
    supervised = "｜督办" if t.supervised_at else ""
    late = overdue(overdue_kinds)
    lines = [
        f"工单 {t.no}｜{STATUS_NAMES[t.status]}｜{dept(t.department)}｜{URGENCY_NAMES[t.urgency]}{supervised}",
        f"地点：{_place(t, node_path)}",
        f"内容：{_short(t.text, DETAIL_LIMIT)}",
        f"处理人：{assignee_name or '待指派'}",
        f"受理时限：{when(t.accept_by, tz)}；办结时限：{when(t.resolve_by, tz)}" + (f"｜⚠{late}" if late else ""),
    ]
    if merged_into:
        lines.append(f"已并入工单 {merged_into}，进展请查询：#查询 {merged_into}")
    if t.supervised_at:
        lines.append(f"督办：{when(t.supervised_at, tz)}")
    if t.extension_until:
        lines.append(f"延期申请：延至{when(t.extension_until, tz)}，待审批")
    if t.rating or t.status == "closed":
        lines.append(f"评价：{t.rating or UNRATED}")
    if evidence:
        lines.append(f"附件（{len(evidence)}）：")
        for e in evidence:
            # Saved files are named "<message id>-<original name>".
            name = e.path.replace("\\", "/").rsplit("/", 1)[-1].split("-", 1)[-1]
            lines.append(f"· {when(e.at, tz)} {'图片' if e.kind == 'image' else '文件'} {name}")
    lines.append("记录：")
    if len(events) > MAX_EVENTS:
        lines.append(f"· （更早的 {len(events) - MAX_EVENTS} 条记录从略）")
        events = events[-MAX_EVENTS:]
    for e in events:
        who = e.actor_name or "系统"
        detail = f"：{_short(e.detail, EVENT_LIMIT)}" if e.detail else ""
        lines.append(f"· {when(e.at, tz)} {who} {EVENT_NAMES.get(e.kind, e.kind)}{detail}")
    return "\n".join(lines)


def ticket_list(tickets: list[Ticket], tz: ZoneInfo, viewer: str | None = None) -> str:
    """#查询 without a number: tickets in hand and resolved ones still awaiting a rating, each marked."""
    if not tickets:
        return "您目前没有进行中或待评价的工单。"
    lines = ["您的工单（进行中及待评价）："]
    for t in tickets:
        due = "已办结，待评价" if t.status == "resolved" else f"{when(t.resolve_by, tz)}前办结"
        lines.append(f"· {t.no}｜{STATUS_NAMES[t.status]}｜{dept(t.department)}｜{due}｜{_short(t.text)}")
    to_rate = [t.no for t in tickets if t.status == "resolved" and t.reporter_id == viewer]
    if to_rate:
        lines.append(f"已办结的请评价：#评价 {to_rate[0]} 满意 / 基本满意 / 不满意")
    return "\n".join(lines)


UNKNOWN_PLACE = "地点不明"
SUMMARY_LIMIT = 20     # characters of a ticket's text on one line of a list


def summary(text: str) -> str:
    """A list line's glimpse of the ticket's text, on one line."""
    return _short(" ".join(text.removeprefix(FORWARDED_RECORD).split()), SUMMARY_LIMIT)


def _short(text: str, limit: int = 20) -> str:
    """The beginning of a text, masked before it is cut (a cut number could not be recognised after)."""
    text = mask_private(text)
    return text if len(text) <= limit else text[:limit] + "…"


UNSURE_NOT_FOUND = "未找到待确认消息 {no}"
UNSURE_NOT_ALLOWED = "只有该消息所在网格的网格员或上级管理员可以处理待确认消息 {no}。"


def unsure_decided(row) -> str:
    return f"待确认消息 {row.no} 已处理过（{'已登记工单' if row.status == 'opened' else '已忽略'}）。"


def unsure_confirmed(row, t: Ticket) -> str:
    return f"已把待确认消息 {row.no} 登记为工单 {t.no}（{dept(t.department)}），机器人会从中学习。"


def unsure_dismissed(row) -> str:
    return f"已忽略待确认消息 {row.no}，机器人会记住这类消息不是问题。"


def unsure_lines(rows, tz: ZoneInfo) -> list[str]:
    """The 待确认 list: messages the bot was unsure of, each with what to send to open a ticket."""
    if not rows:
        return []
    lines = [f"【待确认】机器人拿不准是否要登记的消息 {len(rows)} 条（登记发 #确认 Q号，不是问题发 #忽略 Q号）："]
    lines += [f"· {r.no}｜{when(r.created_at, tz)}｜{r.sender_name or '群友'}：{_short(r.text, 40)}"
              for r in rows]
    return lines


FORWARDED_RECORD = "【转发聊天记录】"   # heads a ticket opened from a forwarded chat record
NOT_FOUND = "未找到工单 {no}"
NOT_ALLOWED_HANDLE = "只有该工单的处理人、所在网格的网格员、{dept}联络员或上级管理员可以{action}工单 {no}。"
NOT_ALLOWED_READ = "无权查看工单 {no}"
NOT_ALLOWED_RATE = "只有上报人可以评价工单 {no}。"
NOT_ALLOWED_CANCEL = "只有上报人或管理员可以撤销工单 {no}。"
BAD_STATUS = "工单 {no} 当前状态为“{status}”，不能{action}。"
SAME_DEPARTMENT = "工单 {no} 已经属于{dept}。"
NO_ORG = "尚未导入组织架构，请管理员先执行 gridbot org import。"


def duration(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{minutes}分钟" if minutes else f"{hours}小时"
    return f"{minutes}分钟"


def accept_overdue(t: Ticket, assignee_name: str | None, tz: ZoneInfo) -> str:
    who = mention(assignee_name) if assignee_name else ""
    return (f"⏰{who}工单 {t.no}（{dept(t.department)}）已超过受理时限（{when(t.accept_by, tz)}），"
            f"请尽快受理：#受理 {t.no}")


def resolve_soon(t: Ticket, assignee_name: str | None, tz: ZoneInfo) -> str:
    who = mention(assignee_name) if assignee_name else ""
    return (f"⏰{who}工单 {t.no}（{dept(t.department)}）将于{when(t.resolve_by, tz)}到期，"
            f"请按时办结：#办结 {t.no} 处理说明")


def escalation(t: Ticket, reason: str, overdue: timedelta, assignee_name: str | None, node_path: str) -> str:
    """One ticket's escalation; `escalation_tail` (the admins to act) follows it, or a list of them."""
    return (f"【逐级转报｜{reason}】工单 {t.no}（{dept(t.department)}｜{URGENCY_NAMES[t.urgency]}）"
            f"{'已超期' + duration(overdue) if overdue >= timedelta(minutes=1) else '已到期'}，处理人：{assignee_name or '未指派'}。\n"
            f"地点：{_place(t, node_path)}\n内容：{relayed(t)}")


def escalation_tail(admin_names: list[str]) -> str:
    return "".join(mention(n) for n in admin_names) + "请督办。"


def gathered_escalations(items: list[str], tail: str) -> str:
    """Escalations due together for one room: one message, however many."""
    if len(items) == 1:
        return f"{items[0]}\n{tail}"
    lines = [f"【逐级转报｜共{len(items)}件】以下工单超期，逐件列出："]
    lines += [f"{i}. {item}" for i, item in enumerate(items, 1)]
    return "\n".join([*lines, tail])


def gathered_reminders(items: list[str], tail: str = "") -> str:
    if len(items) == 1:
        return items[0]
    lines = [f"⏰工单提醒｜共{len(items)}件："] + [f"{i}. {item.removeprefix('⏰')}" for i, item in enumerate(items, 1)]
    return "\n".join(lines)


def nudge(t: Ticket, assignee_name: str | None, by_name: str) -> str:
    who = mention(assignee_name) if assignee_name else ""
    return f"【催办】{who}{by_name}催办工单 {t.no}（{dept(t.department)}｜{STATUS_NAMES[t.status]}），请尽快处理。"


def nudged(t: Ticket) -> str:
    return f"已催办工单 {t.no}，已提醒处理人。"


def nudge_too_soon(t: Ticket, last: datetime, tz: ZoneInfo) -> str:
    return f"工单 {t.no} 已于{when(last, tz)}催办过，每张工单1小时内只能催办一次，请稍后再试。"


def joined_existing(t: Ticket) -> str:
    return (f"这个问题已在工单 {t.no}（{dept(t.department)}｜{STATUS_NAMES[t.status]}）中登记，"
            f"已把您加为关注人，处理进展会同步告知。查进度请发：#查询 {t.no}")


def already_reported(t: Ticket) -> str:
    return f"您已反映过这个问题，工单 {t.no} 正在跟进，查进度请发：#查询 {t.no}"


NOT_ALLOWED_NUDGE = "只有上报人、关注人或管理员可以催办工单 {no}。"


def reminder(content: str, by_name: str) -> str:
    return f"⏰提醒（{by_name}设置）：{content}"


def reminder_set(when_at: datetime, content: str, tz: ZoneInfo) -> str:
    return f"好的，{when(when_at, tz)}提醒：{content}"


def notice(n, origin_name: str, tz: ZoneInfo) -> str:
    return (f"【通知 {n.no}】{n.text}\n——{origin_name} {n.sender_name}\n"
            f"请各群负责人于{when(n.receipt_by, tz)}前回复“收到”。")


def notice_planned(plan, finish: datetime, tz: ZoneInfo) -> str:
    n = plan.notice
    begins = f"免打扰时段，{when(plan.start, tz)}开始发送，" if plan.held else ""
    return (f"通知 {n.no} 将发往下级 {plan.rooms} 个群，{begins}预计{when(finish, tz)}发完；"
            f"回执截止{when(n.receipt_by, tz)}。查看回执：#回执 {n.no}")


def notice_first_line(n, limit: int = 40) -> str:
    """What a reminder quotes of the notice, so a room knows which one is meant."""
    line = next((ln.strip() for ln in n.text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[:limit] + "…"


def grouped_rooms(groups: list[tuple[str, list[str]]], per_group: int = 30) -> list[str]:
    """Rooms by branch (a county notice: by town), one line a branch; one branch is one plain line."""
    def names(rooms: list[str]) -> str:
        return "、".join(rooms[:per_group]) + (f" 等{len(rooms)}个群" if len(rooms) > per_group else "")

    if len(groups) == 1:
        return [names(groups[0][1])]
    return [f"· {branch}（{len(rooms)}）：{names(rooms)}" for branch, rooms in groups]


def notice_status(n, total: int, delivered: int, acked: list[tuple[str, list[str]]],
                  missing: list[tuple[str, list[str]]], tz: ZoneInfo, maybe_delivered: int = 0) -> str:
    """#回执: counts, who acknowledged for which room, and the rooms still missing by branch."""
    maybe = f"可能已送达 {maybe_delivered}（发送时中断或正在发送），" if maybe_delivered else ""
    acked_count = sum(len(rooms) for _, rooms in acked)
    missing_count = sum(len(rooms) for _, rooms in missing)
    lines = [f"通知 {n.no}（{when(n.created_at, tz)}）：共 {total} 个群，已送达 {delivered}，{maybe}"
             f"已回执 {acked_count}，未回执 {missing_count}。"]
    for title, groups in (("已回执", acked), ("未回执", missing)):
        if groups:
            body = grouped_rooms(groups)
            lines += [f"{title}：{body[0]}"] if len(body) == 1 else [f"{title}：", *body]
    return "\n".join(lines)


def acked_room(room: str, by_name: str) -> str:
    return f"{room}（{by_name}）"


def notice_reminder_before(n, tz: ZoneInfo) -> str:
    return (f"【回执提醒】通知 {n.no}「{notice_first_line(n)}」将于{when(n.receipt_by, tz)}截止回执，"
            f"本群尚未回复，请群负责人回复“收到”。")


def notice_reminder(n) -> str:
    return f"【回执提醒】通知 {n.no}「{notice_first_line(n)}」的回执已到截止时间，本群尚未回复，请群负责人回复“收到”。"


def notice_missing(n, missing: list[tuple[str, list[str]]]) -> str:
    count = sum(len(rooms) for _, rooms in missing)
    body = grouped_rooms(missing)
    head = f"通知 {n.no}「{notice_first_line(n)}」回执截止，仍有 {count} 个群未回复："
    return head + body[0] if len(body) == 1 else "\n".join([head, *body])


# ---- 1:1 chatter and messages over the length limit (bot/domain/greetings.py, handlers/reports.py) ----
HELLO = ("您好！我是红网格机器人。遇到问题直接发一句话告诉我就行，比如“5栋楼道灯坏了”“小区门口水管爆了”，"
         "我会登记工单并转给网格员处理。查进度发 #查询，查看全部命令发 #帮助。")


def too_long(limit: int, length: int) -> str:
    return (f"消息太长了（{length}字，超过{limit}字），机器人没有登记。请把问题精简到{limit}字以内再发，"
            f"比如写清楚地点和情况：“5栋2单元楼道灯坏了”。")


# ---- the closed loop (SPEC §5.1): who is told of a change, and the commands after #受理 ----------
NOT_ALLOWED_ADMIN = "只有工单所在节点或上级的管理员可以{action}工单 {no}。"
NOT_ALLOWED_ASSIGN = "只有工单所在节点或上级的管理员、所在网格的网格员可以指派工单 {no}。"
NOT_ALLOWED_EXTEND = "只有工单 {no} 的处理人或所在网格的网格员可以申请延期。"
NOT_ALLOWED_DECIDE = "只有工单 {no} 所在网格上级节点的管理员可以{action}。"
ASSIGN_UNKNOWN = "找不到“{target}”：请写网格名（如 第4网格）、节点路径或组织架构里的联系人姓名。"
ASSIGN_AMBIGUOUS = "“{target}”不止一处：{paths}。请写完整的节点路径。"
ASSIGN_OUT_OF_REACH = "“{target}”不在您的管辖范围内，请上级管理员指派。"
ASSIGN_ABOVE_GRID = "{target}不是网格，请指派到网格或具体人员。"
ASSIGN_NO_WORKER = "{grid}没有网格员，请指派给具体人员。"
ASSIGN_SAME = "工单 {no} 已由{name}负责。"
MERGE_SELF = "不能把工单 {no} 并入它自己。用法：#合并 T4 T3（把 T4 并入 T3）"
EXTENSION_PENDING = "工单 {no} 已有延期申请（延至{until}）待审批，请等候上级答复。"
EXTENSION_NOT_LATER = "延期后的时间要晚于工单 {no} 现在的办结时限（{resolve_by}）。"
NO_EXTENSION = "工单 {no} 没有待审批的延期申请。"


def with_mentions(names: list[str], text: str) -> str:
    return "".join(mention(n) for n in names) + text


def transferred_away(t: Ticket, old: str | None, by_name: str) -> str:
    return f"工单 {t.no} 已由{by_name}转派至{dept(t.department)}，{dept(old)}无需再处理。"


def declined_told(t: Ticket, by_name: str, reason: str) -> str:
    return f"工单 {t.no} 已由{by_name}标记为不予受理。理由：{reason}"


def assigned(t: Ticket, place_name: str, assignee_name: str) -> str:
    who = assignee_name if place_name in assignee_name else f"{place_name} {assignee_name}"
    return f"已把工单 {t.no} 指派给{who}，已通知对方受理。"


def assigned_alert(t: Ticket, node_path: str, text: str, assignee_name: str, by_name: str, tz: ZoneInfo) -> str:
    """The new grid's alert of a ticket handed to it: a new ticket's alert, saying who handed it over."""
    return grid_alert(t, node_path, text, assignee_name, tz) + f"\n（{by_name}指派）"


def assigned_away(t: Ticket, by_name: str, assignee_name: str, place_name: str) -> str:
    who = assignee_name if place_name in assignee_name else f"{place_name}{assignee_name}"
    return f"工单 {t.no} 已由{by_name}改派给{who}，本群无需再处理。"


def merged(t: Ticket, into: Ticket) -> str:
    return (f"{mention(t.reporter_name)}您反映的问题（工单 {t.no}）与工单 {into.no} 是同一问题，"
            f"已并入 {into.no} 一并处理，进展会同步告知您。查进度请发：#查询 {into.no}")


def merged_told(t: Ticket, into: Ticket, by_name: str) -> str:
    return f"工单 {t.no} 已由{by_name}并入工单 {into.no}，请在 {into.no} 中跟进。"


def merged_done(t: Ticket, into: Ticket) -> str:
    return f"已把工单 {t.no} 并入 {into.no}，{t.no} 的上报人和关注人已转为 {into.no} 的关注人。"


def supervised(t: Ticket, by_name: str, demand: str, names: list[str], tz: ZoneInfo) -> str:
    ask = f"：{demand}" if demand else "，请加快办理"
    return (f"【督办】{with_mentions(names, '')}工单 {t.no}（{dept(t.department)}｜{STATUS_NAMES[t.status]}）"
            f"由{by_name}督办{ask}。办结时限：{when(t.resolve_by, tz)}，办结请发：#办结 {t.no} 处理说明")


def supervised_done(t: Ticket) -> str:
    return f"已督办工单 {t.no}，已通知处理人。"


def extension_requested(t: Ticket, by_name: str, admin_names: list[str], tz: ZoneInfo) -> str:
    return (f"【延期申请】{with_mentions(admin_names, '')}工单 {t.no}（{dept(t.department)}）{by_name}申请把办结时限"
            f"从{when(t.resolve_by, tz)}延至{when(t.extension_until, tz)}。理由：{t.extension_reason}\n"
            f"同意请发：#同意延期 {t.no}；驳回请发：#驳回延期 {t.no} 理由")


def extension_request_sent(t: Ticket, decider_name: str, until: datetime, tz: ZoneInfo) -> str:
    return f"已提交工单 {t.no} 的延期申请（延至{when(until, tz)}），等待{decider_name}管理员审批。"


def extension_approved(t: Ticket, by_name: str, tz: ZoneInfo) -> str:
    return f"{by_name}已同意工单 {t.no} 延期，办结时限改为{when(t.resolve_by, tz)}。"


def extension_rejected(t: Ticket, by_name: str, until: datetime, reason: str, tz: ZoneInfo) -> str:
    return (f"{by_name}驳回了工单 {t.no} 延期至{when(until, tz)}的申请。理由：{reason}\n"
            f"请按原时限{when(t.resolve_by, tz)}前办结。")


def extension_decided(t: Ticket, approved: bool, until: datetime, tz: ZoneInfo) -> str:
    if approved:
        return f"已同意工单 {t.no} 延期，办结时限改为{when(t.resolve_by, tz)}，已告知处理人。"
    return f"已驳回工单 {t.no} 延期至{when(until, tz)}的申请，已告知处理人。"


def reopened_by(t: Ticket, by_name: str, reason: str, assignee_name: str | None, tz: ZoneInfo) -> str:
    who = mention(assignee_name) if assignee_name else ""
    why = f"，理由：{reason}" if reason else ""
    todo = (f"请于{when(t.accept_by, tz)}前受理：#受理 {t.no}" if t.status == "open"
            else f"请于{when(t.resolve_by, tz)}前办结：#办结 {t.no} 处理说明")
    return f"{who}工单 {t.no} 已由{by_name}重开{why}，{todo}"


def reopened_told(t: Ticket, by_name: str, tz: ZoneInfo) -> str:
    return f"工单 {t.no} 已由{by_name}重新交办（{STATUS_NAMES[t.status]}），{when(t.resolve_by, tz)}前办结。"


def reopened_done(t: Ticket, tz: ZoneInfo) -> str:
    return f"工单 {t.no} 已重开（{STATUS_NAMES[t.status]}），办结时限{when(t.resolve_by, tz)}，已通知处理人。"


# ---- the web board's login (#登录, bot/domain/board_login.py) ---------------------------------
BOARD_ONLY_PRIVATE = "看板验证码只能私聊获取：请在微信里私聊机器人发送 #登录，不要在群里发。"
BOARD_WRONG_CODE = "微信号或验证码不对，或验证码已用过、已过期（还可再试{left}次）。请私聊机器人发送 #登录 获取新验证码。"
BOARD_LOCKED_NOW = "连续5次输错验证码，该微信号的看板登录已锁定15分钟。"


def board_locked(until: datetime, tz: ZoneInfo) -> str:
    return f"连续输错验证码，该微信号的看板登录已锁定，请于{until.astimezone(tz):%H:%M}后再试。"


def board_code(code: str, contact_id: str, until: datetime, tz: ZoneInfo) -> str:
    return (f"指挥看板登录验证码：{code}\n在看板登录页填写微信号 {contact_id} 和这个验证码；"
            f"{until.astimezone(tz):%H:%M}前有效，只能用一次。请勿转发给他人。")


def via(channel: str) -> str:
    """How an event done outside chat is marked in the ticket's history."""
    return f"经{channel}操作"


# ---- where a stranded ticket belongs (bot/domain/places.py) and nodes gone from the org file ----
def _how_to_answer(community: str, grid: str) -> str:
    examples = "、".join(e for e in (grid, community) if e)
    return f"直接回复社区（村）和网格名即可，例如：{examples}" if examples else "直接回复社区（村）和网格名即可"


def where_do_you_live(t: Ticket, community: str, grid: str) -> str:
    return f"为了尽快把工单 {t.no} 派给您所在网格的网格员，请问您住在哪个乡镇、社区（村）或网格？{_how_to_answer(community, grid)}。"


def place_not_found(t: Ticket, answer: str, community: str, grid: str) -> str:
    return f"没有找到“{_short(answer)}”对应的社区或网格。{_how_to_answer(community, grid)}（工单 {t.no}）。"


def place_left_to_county(t: Ticket, county: str) -> str:
    return f"好的，工单 {t.no} 将由{county}指挥中心安排处理人，处理进展会告知您。查进度请发：#查询 {t.no}"


def place_found(t: Ticket, node_path: str, assignee_name: str | None) -> str:
    who = f"由{assignee_name}负责" if assignee_name else "由当地管理员安排处理人"
    return f"好的，工单 {t.no} 已转给{_path_tail(node_path)}，{who}。查进度请发：#查询 {t.no}"


def ticket_moved(t: Ticket, node_path: str, assignee_name: str | None) -> str:
    who = f"，由{assignee_name}负责" if assignee_name else ""
    return f"工单 {t.no}（{dept(t.department)}）上报人答复住在{_path_tail(node_path)}，已转至该处{who}。"


def grid_removed(grid_name: str, numbers: list[str], parent_name: str, admin_names: list[str],
                 unassigned: bool) -> str:
    heads = "".join(mention(n) for n in admin_names)
    ask = "，请指派处理人：#指派 工单号 网格名，或受理：#受理 工单号" if unassigned else "。"
    return f"{heads}{grid_name}已从组织架构移除，其工单 {'、'.join(numbers)} 转由{parent_name}处理{ask}"


def unassigned_overdue(t: Ticket, admin_names: list[str], tz: ZoneInfo) -> str:
    heads = "".join(mention(n) for n in admin_names)
    return (f"⏰【超期未受理】{heads}工单 {t.no}（{dept(t.department)}）已超过受理时限（{when(t.accept_by, tz)}），尚无处理人，"
            f"请指派：#指派 {t.no} 网格名，或受理：#受理 {t.no}")


def _path_tail(node_path: str) -> str:
    """A node as people say it, from its community down (城南社区第3网格), or the town."""
    parts = node_path.split("/")
    return "".join(parts[2:] if len(parts) > 2 else parts[1:]) or node_path
