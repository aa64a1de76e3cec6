"""Read scenarios from JSON and write results as JSON, CSV or an aligned table."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from operator import itemgetter
from typing import Any

from costshare.engine.errors import ScenarioError
from costshare.engine.runtime import collector_paused
from costshare.xlsx import safe_cell

LINE_COLUMNS = (
    "code",
    "name",
    "amount",
    "raw",
    "bound",
    "surcharge",
    "solo_price",
    "savings",
    "savings_pct",
)
CHANGE_COLUMNS = ("code", "before", "after", "change")
_TOTALLED = frozenset(("amount", "surcharge", "solo_price", "savings", "before", "after", "change"))


def _reject_constant(name: str) -> Any:
    raise ScenarioError(f"The scenario is not valid JSON: {name} is not a number JSON allows.")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ScenarioError(
                    f"The key '{key}' appears twice in one object of the scenario.", field=key
                )
            seen.add(key)
    return obj


def load_scenario(source: str | bytes) -> dict[str, Any]:
    """Parse scenario JSON text (numbers as Decimal), refusing duplicate keys and NaN."""
    try:
        with collector_paused():
            data = json.loads(
                source,
                parse_float=Decimal,
                parse_constant=_reject_constant,
                object_pairs_hook=_no_duplicates,
            )
    except json.JSONDecodeError as err:
        raise ScenarioError(
            f"The scenario is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}."
        ) from None
    except UnicodeDecodeError:
        raise ScenarioError("The scenario is not valid JSON: it is not UTF-8 text.") from None
    except RecursionError:
        raise ScenarioError("The scenario is nested too deeply to be a scenario.") from None
    if not isinstance(data, dict):
        raise ScenarioError("The scenario must be a JSON object.")
    return data


def _text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _dump(value: Any) -> str:
    return json.dumps(value, default=_text, ensure_ascii=False, separators=(", ", ": "))


def to_jsonable(value: Any) -> Any:
    """Return a result with every Decimal as its exact decimal string."""
    return json.loads(_dump(value))


def to_json(result: dict[str, Any]) -> str:
    """Return a result as JSON text: one object per line for lines, groups and changes."""
    with collector_paused():
        return _pretty(result, 0) + "\n"


def _pretty(value: Any, depth: int) -> str:
    pad = "  " * (depth + 1)
    end = "  " * depth
    if isinstance(value, dict) and any(isinstance(v, list) for v in value.values()):
        items = [f"{pad}{_dump(key)}: {_pretty(item, depth + 1)}" for key, item in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(value, list) and value and isinstance(value[0], dict):
        if "explanation" in value[0]:
            items = _lines(value)
        else:
            items = [_pretty(item, depth + 1) for item in value]
        return "[\n" + ",\n".join(pad + item for item in items) + "\n" + end + "]"
    return _dump(value)


_quote = json.encoder.encode_basestring  # type: ignore[attr-defined]
_LINE_KEY_SET = dict.fromkeys(
    (
        "code",
        "name",
        "amount",
        "raw",
        "explanation",
        "bound",
        "surcharge",
        "solo_price",
        "savings",
        "savings_pct",
        "pays_more_than_alone",
    )
).keys()


def _lines(lines: list[dict[str, Any]]) -> list[str]:
    """Return result lines as JSON texts, fast: they are most of a large result."""
    keys = lines[0]["explanation"].keys()
    exponent = lines[0]["amount"].as_tuple().exponent
    # Amounts, raw values and parts all carry the unit's exponent; from 0 down to
    # -6 str() writes them without an exponent, so only given solo prices need a look.
    same_shape = (
        isinstance(exponent, int)
        and -6 <= exponent <= 0
        and all(map(_LINE_KEY_SET.__eq__, map(dict.keys, lines)))
        and all(map(keys.__eq__, map(dict.keys, map(itemgetter("explanation"), lines))))
    )
    if not same_shape:
        return [_dump(line) for line in lines]
    # Keys go into a %-template, so a % in a component name is doubled.
    parts = ", ".join(_quote(key).replace("%", "%%") + ': "%s"' for key in keys)
    template = (
        '{"code": %s, "name": %s, "amount": "%s", "raw": "%s", "explanation": {'
        + parts
        + '}, "bound": %s, "surcharge": "%s", "solo_price": %s, "savings": %s, '
        '"savings_pct": %s, "pays_more_than_alone": %s}'
    )
    texts = []
    append = texts.append
    for line in lines:
        solo = line["solo_price"]
        if solo is None:
            tail: tuple[str, ...] = ("null", "null", "null")
        else:
            pct = line["savings_pct"]
            tail = (
                '"' + str(solo) + '"',
                '"' + str(line["savings"]) + '"',
                "null" if pct is None else '"' + str(pct) + '"',
            )
            if "E" in tail[0] or "E" in tail[1]:
                # A given solo price so small that str() writes an exponent.
                append(_dump(line))
                continue
        name = line["name"]
        bound = line["bound"]
        more = line["pays_more_than_alone"]
        append(
            template
            % (
                _quote(line["code"]),
                "null" if name is None else _quote(name),
                line["amount"],
                line["raw"],
                *line["explanation"].values(),
                "null" if bound is None else _quote(bound),
                line["surcharge"],
                *tail,
                "null" if more is None else ("true" if more else "false"),
            )
        )
    return texts


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _explanation_keys(lines: list[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for line in lines:
        for key in line["explanation"]:
            keys.setdefault(key, None)
    return list(keys)


def _rows(result: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Return the header and rows of a single result, a term, or a what-if."""
    if "changes" in result:
        return list(CHANGE_COLUMNS), [
            [_cell(c[k]) for k in CHANGE_COLUMNS] for c in result["changes"]
        ]
    if "years" in result:
        header: list[str] = []
        rows: list[list[str]] = []
        for number, year in enumerate(result["years"], start=1):
            inner_header, inner_rows = _rows(year)
            header = ["year", *inner_header]
            rows.extend([str(number), *row] for row in inner_rows)
        return header, rows
    keys = _explanation_keys(result["lines"])
    header = [*LINE_COLUMNS, *keys]
    rows = [
        [_cell(line[k]) for k in LINE_COLUMNS] + [_cell(line["explanation"].get(k)) for k in keys]
        for line in result["lines"]
    ]
    return header, rows


