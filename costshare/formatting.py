"""Money, numbers and dates for people, in the consortium's locale (Babel).

`money` is the one way amounts are written — the `|money(currency)` filter, and the
function for Python code. A split or a what-if page shows a thousand amounts or more,
and Babel's `format_currency` takes ~0.1 ms a call, so `money` writes them itself: for
each currency and locale it learns the shape Babel gives an amount (prefix, suffix,
separators, grouping) from Babel, checks that shape against Babel on awkward probe
values, and then writes amounts with plain string operations. Where the check fails (a
locale with unusual grouping or digits), every amount goes through Babel. `number`
(FTE, counts, usage) does the same with Babel's `format_decimal`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_currency_precision,
    get_decimal_symbol,
    get_group_symbol,
)
from flask import Flask, current_app, request
from markupsafe import Markup


def _locale() -> str:
    return current_app.config.get("LOCALE", "en_GB")


def money(
    amount: Decimal | str | int | None, currency: str | None = None, locale: str | None = None
) -> str:
    """Format `amount` in `currency` with the currency's decimals (EUR 2, JPY 0, BHD 3).

    An amount on a finer grid than its currency (0.001 EUR) keeps its extra decimals.
    The text is exactly Babel's (`babel_money`), written without Babel where it can be.
    """
    if amount is None or amount == "":
        return "—"
    currency = currency or current_app.config["BASE_CURRENCY"]
    locale = locale or _locale()
    shape = _shape(currency, locale)
    if shape is None:
        return babel_money(amount, currency, locale)
    return shape.write(amount if isinstance(amount, Decimal) else Decimal(str(amount)))


def babel_money(amount: Decimal | str | int, currency: str, locale: str) -> str:
    """Format `amount` with Babel: what `money` writes, the slow way (and its reference)."""
    value = Decimal(str(amount))
    places = max(get_currency_precision(currency), -value.normalize().as_tuple().exponent)
    value = value.quantize(Decimal(1).scaleb(-places))
    return format_currency(value, currency, locale=locale, decimal_quantization=False)


#: Amounts the learnt shape of a currency must write exactly as Babel does.
PROBES = (
    "0",
    "1",
    "-1",
    "12.3",
    "999.999",
    "1234.5",
    "-1234.56",
    "12345.678",
    "1234567.891",
    "-987654321.5",
    "100000000000",
)


@dataclass(frozen=True)
class Shape:
    """How a locale writes amounts of one currency."""

    places: int
    positive: tuple[str, str]
    negative: tuple[str, str]
    group: str
    decimal: str
    primary: int
    secondary: int

    def write(self, amount: Decimal) -> str:
        places = -int(amount.as_tuple().exponent)
        if places > self.places:
            # Trailing zeros do not count (2000.000000 is written 2,000.00).
            places = max(self.places, -int(amount.normalize().as_tuple().exponent))
        else:
            places = self.places
        number = _grouped(f"{abs(amount):.{places}f}", self)
        prefix, suffix = self.negative if amount < 0 else self.positive
        return prefix + number + suffix


def _grouped(digits: str, shape: Shape | NumberShape) -> str:
    """Return plain digits ("1234567.5") with the shape's grouping and decimal symbol."""
    whole, _, fraction = digits.partition(".")
    groups = []
    if len(whole) > shape.primary:
        groups.append(whole[-shape.primary :])
        whole = whole[: -shape.primary]
        while len(whole) > shape.secondary:
            groups.append(whole[-shape.secondary :])
            whole = whole[: -shape.secondary]
    groups.append(whole)
    number = shape.group.join(reversed(groups))
    if fraction:
        number += shape.decimal + fraction
    return number


def _affixes(text: str, number: str) -> tuple[str, str]:
    start = text.index(number)
    return text[:start], text[start + len(number) :]


@lru_cache(maxsize=64)
def _shape(currency: str, locale: str) -> Shape | None:
    """Return the checked shape of `currency` amounts in `locale`, or None to use Babel."""
    try:
        places = get_currency_precision(currency)
        decimal = get_decimal_symbol(locale)
        one = "1" + (decimal + "0" * places if places else "")
        positive = _affixes(babel_money(Decimal(1), currency, locale), one)
        negative = _affixes(babel_money(Decimal(-1), currency, locale), one)
        primary, secondary = Locale.parse(locale).currency_formats["standard"].grouping
        shape = Shape(
            places, positive, negative, get_group_symbol(locale), decimal, primary, secondary
        )
    except (ValueError, KeyError, AttributeError):
        return None
    for probe in PROBES:
        value = Decimal(probe)
        if shape.write(value) != babel_money(value, currency, locale):
            return None
    return shape


