"""Tickets to Excel (openpyxl), with the Chinese column headers counties report upward in."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from sqlmodel import Session, col, select

from bot.domain import texts
from bot.domain.deadlines import overdue_kinds
from bot.domain.org import OrgDirectory
from bot.storage.models import Membership, Node, Ticket

HEADERS = ("工单号", "状态", "紧急程度", "所属部门", "所在地点", "具体位置", "问题描述", "上报人", "处理人",
           "上报时间", "受理时限", "办结时限", "受理时间", "办结时间", "办结说明", "超期情况", "是否按时办结",
           "逐级转报级数", "重新办理次数", "督办时间", "群众评价")
WIDTHS = (8, 8, 8, 10, 40, 16, 60, 12, 12, 17, 17, 17, 17, 17, 40, 20, 12, 12, 17, 10)


def export_tickets(s: Session, path: Path, tz: ZoneInfo, now: datetime, node: Node | None = None,
                   since: datetime | None = None) -> int:
    """Write the tickets (of `node`'s subtree, created since `since`) to `path`; returns how many."""
    query = select(Ticket, Node.path).join(Node, Node.id == Ticket.node_id).order_by(Ticket.id)
    if node is not None:
        query = query.where(OrgDirectory.in_subtree(node))
    if since is not None:
        query = query.where(col(Ticket.created_at) >= since)
    names = dict(s.exec(select(Membership.contact_id, Membership.name)).all())

    def local(dt: datetime | None) -> str:
        return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M") if dt else ""

    book = Workbook(write_only=True)
    sheet = book.create_sheet("工单台账")
    for i, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    sheet.append([_bold(sheet, h) for h in HEADERS])
    count = 0
    for t, node_path in s.exec(query.execution_options(yield_per=1000)):
        # 超期情况: as #统计 and #清单 say at this moment; a finished ticket's lateness is 是否按时办结.
        overdue = texts.overdue(overdue_kinds(t, now)) or "否"
        on_time = "" if t.resolved_at is None else "是" if t.resolved_at <= t.resolve_by else "否"
        rating = t.rating or (texts.UNRATED if t.status == "closed" else "")
        sheet.append([_text(sheet, v) for v in (
            t.no, texts.STATUS_NAMES[t.status], texts.URGENCY_NAMES[t.urgency], texts.dept(t.department),
            node_path, t.location or "", t.text, t.reporter_name or t.reporter_id,
            names.get(t.assignee_id, t.assignee_id or ""), local(t.created_at), local(t.accept_by),
            local(t.resolve_by), local(t.accepted_at), local(t.resolved_at), t.resolution or "",
            overdue, on_time, t.escalation_level, t.reopen_count, local(t.supervised_at), rating,
        )])
        count += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return count


def _text(sheet, value):
    """A cell for a value people typed: characters Excel cannot hold are dropped, and a text starting
    with "=" stays text (a resident's "=HYPERLINK(…)" must not become a formula in the ledger)."""
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    return cell


def _bold(sheet, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = Font(bold=True)
    return cell