def to_csv(result: dict[str, Any]) -> str:
    """Return one CSV row per member (per year with a term; the changes for a what-if)."""
    header, rows = _rows(result)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue()


def to_table(result: dict[str, Any]) -> str:
    """Return the rows of ``to_csv`` aligned for a terminal, with a totals row."""
    if "years" in result:
        blocks = [
            f"Year {number}\n{to_table(year)}"
            for number, year in enumerate(result["years"], start=1)
        ]
        return "\n".join(blocks)
    if "changes" in result:
        return (
            "Before\n"
            + to_table(result["before"])
            + "\nAfter\n"
            + to_table(result["after"])
            + "\nChanges\n"
            + _aligned(*_rows(result))
        )
    header, rows = _rows(result)
    facts = [
        f"{label}: {_cell(result[key])}"
        for label, key in (
            ("currency", "currency"),
            ("price", "price"),
            ("surcharge", "surcharge_amount"),
            ("subsidy", "subsidy"),
            ("total", "total"),
            ("lambda", "lambda"),
        )
        if result.get(key) is not None or key != "lambda"
    ]
    text = "  ".join(facts) + "\n"
    for group in result.get("groups", ()):
        text += (
            f"group {group['name']}: share {_cell(group['share'])}  total {_cell(group['total'])}"
            f"  lambda {_cell(group['lambda'])}\n"
        )
    return text + _aligned(header, rows)


def _aligned(header: list[str], rows: list[list[str]]) -> str:
    totals = []
    for index, name in enumerate(header):
        if name in _TOTALLED or name not in LINE_COLUMNS + CHANGE_COLUMNS + ("year",):
            values = [row[index] for row in rows if row[index]]
            totals.append(
                format(sum((Decimal(v) for v in values), Decimal(0)), "f") if values else ""
            )
        else:
            totals.append("")
    totals[0] = "TOTAL"
    table = [header, *rows, totals]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    numeric = [name not in ("code", "name", "bound", "year") for name in header]
    lines = []
    for row in table:
        cells = [
            cell.rjust(width) if is_number else cell.ljust(width)
            for cell, width, is_number in zip(row, widths, numeric, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([lines[0], rule, *lines[1:-1], rule, lines[-1]]) + "\n"
