"""Money, numbers and dates for people, in the consortium's locale (Babel)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, format_decimal, format_percent, get_currency_precision
from flask import Flask, current_app, request
from markupsafe import Markup


def _locale() -> str:
    return current_app.config.get("LOCALE", "en_GB")


def money(
    amount: Decimal | str | int | None, currency: str | None = None, locale: str | None = None
) -> str:
    """Format `amount` in `currency` with the currency's decimals (EUR 2, JPY 0, BHD 3).

    An amount on a finer grid than its currency (0.001 EUR) keeps its extra decimals.
    """
    if amount is None or amount == "":
        return "—"
    currency = currency or current_app.config["BASE_CURRENCY"]
    value = Decimal(str(amount))
    places = max(get_currency_precision(currency), -value.normalize().as_tuple().exponent)
    value = value.quantize(Decimal(1).scaleb(-places))
    return format_currency(value, currency, locale=locale or _locale(), decimal_quantization=False)


def number(value: Decimal | int | float | str | None, places: int | None = None) -> str:
    """Format a plain number (FTE, counts) with grouping."""
    if value is None or value == "":
        return "—"
    value = Decimal(str(value))
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places))
    elif value == value.to_integral():
        value = value.quantize(Decimal(1))
    else:
        value = value.normalize()
    return format_decimal(value, locale=_locale(), decimal_quantization=False)


def percent(value: Decimal | str | None, places: int = 1) -> str:
    """Format a fraction (0.1676) as a percentage (16.8 %)."""
    if value is None or value == "":
        return "—"
    fmt = "#,##0." + "0" * places + " %" if places else "#,##0 %"
    return format_percent(
        Decimal(str(value)), format=fmt, locale=_locale(), decimal_quantization=True
    )


def date(value: dt.date | dt.datetime | None, format: str = "medium") -> str:
    if value is None:
        return "—"
    return babel_format_date(value, format=format, locale=_locale())


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
