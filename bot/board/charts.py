"""Charts drawn on the server as SVG: nothing to load in the browser, readable on an intranet and on
a big screen, and checkable in a test (one `<rect class="bar">` per bar)."""
from __future__ import annotations

from html import escape

BLUE, GREEN, RED, GREY = "#2f6fb3", "#2e9d5b", "#c9302c", "#d9dde3"


def bars(items: list[tuple[str, int, str | None]], *, title: str, color: str = BLUE, width: int = 520,
         unit: str = "件") -> str:
    """Horizontal bars, one per (label, value, link)."""
    row, label_w, pad = 26, 130, 6
    height = max(1, len(items)) * row + 30
    top = max((v for _, v, _ in items), default=0) or 1
    parts = [f'<svg class="chart bars" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="100%" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="0" y="16" class="chart-title">{escape(title)}</text>']
    for i, (label, value, link) in enumerate(items):
        y = 26 + i * row
        w = round((width - label_w - 60) * value / top)
        bar = (f'<rect class="bar" data-value="{value}" x="{label_w}" y="{y}" width="{max(w, 1)}" '
               f'height="{row - pad}" fill="{color}"><title>{escape(label)}：{value}{unit}</title></rect>'
               f'<text x="{label_w - 6}" y="{y + row - 12}" text-anchor="end" class="chart-label">{escape(label)}</text>'
               f'<text x="{label_w + max(w, 1) + 6}" y="{y + row - 12}" class="chart-value">{value}</text>')
        parts.append(f'<a href="{escape(link)}">{bar}</a>' if link else bar)
    if not items:
        parts.append('<text x="0" y="44" class="chart-empty">暂无数据</text>')
    parts.append("</svg>")
    return "".join(parts)


def rates(items: list[tuple[str, float | None]], *, title: str, width: int = 520) -> str:
    """Percentages as bars on a full-width grey track (None: nothing resolved yet, shown as —)."""
    row, label_w = 26, 130
    height = max(1, len(items)) * row + 30
    span = width - label_w - 60
    parts = [f'<svg class="chart rates" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="100%" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="0" y="16" class="chart-title">{escape(title)}</text>']
    for i, (label, rate) in enumerate(items):
        y = 26 + i * row
        parts.append(f'<rect x="{label_w}" y="{y}" width="{span}" height="{row - 6}" fill="{GREY}"/>')
        if rate is not None:
            color = GREEN if rate >= 0.9 else (BLUE if rate >= 0.7 else RED)
            parts.append(f'<rect class="bar" data-value="{rate:.3f}" x="{label_w}" y="{y}" '
                         f'width="{max(round(span * rate), 1)}" height="{row - 6}" fill="{color}"/>')
        shown = "—" if rate is None else f"{rate:.0%}"
        parts.append(f'<text x="{label_w - 6}" y="{y + row - 12}" text-anchor="end" class="chart-label">'
                     f'{escape(label)}</text><text x="{label_w + span + 6}" y="{y + row - 12}" '
                     f'class="chart-value">{shown}</text>')
    parts.append("</svg>")
    return "".join(parts)


def trend(days: list[tuple[str, int, int]], *, title: str, width: int = 1200, height: int = 240) -> str:
    """New (blue) and resolved (green) per day: two lines, a point per day."""
    left, bottom, top_pad = 34, 28, 30
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    top = max([max(n, r) for _, n, r in days] + [1])
    step = plot_w / max(len(days) - 1, 1)

    def xy(i: int, v: int) -> tuple[float, float]:
        return left + i * step, top_pad + plot_h - plot_h * v / top

    parts = [f'<svg class="chart trend" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="100%" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
             f'<text x="{width - 190}" y="16" class="chart-legend"><tspan fill="{BLUE}">■ 新增</tspan> '
             f'<tspan fill="{GREEN}">■ 办结</tspan></text>',
             f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" stroke="#999"/>',
             f'<text x="{left - 4}" y="{top_pad + 8}" text-anchor="end" class="chart-axis">{top}</text>',
             f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end" class="chart-axis">0</text>']
    for series, color, index in (("new", BLUE, 1), ("resolved", GREEN, 2)):
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, d[index]) for i, d in enumerate(days)))
        parts.append(f'<polyline class="line {series}" fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
        for i, d in enumerate(days):
            x, y = xy(i, d[index])
            parts.append(f'<circle class="point {series}" cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}">'
                         f'<title>{escape(d[0])} {"新增" if index == 1 else "办结"} {d[index]}</title></circle>')
    for i, d in enumerate(days):
        if i % 5 == 0 or i == len(days) - 1:
            x, _ = xy(i, 0)
            anchor = "end" if i == len(days) - 1 else ("start" if i == 0 else "middle")
            parts.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="{anchor}" class="chart-axis">{escape(d[0])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def progress(done: int, part: int, total: int) -> str:
    """A notice's receipts: confirmed (green), delivered but not confirmed (blue), the rest grey."""
    width = 600
    total = max(total, 1)
    confirmed_w = round(width * done / total)
    delivered_w = round(width * max(part - done, 0) / total)
    return (f'<svg class="chart progress" role="img" aria-label="回执进度" viewBox="0 0 {width} 28" width="100%" '
            f'xmlns="http://www.w3.org/2000/svg"><rect x="0" y="0" width="{width}" height="28" fill="{GREY}"/>'
            f'<rect class="bar confirmed" x="0" y="0" width="{confirmed_w}" height="28" fill="{GREEN}"/>'
            f'<rect class="bar delivered" x="{confirmed_w}" y="0" width="{delivered_w}" height="28" fill="{BLUE}"/></svg>')
