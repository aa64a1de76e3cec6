"""Money, numbers and percentages for people: `money` writes exactly what Babel writes."""

from __future__ import annotations

import random
from decimal import Decimal

from costshare.formatting import _shape, babel_money, money, percent

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
