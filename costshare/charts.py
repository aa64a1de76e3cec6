"""Server-rendered SVG charts: the same markup in a page and in a PDF (WeasyPrint draws SVG).

Each function takes plain numbers (Decimal or int) and labels, and returns the
SVG as `Markup`. Values are scaled with floats only for drawing; figures shown
as text come formatted by the caller (`fmt`), so a chart never prints a number
the tables do not.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from markupsafe import Markup

#: Colour-blind-safe palette (Okabe–Ito), in the order series are drawn.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
Number = Decimal | int | float


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Number]
    color: str | None = None


def _plain(value: Number) -> float:
    return float(value)


def _nice_max(value: float) -> float:
    """Return a round axis maximum at or above `value` (1, 2, 2.5 or 5 × 10^k)."""
    if value <= 0:
        return 1.0
    exponent = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Return round tick values from `low` to `high`, about `count` steps apart, through 0."""
    step = _nice_max((high - low) / count) if high > low else 1.0
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        value += step
    return ticks


def _short(value: float) -> str:
    """Write an axis label compactly: 1.5k, 2M."""
    magnitude = abs(value)
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= size:
            text = f"{value / size:.1f}".rstrip("0").rstrip(".")
            return text + suffix
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def _text_width(text: str, size: float) -> float:
    """Estimate how wide `text` draws: DejaVu Sans averages under 0.62 em a Latin
    character (mixed case, digits); a CJK character fills 1 em."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else 0.62 * size for c in text)


def _text(
    x: float,
    y: float,
    content: str,
    anchor: str = "start",
    size: int = 11,
    color: str = "#1f2933",
    weight: str = "normal",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{color}" font-weight="{weight}">{escape(content)}</text>'
    )


def _legend(series: Sequence[Series], x: float, y: float) -> str:
    parts = []
    for index, item in enumerate(series):
        color = item.color or PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{color}"/>')
        parts.append(_text(x + 14, y, item.name))
        x += 24 + 6.5 * len(item.name)
    return "".join(parts)


def _rect(x: float, y: float, w: float, h: float, color: str, tip: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{color}">'
        f"<title>{escape(tip)}</title></rect>"
    )


def _line(x1: float, y1: float, x2: float, y2: float, color: str = "#e4e7eb") -> str:
    return f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" stroke="{color}"/>'


def _svg(width: int, height: int, title: str, body: str) -> Markup:
    # Every piece of text in `body` went through html.escape; numbers are formatted here.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
        f'font-family="DejaVu Sans, WenQuanYi Micro Hei, sans-serif">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def bar_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    title: str,
    width: int = 760,
    fmt: Callable[[Number], str] | None = None,
) -> Markup:
    """Vertical grouped bars: one group per category, one bar per series (e.g. solo vs joint)."""
    height, left, right, top, bottom = 320, 64, 16, 34, 74
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [_plain(v) for s in series for v in s.values]
    high = _nice_max(max(values, default=0))
    low = min(0.0, min(values, default=0))
    span = high - low or 1.0

    def y_of(value: float) -> float:
        return top + plot_h * (high - value) / span

    body = [_legend(series, left, 16)]
    for tick in _ticks(low, high):
        y = y_of(tick)
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e7eb"/>'
        )
        body.append(_text(left - 6, y + 4, _short(tick), "end", 10, "#616e7c"))
    group_w = plot_w / max(1, len(categories))
    bar_w = min(28.0, group_w * 0.8 / max(1, len(series)))
    for c_index, category in enumerate(categories):
        x0 = left + group_w * c_index + (group_w - bar_w * len(series)) / 2
        for s_index, item in enumerate(series):
            value = _plain(item.values[c_index])
            color = item.color or PALETTE[s_index % len(PALETTE)]
            y_top, y_zero = y_of(max(value, 0.0)), y_of(min(value, 0.0))
            label = (
                f"{item.name}, {category}: {fmt(item.values[c_index]) if fmt else _short(value)}"
            )
            body.append(
                _rect(
                    x0 + bar_w * s_index, y_top, bar_w - 1, max(0.5, y_zero - y_top), color, label
                )
            )
        cx = left + group_w * (c_index + 0.5)
        body.append(
            f'<text x="{cx:.1f}" y="{height - bottom + 14:.1f}" font-size="10" fill="#1f2933" '
            f'text-anchor="end" transform="rotate(-40 {cx:.1f} {height - bottom + 14:.1f})">'
            f"{escape(category)}</text>"
        )
    body.append(_line(left, y_of(0), width - right, y_of(0), "#1f2933"))
    return _svg(width, height, title, "".join(body))


def stacked_bars(
    categories: Sequence[str],
    parts: Sequence[Series],
    title: str,
    width: int = 760,
    fmt: Callable[[Number], str] | None = None,
) -> Markup:
    """Horizontal stacked bars, one per category; negative parts extend left of zero.

    The category labels stand left of the bars, right-aligned: the margin is as wide as
    the longest label needs (at most 40 % of the chart), so no label is cut at the edge.
    """
    row_h, right, top = 22, 24, 34
    longest = max((_text_width(category, 11) for category in categories), default=0)
    left = round(min(0.4 * width, max(48, longest + 14)))
    height = top + row_h * len(categories) + 28
    plot_w = width - left - right
    positive = [sum(max(_plain(p.values[i]), 0.0) for p in parts) for i in range(len(categories))]
    negative = [sum(min(_plain(p.values[i]), 0.0) for p in parts) for i in range(len(categories))]
    high = _nice_max(max(positive, default=0))
    low = -_nice_max(-min(negative, default=0)) if min(negative, default=0) < 0 else 0.0
    span = high - low or 1.0

    def x_of(value: float) -> float:
        return left + plot_w * (value - low) / span

    body = [_legend(parts, left, 16)]
    for tick in _ticks(low, high, 4):
        x = x_of(tick)
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{height - 24}" stroke="#e4e7eb"/>'
        )
        body.append(_text(x, height - 10, _short(tick), "middle", 10, "#616e7c"))
    for index, category in enumerate(categories):
        y = top + row_h * index
        body.append(_text(left - 8, y + row_h * 0.65, category, "end", 11))
        pos, neg = 0.0, 0.0
        for p_index, part in enumerate(parts):
            value = _plain(part.values[index])
            if value == 0:
                continue
            color = part.color or PALETTE[p_index % len(PALETTE)]
            if value > 0:
                x_start, x_end, pos = x_of(pos), x_of(pos + value), pos + value
            else:
                x_start, x_end, neg = x_of(neg + value), x_of(neg), neg + value
            label = f"{category} · {part.name}: {fmt(part.values[index]) if fmt else _short(value)}"
            body.append(_rect(x_start, y + 3, max(0.5, x_end - x_start), row_h - 6, color, label))
    body.append(_line(x_of(0), top - 4, x_of(0), height - 24, "#1f2933"))
    return _svg(width, height, title, "".join(body))


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    title: str,
    width: int = 760,
    fmt: Callable[[Number], str] | None = None,
) -> Markup:
    """Lines over an ordered axis (years, months), one per series, with a dot per point."""
    height, left, right, top, bottom = 280, 64, 20, 34, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [_plain(v) for s in series for v in s.values]
    high = _nice_max(max(values, default=0))
    low = min(0.0, min(values, default=0))
    span = high - low or 1.0
    step = plot_w / max(1, len(labels) - 1)

    def point(i: int, value: float) -> tuple[float, float]:
        x = left + (step * i if len(labels) > 1 else plot_w / 2)
        return x, top + plot_h * (high - value) / span

    body = [_legend(series, left, 16)]
    for tick in _ticks(low, high):
        _, y = point(0, tick)
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e7eb"/>'
        )
        body.append(_text(left - 6, y + 4, _short(tick), "end", 10, "#616e7c"))
    for i, label in enumerate(labels):
        x, _ = point(i, low)
        body.append(_text(x, height - bottom + 16, label, "middle", 10))
    for s_index, item in enumerate(series):
        color = item.color or PALETTE[s_index % len(PALETTE)]
        points = [point(i, _plain(v)) for i, v in enumerate(item.values)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for (x, y), value, label in zip(points, item.values, labels, strict=True):
            text = f"{item.name}, {label}: {fmt(value) if fmt else _short(_plain(value))}"
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">'
                f"<title>{escape(text)}</title></circle>"
            )
    return _svg(width, height, title, "".join(body))
