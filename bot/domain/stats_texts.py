"""User-facing sentences of the admins' view (#统计, #排行, #导出)."""
from pathlib import Path

from bot.domain.stats import Summary, WorkerRank
from bot.domain.texts import OVERDUE_NAMES, UNRATED, dept


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def summary(scope: str, period: str, s: Summary) -> str:
    lines = [f"【{scope}｜{period}统计】",
             f"新增 {s.new}，未办结 {s.open}，办结 {s.resolved}，{OVERDUE_NAMES['overdue_accept']} {s.overdue_accept}，"
             f"{OVERDUE_NAMES['overdue_resolve']} {s.overdue_resolve}，"
             + (f"督办 {s.supervised}，" if s.supervised else "") + f"按时办结率 {_percent(s.on_time_rate)}",
             f"评价 {s.rated} 次，满意率 {_percent(s.satisfaction)}（满意、基本满意）；{UNRATED}归档 {s.closed_unrated}"]
    if s.by_department:
        lines.append("按部门（新增）：" + "，".join(f"{dept(d)} {n}" for d, n in s.by_department))
    return "\n".join(lines)


def ranking(scope: str, period: str, ranks: list[WorkerRank]) -> str:
    if not ranks:
        return f"【{scope}｜{period}排行】暂无办结的工单。"
    lines = [f"【{scope}｜{period}办结排行】（按办结人：办结数｜按时率｜满意度）"]
    for i, r in enumerate(ranks, 1):
        score = "—" if r.score is None else f"{r.score:.0f}分({r.rated}评)"
        lines.append(f"{i}. {r.name}：{r.resolved}件｜{_percent(r.on_time / r.resolved)}｜{score}")
    return "\n".join(lines)


def exported(count: int, path: Path) -> str:
    return f"已导出 {count} 张工单到 {path}"
