"""Horizontal bar charts as inline SVG, drawn on the server: no JavaScript, no external assets.

Each chart is paired with a data table in the page, so screen-reader users get the numbers too.
"""

from __future__ import annotations

import textwrap

from markupsafe import Markup, escape

ROW = 26
# Wide enough for the 34 characters _short keeps at the chart's 14px (at most about 8.5px a
# character); the bars give up the room, so the chart keeps its size in the page's half column.
LABEL_WIDTH = 300
BAR_WIDTH = 220


def bar_chart(title: str, rows: list[tuple[str, int]]) -> Markup:
    """An SVG bar chart of (label, count) rows, largest bar scaled to the full width."""
    top = max((count for _, count in rows), default=0) or 1
    height = ROW * max(len(rows), 1) + 10
    width = LABEL_WIDTH + BAR_WIDTH + 60
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    if not rows:
        parts.append('<text x="4" y="20">No decisions in this period.</text>')
    for i, (label, count) in enumerate(rows):
        y = 5 + i * ROW
        length = max(1, round(BAR_WIDTH * count / top)) if count else 0
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 16}" text-anchor="end">{escape(_short(label))}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length}" height="{ROW - 8}" class="bar"/>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 16}">{count}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated label is escaped above


def _short(label: str) -> str:
    """The label, or its first words within 34 characters and an ellipsis (never a cut word)."""
    return textwrap.shorten(label, width=34, placeholder="…")
