"""The audit page's bar charts: labels are shortened at a word, never cut inside one."""

from __future__ import annotations

import re

from broker.ui.charts import bar_chart


def _labels(svg: str) -> list[str]:
    return re.findall(r'text-anchor="end">([^<]*)</text>', svg)


def test_a_long_label_is_shortened_at_a_word_with_an_ellipsis() -> None:
    svg = str(bar_chart("By message type", [("Notification of a child placed in this area by another authority", 3)]))
    (label,) = _labels(svg)
    assert label == "Notification of a child placed in…"


def test_a_label_that_fits_is_kept_whole() -> None:
    svg = str(bar_chart("By message type", [("Domestic abuse school notification", 2), ("M01", 1)]))
    assert _labels(svg) == ["Domestic abuse school notification", "M01"]
