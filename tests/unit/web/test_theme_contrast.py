"""Both themes of taskdesk.css meet WCAG AA: every pair of colours the stylesheet puts
together (text on its background, a field's edge, the focus ring) is checked in the light
and in the dark theme, with the WCAG relative-luminance formula."""

from __future__ import annotations

import re

import pytest

from tests.support.colours import DARK, STYLESHEET, contrast, themes

#: (foreground, background) pairs of normal-size text: 4.5:1.
TEXT = [
    ("text", "bg"), ("text", "surface"), ("text", "surface-sunken"), ("text", "column-bg"),
    ("text", "input-bg"), ("text", "accent-soft"), ("text", "warning-soft"),
    ("muted", "bg"), ("muted", "surface"), ("muted", "surface-sunken"),
    ("muted", "column-bg"),
    ("accent", "bg"), ("accent", "surface"), ("accent", "surface-sunken"),
    ("accent", "column-bg"), ("accent-dark", "surface"), ("accent-dark", "accent-soft"),
    ("accent-dark", "bg"),
    ("on-accent", "accent"), ("on-accent", "accent-dark"), ("on-accent", "danger"),
    ("on-accent", "danger-dark"),
    ("danger", "surface"), ("danger", "bg"), ("danger", "danger-soft"),
    ("success", "surface"), ("success", "success-soft"),
    ("warning", "surface"), ("warning", "warning-soft"),
    ("header-text", "header-bg"), ("header-text", "header-hover"),
    ("header-link", "header-bg"), ("header-link", "header-hover"),
    ("header-bg", "header-link"),  # the pressed language button
    ("on-alert", "alert"),
]
#: Edges a person must see to use a control, the focus ring, chart marks: 3:1.
NON_TEXT = [
    ("input-border", "surface"), ("input-border", "input-bg"), ("input-border", "bg"),
    ("focus", "bg"), ("focus", "surface"), ("focus", "header-bg"), ("focus", "column-bg"),
    ("header-border", "header-bg"),
    ("accent", "surface"), ("chart-completed", "surface"), ("alert", "header-bg"),
]


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize(("pairs", "minimum"), [(TEXT, 4.5), (NON_TEXT, 3.0)],
                         ids=["text", "non-text"])
def test_pairs_meet_wcag_aa(theme: str, pairs: list[tuple[str, str]], minimum: float) -> None:
    colours = themes()[theme]
    low = [f"--{fg} on --{bg}: {contrast(colours[fg], colours[bg]):.2f}:1"
           for fg, bg in pairs if contrast(colours[fg], colours[bg]) < minimum]
    assert low == [], f"{theme} theme below {minimum}:1"


def test_the_dark_theme_redefines_every_colour() -> None:
    light = themes()["light"]
    css = STYLESHEET.read_text(encoding="utf-8")
    dark = DARK.search(css)
    assert dark is not None
    missing = [name for name in light if f"--{name}:" not in dark.group(1)
               and name not in ("alert", "on-alert")]  # the bell's red reads on both headers
    assert missing == []
    assert "color-scheme: light dark" in css


def test_rules_use_the_variables_only() -> None:
    """No colour is written into a rule: outside the themes' :root rules every colour is a
    variable (rgba() shadows excepted), so both themes apply everywhere."""
    css = STYLESHEET.read_text(encoding="utf-8")
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r":root\s*\{.*?\}", "", css, flags=re.S)
    assert re.findall(r"#[0-9a-fA-F]{3,8}\b", css) == []
    assert re.findall(r"(?<![-\w])(?:white|black)(?![-\w])", css) == []


def test_the_contrast_formula() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#1d5fbf", "#1d5fbf") == 1
