"""SVG charts: well-formed, one mark per value, text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from costshare.charts import Series, bar_chart, line_chart, stacked_bars

SVG = "{http://www.w3.org/2000/svg}"


def test_bar_chart_draws_one_bar_per_value() -> None:
    svg = bar_chart(
        ["A & B", "C"],
        [Series("Solo", [Decimal("100"), Decimal("50")]), Series("Joint", [80, 45])],
        "Solo vs joint",
    )
    root = ET.fromstring(str(svg))
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == 4
    assert "A &amp; B" in str(svg)
    heights = [float(b.get("height")) for b in bars]
    assert heights[0] > heights[1]  # 100 is drawn taller than 80


def test_stacked_bars_handle_negative_parts() -> None:
    svg = stacked_bars(
        ["UNI-A", "UNI-C"],
        [Series("equal", [3333, 3333]), Series("bound adjustment", [1636, -2235])],
        "Explanation",
    )
    root = ET.fromstring(str(svg))
    assert len([r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]) == 4


def test_line_chart_has_a_point_per_value() -> None:
    svg = line_chart(["2026", "2027", "2028"], [Series("Total", [100, 103, 106])], "Per year")
    assert len(list(ET.fromstring(str(svg)).iter(f"{SVG}circle"))) == 3


def test_stacked_bar_labels_fit_left_of_the_bars() -> None:
    """Each label's drawn width (DejaVu Sans, the charts' first font, measured by Pillow;
    a CJK character, drawn by the CJK font, is 1 em) fits left of the bars."""
    import unicodedata
    from pathlib import Path

    from PIL import ImageFont

    from tests.resources import require

    font_file = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    require(font_file.exists(), "DejaVu Sans is not installed (fonts-dejavu-core)")
    font = ImageFont.truetype(str(font_file), 11)

    def drawn_width(label: str) -> float:
        wide = [c for c in label if unicodedata.east_asian_width(c) in "WF"]
        return 11 * len(wide) + font.getlength("".join(c for c in label if c not in wide))

    labels = ["Meridian Journals Compl…", "Atlas Science Citation …", "中山大学图书馆 SYSU", "JNU"]
    svg = stacked_bars(labels, [Series("Total", [744643, 418345, 1000, 20])], "Usage")
    root = ET.fromstring(str(svg))
    texts = {t.text: t for t in root.iter(f"{SVG}text")}
    first_bar = min(
        float(r.get("x")) for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None
    )
    for label in labels:
        text = texts[label]
        assert text.get("text-anchor") == "end"
        assert float(text.get("x")) - drawn_width(label) >= 0, f"{label!r} is cut"
        assert float(text.get("x")) < first_bar
