"""Single values: month headings, dates, periods, counts, pseudo-total names."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from costshare.counter.values import (
    clean_count,
    is_pseudo_total,
    parse_date,
    parse_month_header,
    parse_period,
)


@pytest.mark.parametrize(
    ("heading", "month"),
    [
        ("Jan-2022", date(2022, 1, 1)),
        ("Jan-22", date(2022, 1, 1)),
        ("22-Jan", date(2022, 1, 1)),
        ("Jan 2022", date(2022, 1, 1)),
        ("January 2022", date(2022, 1, 1)),
        ("Sept-2021", date(2021, 9, 1)),
        ("2011-03", date(2011, 3, 1)),
        ("4-2011", date(2011, 4, 1)),
        ("04/2011", date(2011, 4, 1)),
        ("2022-07-01T00:00:00", date(2022, 7, 1)),  # an XLSX date cell
        ("1-Dec-22", date(2022, 12, 1)),
    ],
)
def test_month_headings(heading: str, month: date) -> None:
    assert parse_month_header(heading) == month


@pytest.mark.parametrize(
    "heading",
    ["Reporting Period Total", "Reporting_Period_PDF", "YOP", "2022-13", "Jan", "", "Metric_Type"],
)
def test_not_month_headings(heading: str) -> None:
    assert parse_month_header(heading) is None


def test_dates() -> None:
    assert parse_date("2019-04-25T11:39:56Z") == datetime(2019, 4, 25, 11, 39, 56, tzinfo=UTC)
    assert parse_date("2020-06-29 22:58:43-0700") == datetime(
        2020, 6, 29, 22, 58, 43, tzinfo=timezone(timedelta(hours=-7))
    )
    assert parse_date("1/1/2023") == date(2023, 1, 1)
    assert parse_date("02/21/2012") == date(2012, 2, 21)
    assert parse_date("2020-00-00T00:00:00Z") is None
    assert parse_date("$$$date_run$$$") is None


def test_periods() -> None:
    assert parse_period("Begin_Date=2016-01-01; End_Date=2016-03-31") == (
        date(2016, 1, 1),
        date(2016, 3, 31),
    )
    # A begin that is a month's end still starts that month.
    assert parse_period("2013-01-31 to 2013-10-31") == (date(2013, 1, 1), date(2013, 10, 31))
    assert parse_period("as selected") == (None, None)


@pytest.mark.parametrize(
    ("cell", "count"),
    [
        ("", 0),
        ("12", 12),
        ("6 ", 6),
        ("1,000", 1000),
        ("'1,016'", 1016),
        ('"5"', 5),
        ("1 234", 1234),
        ("3.0", 3),
        (7.0, 7),
        (None, 0),
    ],
)
def test_messy_counts(cell: object, count: int) -> None:
    assert clean_count(cell) == count


@pytest.mark.parametrize("cell", ["12x", "-3", "2.5", "1,00", "NaN", "1e30", True, float("inf")])
def test_not_counts(cell: object) -> None:
    with pytest.raises(ValueError, match="expected"):
        clean_count(cell)


def test_pseudo_total_names() -> None:
    for name in [
        "Total for all journals",
        "Total for All Titles",
        "All Databases",
        "Total",
        "All Platforms",
        "Total searches",
        "  total  FOR all databases ",
    ]:
        assert is_pseudo_total(name), name
    for name in ["Total Quality Management Journal", "All Things Considered", "Totalitarianism"]:
        assert not is_pseudo_total(name), name