def number(value: Decimal | int | float | str | None, places: int | None = None) -> str:
    """Format a plain number (FTE, counts) with grouping."""
    if value is None or value == "":
        return "—"
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places))
    locale = _locale()
    shape = _number_shape(locale)
    if shape is not None and value.is_finite():
        return shape.write(value)
    if places is None and value.is_finite():
        value = value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()
    return babel_number(value, locale)


def babel_number(value: Decimal, locale: str) -> str:
    """Format a number with Babel: what `number` writes, the slow way (and its reference)."""
    return format_decimal(value, locale=locale, decimal_quantization=False)


#: Numbers the learnt shape of a locale must write exactly as Babel does.
NUMBER_PROBES = (
    *PROBES,
    "2.50",
    "1E+3",
    "0.000001",
    "-0",
    "-0.5",
    "1234567",
    "12345678901234567890.5",
)


@dataclass(frozen=True)
class NumberShape:
    """How a locale writes plain numbers: every significant decimal, grouped."""

    minus: str
    group: str
    decimal: str
    primary: int
    secondary: int

    def write(self, value: Decimal) -> str:
        digits = f"{abs(value).normalize():f}"  # no exponent, no trailing zeros
        return (self.minus if value.is_signed() else "") + _grouped(digits, self)


@lru_cache(maxsize=16)
def _number_shape(locale: str) -> NumberShape | None:
    """Return the checked shape of plain numbers in `locale`, or None to use Babel."""
    try:
        primary, secondary = Locale.parse(locale).decimal_formats[None].grouping
        minus, one = babel_number(Decimal(-1), locale), babel_number(Decimal(1), locale)
        if not minus.endswith(one):
            return None
        shape = NumberShape(
            minus[: -len(one)],
            get_group_symbol(locale),
            get_decimal_symbol(locale),
            primary,
            secondary,
        )
    except (ValueError, KeyError, AttributeError):
        return None
    for probe in NUMBER_PROBES:
        value = Decimal(probe)
        if shape.write(value) != babel_number(value, locale):
            return None
    return shape


def percent(value: Decimal | str | None, places: int = 1) -> str:
    """Format a fraction (0.1676) as a percentage (16.8 %).

    The same few percentages recur across a page (everyone saves 16.4 %): each is
    written once.
    """
    if value is None or value == "":
        return "—"
    return _percent(Decimal(str(value)), places, _locale())


@lru_cache(maxsize=4096)
def _percent(value: Decimal, places: int, locale: str) -> str:
    fmt = "#,##0." + "0" * places + " %" if places else "#,##0 %"
    return format_percent(value, format=fmt, locale=locale, decimal_quantization=True)


def date(value: dt.date | dt.datetime | None, format: str = "medium") -> str:
    """Format a date in the consortium's locale ("14 Feb 2026").

    A list of offers or invoices writes the same few dates (terms, deadlines) again and
    again, and Babel takes ~12 µs a date: each is written once.
    """
    if value is None:
        return "—"
    return _date(value, format, _locale())


@lru_cache(maxsize=4096)
def _date(value: dt.date | dt.datetime, format: str, locale: str) -> str:
    return babel_format_date(value, format=format, locale=locale)


def datetime_utc(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M UTC")


def url_with(**changes: Any) -> str:
    """Return the current URL with some query parameters changed (for paging and sorting)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = str(value)
    from urllib.parse import urlencode

    query = urlencode(args)
    return request.path + ("?" + query if query else "")


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        money=money, number=number, percent=percent, date=date, datetime=datetime_utc
    )
    app.jinja_env.globals.update(url_with=url_with)
    app.jinja_env.filters["nl2br"] = lambda text: Markup("<br>").join((text or "").splitlines())

    nav_endpoints = frozenset()

    @app.context_processor
    def consortium() -> dict[str, Any]:
        nonlocal nav_endpoints
        if not nav_endpoints:
            # Endpoints with a URL that needs no arguments: what a menu can link to.
            nav_endpoints = frozenset(
                rule.endpoint for rule in app.url_map.iter_rules() if not rule.arguments
            )
        return {"consortium_name": app.config["CONSORTIUM_NAME"], "nav_endpoints": nav_endpoints}
