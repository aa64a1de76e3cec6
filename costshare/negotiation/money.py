"""Money for people, fast: exactly the text of `costshare.formatting.money`, much sooner.

A what-if page shows a thousand amounts or more and must render in well
under 200 ms; Babel's `format_currency` takes ~0.1 ms a call. For each
currency and locale this module learns the shape Babel gives an amount
(prefix, suffix, separators, grouping) from Babel itself, checks that shape
against Babel on awkward probe values, and then writes amounts with plain
string operations. Where the check fails (a locale with unusual grouping or
digits), every amount goes through Babel as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import get_currency_precision, get_decimal_symbol, get_group_symbol
from flask import current_app

from costshare.formatting import money as babel_money
from costshare.formatting import percent as babel_percent

Formatter = Callable[[Decimal | str | int | None], str]
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
        text = f"{abs(amount):.{places}f}"
        whole, _, fraction = text.partition(".")
        groups = []
        if len(whole) > self.primary:
            groups.append(whole[-self.primary :])
            whole = whole[: -self.primary]
            while len(whole) > self.secondary:
                groups.append(whole[-self.secondary :])
                whole = whole[: -self.secondary]
        groups.append(whole)
        number = self.group.join(reversed(groups))
        if fraction:
            number += self.decimal + fraction
        prefix, suffix = self.negative if amount < 0 else self.positive
        return prefix + number + suffix


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


@lru_cache(maxsize=4096)
def _percent(value: Decimal, places: int, locale: str) -> str:
    # `locale` is the app's (babel_percent reads it from the app): it keys the cache.
    return babel_percent(value, places)


def percent_formatter(locale: str) -> Callable[..., str]:
    """Return a function writing fractions as percentages exactly as the `|percent` filter does.

    The same few percentages recur across a page (everyone saves 16.4 %): each is written once.
    """

    def write(value: Decimal | str | None, places: int = 1) -> str:
        if value is None or value == "":
            return "—"
        return _percent(Decimal(str(value)), places, locale)

    return write


def formatter(currency: str, locale: str) -> Formatter:
    """Return a function writing amounts in `currency` exactly as the `|money` filter does."""
    shape = _shape(currency, locale)

    def write(amount: Decimal | str | int | None) -> str:
        if amount is None or amount == "":
            return "—"
        if shape is None:
            return babel_money(amount, currency, locale)
        return shape.write(Decimal(str(amount)) if not isinstance(amount, Decimal) else amount)

    return write


def money_writer(locale: str) -> Callable[[Decimal | str | int | None, str], str]:
    """Return `write(amount, currency)`, exactly the `|money(currency)` filter, for any currency."""
    writers: dict[str, Formatter] = {}

    def write(amount: Decimal | str | int | None, currency: str) -> str:
        if currency not in writers:
            writers[currency] = formatter(currency, locale)
        return writers[currency](amount)

    return write


def app_formatter(currency: str) -> Formatter:
    """Return the fast writer of `currency` amounts in the app's locale (a template global)."""
    return formatter(currency, current_app.config.get("LOCALE", "en_GB"))
