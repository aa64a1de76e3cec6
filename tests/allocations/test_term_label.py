"""The dates a term year covers, also for a term that starts on 29 February."""

from __future__ import annotations

import datetime as dt

from costshare.allocations.inputs import term_label
from costshare.offers.models import Offer


def offer(start: dt.date, end: dt.date) -> Offer:
    return Offer(term_start=start, term_end=end)


def test_term_years_run_from_anniversary_to_the_day_before_the_next() -> None:
    three_years = offer(dt.date(2026, 4, 1), dt.date(2029, 3, 31))
    assert term_label(three_years, 1) == "2026-04-01 – 2027-03-31"
    assert term_label(three_years, 2) == "2027-04-01 – 2028-03-31"
    assert term_label(three_years, 3) == "2028-04-01 – 2029-03-31"


def test_a_term_starting_on_a_leap_day_uses_28_february_in_other_years() -> None:
    leap = offer(dt.date(2024, 2, 29), dt.date(2027, 12, 31))  # four term years
    assert term_label(leap, 1) == "2024-02-29 – 2025-02-27"
    assert term_label(leap, 2) == "2025-02-28 – 2026-02-27"
    assert term_label(leap, 3) == "2026-02-28 – 2027-02-27"
    assert term_label(leap, 4) == "2027-02-28 – 2027-12-31"  # the last ends with the term


def test_a_leap_day_term_keeps_29_february_in_the_next_leap_year() -> None:
    leap = offer(dt.date(2024, 2, 29), dt.date(2029, 1, 31))  # five term years
    assert term_label(leap, 4) == "2027-02-28 – 2028-02-28"
    assert term_label(leap, 5) == "2028-02-29 – 2029-01-31"
