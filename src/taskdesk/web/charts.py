"""Server-side SVG charts: no JavaScript, no chart CDN, labels escaped.

The SVG uses classes (styled by taskdesk.css) rather than inline styles, so it works under the
Content-Security-Policy; each chart carries a <title> for screen readers, and the pages show
the same numbers as a table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

Number = Callable[[int], str]

WIDTH = 720
HEIGHT = 300
MARGIN_LEFT = 48
MARGIN_RIGHT = 16
MARGIN_TOP = 36
MARGIN_BOTTOM = 56
GRID_LINES = 4
#: More bar groups than this get an axis label on every other one, so labels never touch.
MAX_AXIS_LABELS = 8


def _nice_max(value: int) -> int:
    """A round upper bound for the value axis (at least GRID_LINES, divisible by it)."""
    top = max(value, GRID_LINES)
    step = -(-top // GRID_LINES)
    magnitude = int(10 ** (len(str(step)) - 1))
    step = -(-step // magnitude) * magnitude
    return step * GRID_LINES


def _frame(title: str, top: int, number: Number) -> list[str]:
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for index in range(GRID_LINES + 1):
        value = top * index // GRID_LINES
        y = MARGIN_TOP + plot_height - plot_height * index / GRID_LINES
        parts.append(
            f'<line class="grid-line" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(number(value))}</text>"
        )
    base = MARGIN_TOP + plot_height
    parts.append(
        f'<line class="axis" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" '
        f'y1="{base}" y2="{base}"/>'
    )
    return parts


def _bar(x: float, width: float, value: int, top: int, css: str, number: Number,
         label: str) -> str:
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    height = plot_height * value / top if top else 0
    y = MARGIN_TOP + plot_height - height
    return (
        f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
        f'height="{height:.1f}"><title>{escape(label)}: {escape(number(value))}</title></rect>'
        + (f'<text x="{x + width / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
           f"{escape(number(value))}</text>" if value else "")
    )


def bar_chart(data: Sequence[tuple[str, int]], *, title: str, number: Number) -> Markup:
    """One bar per (label, value)."""
    top = _nice_max(max((value for _label, value in data), default=0))
    parts = _frame(title, top, number)
    slot = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / max(len(data), 1)
    for index, (label, value) in enumerate(data):
        x = MARGIN_LEFT + slot * index
        parts.append(_bar(x + slot * 0.2, slot * 0.6, value, top, "bar", number, label))
        parts.append(
            f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 18}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def grouped_bar_chart(
    data: Sequence[tuple[str, int, int]], *, title: str, series: tuple[str, str],
    number: Number,
) -> Markup:
    """Two bars (the two ``series``) per label, with a legend at the top."""
    top = _nice_max(max((max(a, b) for _label, a, b in data), default=0))
    parts = _frame(title, top, number)
    for index, (name, css) in enumerate(zip(series, ("bar", "bar bar--completed"),
                                            strict=True)):
        legend_x = MARGIN_LEFT + index * 160
        parts.append(
            f'<rect class="{css}" x="{legend_x}" y="8" width="12" height="12"/>'
            f'<text x="{legend_x + 18}" y="18">{escape(name)}</text>'
        )
    slot = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / max(len(data), 1)
    # Long series label every other bar group, counting from the last (the current one).
    label_every = 2 if len(data) > MAX_AXIS_LABELS else 1
    for index, (label, first, second) in enumerate(data):
        x = MARGIN_LEFT + slot * index
        parts.append(_bar(x + slot * 0.12, slot * 0.36, first, top, "bar", number,
                          f"{label} {series[0]}"))
        parts.append(_bar(x + slot * 0.52, slot * 0.36, second, top, "bar bar--completed",
                          number, f"{label} {series[1]}"))
        if (len(data) - 1 - index) % label_every == 0:
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 18}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped
