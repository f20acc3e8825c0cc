"""The chart sent with `#统计 … 图`: new and resolved tickets per day, 超期未办结 by child node, and new
tickets by department, for the room's subtree — drawn with matplotlib (Agg, no display) in the bundled
CJK font (bot/data/fonts: a subset of Noto Sans CJK SC under the SIL Open Font License).

The figures are SQL aggregates like #统计's own (bot/domain/stats.py); matplotlib is imported only
when a chart is drawn, so a bot that never draws one never pays for it."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, literal, text
from sqlmodel import Session, col, func, select

from bot.domain.deadlines import overdue_resolve
from bot.domain.org import OrgDirectory
from bot.domain.stats import DONE, _one, _scoped, period_start, summary
from bot.domain.texts import dept
from bot.storage.models import Node, Ticket

FONT = Path(__file__).resolve().parent.parent / "data" / "fonts" / "NotoSansCJKsc-Regular-subset.otf"
# One colour per series, used nowhere else in the picture (tests count bars by colour).
NEW_COLOUR = "#d7301f"
RESOLVED_COLOUR = "#1a9850"
OVERDUE_COLOUR = "#f46d43"
DEPARTMENT_COLOUR = "#3288bd"
MAX_BARS = 15            # per horizontal panel; the rest are summed into one 其他 bar
SIZE = (10, 10)          # inches, at 100 dpi: 1000 × 1000 pixels
DPI = 100


@dataclass(frozen=True)
class ChartData:
    scope: str
    period: str
    since: datetime
    now: datetime
    days: list[date]
    new_per_day: list[int]
    resolved_per_day: list[int]
    overdue_by_child: list[tuple[str, int]]      # (child node's name, 超期未办结), the node's own last
    by_department: list[tuple[str, int]]         # (department's name, new in the period)
    totals: tuple[int, int, int]                 # new, resolved, 超期未办结 — as #统计 says them


def chart_data(s: Session, org: OrgDirectory, node: Node, period: str, now: datetime) -> ChartData:
    tz = org.settings.tz
    since = period_start(period, now, tz)
    today = now.astimezone(tz).date()
    days = [since.date() + timedelta(days=i) for i in range((today - since.date()).days + 1)]
    bounds = [datetime.combine(d, time(0), tz) for d in days] + [datetime.combine(today + timedelta(days=1), time(0), tz)]
    per_day = []
    for lo, hi in zip(bounds, bounds[1:]):
        per_day.append(_one(and_(col(Ticket.created_at) >= lo, col(Ticket.created_at) < hi)))
        per_day.append(_one(and_(col(Ticket.status).in_(DONE), col(Ticket.resolved_at) >= lo,
                                 col(Ticket.resolved_at) < hi)))
    row = [int(v) for v in s.exec(_scoped(node).add_columns(*per_day)).one()]
    figures = summary(s, node, since, now)
    return ChartData(scope=node.name, period=period, since=since, now=now, days=days, new_per_day=row[0::2],
                     resolved_per_day=row[1::2], overdue_by_child=_overdue_by_child(s, org, node, now),
                     by_department=[(dept(code), n) for code, n in figures.by_department],
                     totals=(figures.new, figures.resolved, figures.overdue_resolve))


def _overdue_by_child(s: Session, org: OrgDirectory, node: Node, now: datetime) -> list[tuple[str, int]]:
    """超期未办结 (as #统计 counts it) per child node of `node`, and at `node` itself when any."""
    children = list(s.exec(select(Node).where(Node.parent_id == node.id, Node.active).order_by(Node.path)).all())
    own = -1
    bucket = case(*((OrgDirectory.in_subtree(c), c.id) for c in children), else_=own) if children else literal(own)
    overdue = overdue_resolve(Ticket, now)
    # Grouped by the column's label: PostgreSQL would not see the CASE, with its own bound parameters,
    # as the same expression twice.
    rows = s.exec(select(bucket.label("bucket"), func.count()).select_from(Ticket)
                  .join(Node, Node.id == Ticket.node_id)
                  .where(OrgDirectory.in_subtree(node), overdue).group_by(text("bucket"))).all()
    counts = {int(key): int(n) for key, n in rows}
    found = [(c.name, counts.get(c.id, 0)) for c in children]
    if counts.get(own):
        found.append((f"{node.name}（本级）", counts[own]))
    return found


def _capped(items: list[tuple[str, int]]) -> list[tuple[str, int]]:
    if len(items) <= MAX_BARS:
        return items
    ranked = sorted(items, key=lambda item: -item[1])
    rest = ranked[MAX_BARS - 1:]
    return ranked[:MAX_BARS - 1] + [(f"其他{len(rest)}项", sum(n for _, n in rest))]


def render(data: ChartData, path: Path, tz: ZoneInfo) -> Path:
    """Draw the chart as a PNG at `path` (its folder is created)."""
    import matplotlib
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    font_manager.fontManager.addfont(str(FONT))
    family = font_manager.FontProperties(fname=str(FONT)).get_name()
    path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context({"font.family": [family, "DejaVu Sans"], "axes.unicode_minus": False,
                                "font.size": 11}):
        # Fixed margins (names are cut at ten characters): a layout engine would double the drawing time.
        fig = Figure(figsize=SIZE, dpi=DPI)
        grid = fig.add_gridspec(2, 2, height_ratios=(1, 1.1), left=0.17, right=0.97, top=0.86, bottom=0.05,
                                hspace=0.3, wspace=0.42)
        new, resolved, overdue = data.totals
        local_since, local_now = data.since.astimezone(tz), data.now.astimezone(tz)
        fig.suptitle(f"{data.scope}｜{data.period}统计\n"
                     f"{local_since.month}月{local_since.day}日—{local_now.month}月{local_now.day}日 "
                     f"{local_now:%H:%M}　新增 {new}　办结 {resolved}　超期未办结 {overdue}", fontsize=15, y=0.975)
        _per_day(fig.add_subplot(grid[0, :]), data)
        _horizontal(fig.add_subplot(grid[1, 0]), _capped(data.overdue_by_child), OVERDUE_COLOUR,
                    "超期未办结（按下级）")
        _horizontal(fig.add_subplot(grid[1, 1]), _capped(data.by_department), DEPARTMENT_COLOUR,
                    "新增（按部门）")
        fig.savefig(path, format="png", dpi=DPI)
    return path


def _per_day(ax, data: ChartData) -> None:
    xs = range(len(data.days))
    width = 0.4
    new = ax.bar([x - width / 2 for x in xs], data.new_per_day, width, color=NEW_COLOUR, label="新增")
    done = ax.bar([x + width / 2 for x in xs], data.resolved_per_day, width, color=RESOLVED_COLOUR, label="办结")
    step = max(1, math.ceil(len(data.days) / 12))
    ax.set_xticks(list(xs)[::step], [f"{d.month}/{d.day}" for d in data.days][::step])
    ax.set_xlim(-0.7, len(data.days) - 0.3)
    top = max([*data.new_per_day, *data.resolved_per_day, 0])
    ax.set_ylim(0, max(1, top) * 1.2)
    ax.yaxis.get_major_locator().set_params(integer=True)
    if len(data.days) <= 10:
        for bars in (new, done):
            ax.bar_label(bars, labels=[str(int(b.get_height())) if b.get_height() else "" for b in bars],
                         padding=2, fontsize=10)
    ax.set_title("每日新增与办结", loc="left", fontsize=13)
    ax.spines[["top", "right"]].set_visible(False)
    if top:
        # Above the plot, where no bar reaches.
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, frameon=False)
    else:
        ax.text(0.5, 0.5, "本时段暂无工单", transform=ax.transAxes, ha="center", va="center", color="#888888")


def _label(name: str, limit: int = 10) -> str:
    return name if len(name) <= limit else name[:limit - 1] + "…"


def _horizontal(ax, items: list[tuple[str, int]], colour: str, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=13)
    ax.spines[["top", "right"]].set_visible(False)
    if not items or not any(n for _, n in items):
        ax.set_yticks([])
        ax.set_xticks([])
        ax.text(0.5, 0.5, "无", transform=ax.transAxes, ha="center", va="center", color="#888888", fontsize=14)
        return
    labels = [_label(name) for name, _ in items][::-1]    # first item on top
    values = [n for _, n in items][::-1]
    bars = ax.barh(range(len(items)), values, 0.6, color=colour)
    ax.set_yticks(range(len(items)), labels)
    ax.set_xlim(0, max(values) * 1.25)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.bar_label(bars, labels=[str(v) if v else "" for v in values], padding=3, fontsize=10)
