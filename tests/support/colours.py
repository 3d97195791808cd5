"""WCAG 2 contrast, and the colour variables of taskdesk.css's light and dark themes."""

from __future__ import annotations

import re
from pathlib import Path

STYLESHEET = (Path(__file__).resolve().parents[2]
              / "src" / "taskdesk" / "web" / "static" / "css" / "taskdesk.css")
_VARIABLE = re.compile(r"--([a-z0-9-]+)\s*:\s*(#[0-9a-fA-F]{6})\s*;")
DARK = re.compile(r"@media\s*\(prefers-color-scheme:\s*dark\)\s*\{\s*:root\s*\{(.*?)\}", re.S)


def luminance(colour: str) -> float:
    """The WCAG relative luminance of ``#rrggbb``."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def themes() -> dict[str, dict[str, str]]:
    """The colour variables of the first ``:root`` rule (light) and of the dark theme's
    ``:root`` (light values where the dark theme keeps them)."""
    css = STYLESHEET.read_text(encoding="utf-8")
    root = re.search(r":root\s*\{(.*?)\}", css, re.S)
    dark = DARK.search(css)
    assert root is not None, "taskdesk.css lost its :root rule"
    assert dark is not None, "taskdesk.css lost the dark theme's :root rule"
    light = {name: value.lower() for name, value in _VARIABLE.findall(root.group(1))}
    return {"light": light,
            "dark": light | {name: value.lower()
                             for name, value in _VARIABLE.findall(dark.group(1))}}
