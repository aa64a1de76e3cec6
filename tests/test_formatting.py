"""Money, numbers and percentages for people: `money` writes exactly what Babel writes."""

from __future__ import annotations

import random
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from costshare.formatting import (
    _date,
    _number_shape,
    _shape,
    babel_money,
    babel_number,
    date,
    money,
    number,
    percent,
)

LOCALES = ("en_GB", "de_DE", "fr_FR", "zh_CN", "en_IN", "de_CH", "sv_SE")
CURRENCIES = ("EUR", "JPY", "BHD", "USD", "CNY")


def test_money_writes_what_babel_writes_in_every_currency_and_locale(app) -> None:
    rng = random.Random(5)
    with app.app_context():
        for locale in LOCALES:
            for currency in CURRENCIES:
                for _ in range(300):
                    value = Decimal(rng.randint(-(10**10), 10**10)).scaleb(-rng.randint(0, 6))
                    assert money(value, currency, locale) == babel_money(value, currency, locale), (
                        locale,
                        value,
                    )
                assert money(None, currency, locale) == "—"
                assert money(Decimal("2000.000000"), currency, locale) == babel_money(
                    Decimal(2000), currency, locale
                )
                # Text and whole numbers, as templates pass them, are written alike.
                assert money("1234.5", currency, locale) == babel_money(
                    Decimal("1234.5"), currency, locale
                )
                assert money(7, currency, locale) == babel_money(Decimal(7), currency, locale)


def test_the_fast_path_applies_where_babel_agreed_and_babel_writes_the_rest(app) -> None:
    for locale in ("en_GB", "de_DE", "fr_FR", "zh_CN", "en_IN", "sv_SE"):
        for currency in CURRENCIES:
            assert _shape(currency, locale) is not None, (locale, currency)
    # Swiss German writes money with its own separators: Babel writes every amount there
    # (the comparison above covers de_CH too).
    assert _shape("EUR", "de_CH") is None


def test_money_in_the_apps_currency_and_locale(app) -> None:
    with app.app_context():
        app.config["LOCALE"] = "en_GB"
        # 1234.5 EUR with the euro's two decimals; 0.001 EUR keeps its third decimal.
        assert money(Decimal("1234.5"), "EUR") == "€1,234.50"
        assert money(Decimal("0.001"), "EUR") == "€0.001"
        assert money(Decimal("-1234.56"), "EUR") == "-€1,234.56"
        assert money(Decimal("1234"), "JPY") == "JP¥1,234"  # no decimals; en_GB says JP¥
        assert money("", "EUR") == "—"


def test_percentages_are_written_once_and_alike(app) -> None:
    with app.app_context():
        app.config["LOCALE"] = "en_GB"
        assert percent(Decimal("0.1676")) == "16.8 %"
        assert percent("0.1676", 0) == "17 %"
        assert percent(Decimal("0.16760")) == "16.8 %"
        assert percent(None) == "—"


@settings(max_examples=300, deadline=None)
@given(
    digits=st.integers(min_value=-(10**15), max_value=10**15),
    exponent=st.integers(min_value=-9, max_value=6),
    places=st.one_of(st.none(), st.integers(min_value=0, max_value=4)),
)
def test_numbers_are_written_as_babel_writes_them_in_every_locale(
    app, digits: int, exponent: int, places: int | None
) -> None:
    value = Decimal(digits).scaleb(exponent)
    with app.app_context():
        for locale in LOCALES:
            app.config["LOCALE"] = locale
            # What `number` did before it wrote numbers itself: round or trim, then Babel.
            if places is not None:
                expected = value.quantize(Decimal(1).scaleb(-places))
            elif value == value.to_integral():
                expected = value.quantize(Decimal(1))
            else:
                expected = value.normalize()
            assert number(value, places) == babel_number(expected, locale), (locale, value)


def test_numbers_by_hand_and_the_fast_path(app) -> None:
    with app.app_context():
        app.config["LOCALE"] = "en_GB"
        assert number(Decimal("34932")) == "34,932"
        assert number(Decimal("2000.000000")) == "2,000"
        assert number("1234.5") == "1,234.5"
        assert number(Decimal("-0.125"), 2) == "-0.12"  # half even, as Decimal rounds
        assert number(None) == number("") == "—"
        assert number(Decimal("Infinity")) == babel_number(Decimal("Infinity"), "en_GB")
        app.config["LOCALE"] = "en_IN"
        assert number(12345678) == "1,23,45,678"
    for locale in ("en_GB", "de_DE", "fr_FR", "zh_CN", "en_IN", "sv_SE"):
        assert _number_shape(locale) is not None, locale
    # Babel writes some Swiss German numbers ungrouped: Babel writes them all there.
    assert _number_shape("de_CH") is None


def test_dates_are_written_by_babel_once_each(app) -> None:
    import datetime as dt

    from babel.dates import format_date

    with app.app_context():
        for locale in LOCALES:
            app.config["LOCALE"] = locale
            for day in (dt.date(2026, 2, 14), dt.date(1999, 12, 31)):
                for format in ("medium", "long", "short"):
                    assert date(day, format) == format_date(day, format=format, locale=locale)
        app.config["LOCALE"] = "en_GB"
        assert date(dt.date(2026, 2, 14)) == "14 Feb 2026"
        assert date(None) == "—"
        hits = _date.cache_info().hits
        date(dt.date(2026, 2, 14))
        assert _date.cache_info().hits == hits + 1
