"""The keyboard focus is visible wherever it lands (WCAG 1.4.11, 3:1 against what is around it), in
Chromium on the real gateway: on the white page, in a form, and in the black header."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page

from tests.factories import school_referral
from tests.ui.conftest import SCREENSHOTS, Served, sign_in

pytestmark = pytest.mark.stack

SCHOOL = "school-oakfield-primary"
_RGB = re.compile(r"rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)")


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _colours(css: str) -> list[tuple[float, float, float]]:
    """The opaque colours in a computed style value (an outline's, or each of a box-shadow's)."""
    found = []
    for r, g, b, alpha in _RGB.findall(css):
        if alpha == "" or float(alpha) > 0.5:
            found.append((float(r), float(g), float(b)))
    return found


def _indicator_contrast(element: Locator, around: tuple[float, float, float]) -> float:
    """The best contrast any part of the focus indicator drawn outside the element has against `around`."""
    element.focus()
    style = element.evaluate(
        "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineColor, s.outlineWidth, s.boxShadow]; }"
    )
    outline_style, outline_colour, outline_width, shadow = style
    parts = _colours(shadow)
    if outline_style != "none" and float(outline_width.removesuffix("px")) >= 2:
        parts += _colours(outline_colour)
    assert parts, f"no focus indicator: {style}"
    return max(_contrast(p, around) for p in parts)


WHITE, BLACK = (255.0, 255.0, 255.0), (11.0, 12.0, 12.0)


def _shot(page: Page, element: Locator, name: str) -> None:
    """The focused element with room around it, where its indicator is drawn."""
    box = element.bounding_box()
    assert box is not None
    SCREENSHOTS.mkdir(exist_ok=True)
    clip = {
        "x": max(0, box["x"] - 24),
        "y": max(0, box["y"] - 16),
        "width": box["width"] + 160,
        "height": box["height"] + 32,
    }
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), clip=clip)  # type: ignore[arg-type]


def test_the_focus_is_visible_on_the_page_in_a_field_and_in_the_header(served: Served, page: Page) -> None:
    served.post(school_referral())
    sign_in(page, served.link(SCHOOL, "dsl", "dsl-demo-01"))
    checks = (
        ("focus-link", page.locator("main tbody tr a").first, WHITE),
        ("focus-field", page.get_by_label("Decided by rule"), WHITE),
        ("focus-button", page.get_by_role("button", name="Apply filters"), WHITE),
        ("focus-header", page.locator("header.top a").first, BLACK),
    )
    for name, element, around in checks:
        contrast = _indicator_contrast(element, around)
        _shot(page, element, name)
        assert contrast >= 3, f"{name}: the focus indicator is {contrast:.2f}:1 against what is around it"
