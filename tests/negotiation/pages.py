"""Read the negotiation pages as a person does: tables and figures from the rendered HTML."""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any


class _Tables(HTMLParser):
    """Collect the text of every cell of the table with a given id, by section."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.depth = 0  # >0 inside the wanted table
        self.section = "body"
        self.sections: dict[str, list[list[str]]] = {"head": [], "body": [], "foot": []}
        self.cell: list[str] | None = None
        self.codes: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table":
            if self.depth:
                self.depth += 1
            elif attributes.get("id") == self.table_id:
                self.depth = 1
            return
        if not self.depth:
            return
        if tag in ("thead", "tbody", "tfoot"):
            self.section = {"thead": "head", "tbody": "body", "tfoot": "foot"}[tag]
        elif tag == "tr":
            self.sections[self.section].append([])
            if self.section == "body":
                self.codes.append(attributes.get("data-code"))
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if not self.depth:
            return
        if tag == "table":
            self.depth -= 1
        elif tag in ("td", "th") and self.cell is not None:
            text = re.sub(r"\s+", " ", "".join(self.cell)).strip()
            self.sections[self.section][-1].append(text)
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.depth and self.cell is not None:
            self.cell.append(data)


def table(html: str, table_id: str) -> dict[str, Any]:
    """Return the table's `head`, `body` and `foot` rows (cell texts) and `rows` by data-code."""
    parser = _Tables(table_id)
    parser.feed(html)
    assert parser.sections["body"] or parser.sections["foot"], f"no table #{table_id} on the page"
    sections = parser.sections
    rows = {code: row for code, row in zip(parser.codes, sections["body"], strict=True) if code}
    return {**sections, "rows": rows}


def money(text: str) -> Decimal | None:
    """Read an amount as the page writes it ('€1,234.50', '-€3.00', '+€12.00', '—')."""
    text = text.strip()
    if text in ("—", ""):
        return None
    match = re.search(r"([+-]?)[^\d+-]*([\d,]+(?:\.\d+)?)", text)
    assert match, f"no amount in {text!r}"
    value = Decimal(match.group(2).replace(",", ""))
    return -value if match.group(1) == "-" else value


def text_of(html: str, element_id: str) -> str:
    """Return the whole text of a block element with this id, tags removed."""
    match = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no #{element_id} on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(2))).strip()
