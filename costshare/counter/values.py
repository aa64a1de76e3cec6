"""Parsing of the single values COUNTER files carry: months, dates, periods, counts, names."""

from __future__ import annotations

import calendar
import math
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

MONTH_NAMES = {
    name: number
    for number in range(1, 13)
    for name in (
        calendar.month_abbr[number].lower(),
        calendar.month_name[number].lower(),
    )
}
MONTH_NAMES["sept"] = 9

_ISO_MONTH = re.compile(r"(\d{4})[-/. ](\d{1,2})(?:[-/. ](\d{1,2}))?(?:[t ].*)?")
_MONTH_YEAR = re.compile(r"(\d{1,2})[-/. ](\d{4})")
_NAME_YEAR = re.compile(r"(?:\d{1,2}[-/. ])?([a-z]{3,9})\.?[-/. ']*(\d{4}|\d{2})")
_YEAR_NAME = re.compile(r"(\d{4}|\d{2})[-/. ]([a-z]{3,9})")
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})")
_DATE = re.compile(r"\d{4}-\d{1,2}(?:-\d{1,2})?")
_NOT_KEY = re.compile(r"[^a-z0-9]+")


def norm_key(text: object) -> str:
    """Return a header name folded for matching: lower case, letters and digits only."""
    return _NOT_KEY.sub("", str(text).lower())


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        # Two-digit years come from Excel month headers (Jan-22); COUNTER began in 2003.
        year += 2000 if year < 70 else 1900
    return year


def _month(year: int, month: int) -> date | None:
    if 1 <= month <= 12 and 1990 <= year <= 2100:
        return date(year, month, 1)
    return None


def parse_month_header(text: str) -> date | None:
    """Return the month a column header names (Jan-2022, Jan-22, 22-Jan, 2011-03, 4-2011 …)."""
    text = text.strip().strip("'\"").lower()
    if not text or len(text) > 40:
        return None
    if m := _ISO_MONTH.fullmatch(text):
        return _month(int(m[1]), int(m[2]))
    if m := _MONTH_YEAR.fullmatch(text):
        return _month(int(m[2]), int(m[1]))
    if (m := _NAME_YEAR.fullmatch(text)) and m[1] in MONTH_NAMES:
        return _month(_year(m[2]), MONTH_NAMES[m[1]])
    if (m := _YEAR_NAME.fullmatch(text)) and m[2] in MONTH_NAMES:
        return _month(_year(m[1]), MONTH_NAMES[m[2]])
    return None


def month_end(day: date) -> date:
    """Return the last day of the month of ``day``."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def parse_date(text: str) -> datetime | date | None:
    """Return a date or timestamp from ISO text or a US date (1/31/2023); None if it is none."""
    text = text.strip()
    if not text:
        return None
    if m := _US_DATE.fullmatch(text):
        try:
            return date(_year(m[3]), int(m[1]), int(m[2]))
        except ValueError:
            return None
    try:
        if len(text) <= 10:
            if re.fullmatch(r"\d{4}-\d{2}", text):
                return date.fromisoformat(text + "-01")
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def parse_period(text: str) -> tuple[date | None, date | None]:
    """Return begin and end of a reporting period text (Begin_Date=…; End_Date=… or A to B)."""
    found = _DATE.findall(text)
    if len(found) < 2:
        return None, None
    begin = parse_day(found[0])
    end = parse_day(found[1], end=True)
    return begin, end


def parse_day(text: str, *, end: bool = False) -> date | None:
    """Return the first (or with ``end`` the last) day of the month a date text names."""
    parts = text.strip()[:10].split("-")
    try:
        day = _month(int(parts[0]), int(parts[1]))
    except (ValueError, IndexError):
        return None
    if day is not None and end:
        return month_end(day)
    return day


#: Counts above this cannot be stored (a signed 64-bit column) and are never real usage.
MAX_COUNT = 2**63 - 1


def clean_count(value: object) -> int:
    """Return a count from a messy cell: '' → 0, '1,000', "'12", '6 ', '3.0', text numbers.

    Raises ValueError with what was expected when the value is not a whole number ≥ 0.
    """
    if type(value) is int:
        number = value
    elif value is None:
        return 0
    elif isinstance(value, float):
        if not math.isfinite(value) or value % 1:
            raise ValueError("expected a whole number")
        number = int(value)
    elif isinstance(value, Decimal):
        if not value.is_finite() or value.adjusted() > 18 or value % 1:
            raise ValueError("expected a whole number")
        number = int(value)
    elif isinstance(value, str):
        text = value.strip().strip('"').strip("'").strip().replace("\u00a0", "").replace(" ", "")
        if not text:
            return 0
        if re.fullmatch(r"\d{1,3}(,\d{3})+", text):
            text = text.replace(",", "")
        if text.isdigit() and text.isascii():
            number = int(text)
        else:
            try:
                decimal = Decimal(text)
            except InvalidOperation:
                raise ValueError("expected a whole number") from None
            if not decimal.is_finite() or decimal.adjusted() > 18 or decimal % 1:
                raise ValueError("expected a whole number")
            number = int(decimal)
    else:
        raise ValueError("expected a whole number")
    if number < 0:
        raise ValueError("expected a count of zero or more")
    if number > MAX_COUNT:
        raise ValueError("expected a count below 2^63")
    return number


_PSEUDO_NAMES = frozenset(
    {
        "total",
        "totals",
        "grand total",
        "total searches",
        "all platforms",
        "all databases",
        "all titles",
        "all journals",
        "all books",
        "all items",
    }
)


def is_pseudo_total(name: str) -> bool:
    """Tell whether an item name is a summary row ("Total for all journals", "All Databases")."""
    folded = " ".join(name.lower().split())
    return folded in _PSEUDO_NAMES or folded.startswith("total for all")


def shown(value: object, limit: int = 40) -> str:
    """Return a value quoted for an error message: one line, at most ``limit`` characters."""
    text = str(value)
    clipped = text[:limit] + ("…" if len(text) > limit else "")
    # Control characters (a newline inside a broken quoted cell) are shown escaped.
    escaped = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode() for c in clipped
    )
    return f'"{escaped}"'
