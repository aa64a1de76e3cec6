"""Numbers and money: reading input numbers, the rounding grid, half-even rounding."""

from __future__ import annotations

import math
import re
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from fractions import Fraction
from typing import Any

from costshare.engine.errors import ScenarioError

#: Wide enough that sums and products of input money stay exact; only true
#: divisions (means, ratios) ever round, and they are re-rounded to the grid.
CONTEXT = Context(
    prec=120,
    rounding=ROUND_HALF_EVEN,
    Emax=999_999,
    Emin=-999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

#: What a "string holding a decimal" may look like (no spaces, underscores, NaN or Infinity).
DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Input numbers beyond these magnitudes are typos, and would make exact
# arithmetic slow without meaning anything.
MAX_ADJUSTED = 30
MIN_ADJUSTED = -30

ZERO = Decimal(0)
ONE = Decimal(1)
NINE_PLACES = 10**9


def describe(value: Any) -> str:
    """Return how a JSON value reads in an error message."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return str(value)


def is_decimal_text(value: str) -> bool:
    """Tell whether a string holds a plain decimal number."""
    return DECIMAL_TEXT.fullmatch(value) is not None


def to_decimal(value: Any, what: str, field: str | None = None, **where: Any) -> Decimal:
    """Read a JSON number or decimal string as a finite Decimal, or fail naming ``what``."""
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, bool) or value is None:
        raise ScenarioError(
            f"{what} must be a number, not {describe(value)}.", field=field, **where
        )
    elif isinstance(value, int):
        return Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        if not is_decimal_text(value):
            raise ScenarioError(
                f"{what} must be a number, not {describe(value)}.", field=field, **where
            )
        number = Decimal(value)
    else:
        raise ScenarioError(
            f"{what} must be a number, not {describe(value)}.", field=field, **where
        )
    if not number.is_finite():
        raise ScenarioError(f"{what} must be a finite number.", field=field, **where)
    if number and not MIN_ADJUSTED <= number.adjusted() <= MAX_ADJUSTED:
        raise ScenarioError(f"{what} ({describe(value)}) is out of range.", field=field, **where)
    return number


def half_even(value: Decimal, unit: Decimal) -> Decimal:
    """Round ``value`` half-even to a multiple of ``unit``."""
    steps = (value / unit).to_integral_value(rounding=ROUND_HALF_EVEN)
    return steps * unit


def units_of(
    values: list[Decimal], unit: Decimal, rounding: str, factor: Decimal = ONE
) -> list[int]:
    """Return how many whole units each ``value · factor`` holds, rounded up or down."""
    step = math.ceil if rounding == ROUND_CEILING else math.floor
    assert rounding in (ROUND_CEILING, ROUND_FLOOR)
    exponent = unit.as_tuple().exponent
    assert isinstance(exponent, int)
    if unit == ONE.scaleb(exponent):
        # A power of ten: scaling by its inverse is exact, and cheaper than dividing.
        return list(map(step, map(factor.scaleb(-exponent).__mul__, values)))
    scale = factor / unit if (factor / unit) * unit == factor else None
    if scale is not None:
        return list(map(step, map(scale.__mul__, values)))
    return [step(value * factor / unit) for value in values]


def on_grid(value: Decimal, unit: Decimal) -> bool:
    """Tell whether ``value`` is a whole multiple of ``unit``."""
    return (value / unit) == (value / unit).to_integral_value()


def round_ratio_half_even(num: int, den: int) -> int:
    """Return num/den rounded half-even to an integer (den > 0)."""
    q, r = divmod(num, den)
    twice = 2 * r
    if twice > den or (twice == den and q % 2):
        q += 1
    return q


def round_ratio_to_unit(num: int, den: int) -> int:
    """Round num/den first to nine places, then half-even to an integer.

    The first step makes floating-point noise in a share unable to tip a
    value that is really a half (…499999999997 or …500000000002) either way.
    """
    return round_ratio_half_even(round_ratio_half_even(num * NINE_PLACES, den), NINE_PLACES)


def fraction_places(value: Fraction, places: int) -> Decimal:
    """Return a rational rounded half-even to ``places`` decimal places."""
    scale = 10**places
    q = round_ratio_half_even(value.numerator * scale, value.denominator)
    return Decimal(q).scaleb(-places)
