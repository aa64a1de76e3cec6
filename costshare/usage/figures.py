"""Usage figures: monthly counts by member or resource, cost per use, usage as a formula input.

Every figure is summed in SQL per batch, resource, platform and month (counts are
integers), then `costshare.usage.reports` keeps, for each member, platform and month,
the master report when the member has one for that month, else the best standard view
of each slot — never both. Which reports a figure came from travels with it.

Money (allocated amounts) is added in Python as Decimal, never in SQL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from costshare.allocations.models import Allocation, AllocationLine
from costshare.db import today
from costshare.members.models import Member
from costshare.offers.models import Offer, Resource
from costshare.usage.models import UsageImport, UsageItem, UsageRecord
from costshare.usage.reports import (
    PREFERRED_METRICS,
    chosen_reports,
    family,
    is_master,
    preferred_metrics,
)

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
#: Months a page shows when no window is chosen.
DEFAULT_MONTHS = 12
#: A consortium figure (an average per member, a cost per use) is shown only when at
#: least this many members make it: with two, either could work out the other's figure
#: from its own.
MIN_MEMBERS_SHOWN = 3
#: The longest window a page or formula may ask for.
MAX_MONTHS = 120


# --- months and windows ---------------------------------------------------------------------


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def this_month() -> dt.date:
    return month_of(today())


def add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def parse_month(text: str | None) -> dt.date | None:
    """Return the first day of a 'YYYY-MM' month, or None when the text is not one."""
    match = _MONTH.match((text or "").strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (1900 <= year <= 2200 and 1 <= month <= 12):
        return None
    return dt.date(year, month, 1)


@dataclass(frozen=True)
class Window:
    """Whole months from `begin` to `end` (both first days of a month, inclusive)."""

    begin: dt.date
    end: dt.date

    @classmethod
    def ending(cls, end: dt.date, months: int = DEFAULT_MONTHS) -> Window:
        end = month_of(end)
        return cls(add_months(end, -(months - 1)), end)

    @classmethod
    def covering(cls, first_day: dt.date, last_day: dt.date) -> Window:
        return cls(month_of(first_day), month_of(last_day))

    @property
    def last_day(self) -> dt.date:
        return add_months(self.end, 1) - dt.timedelta(days=1)

    def months(self) -> list[dt.date]:
        count = (self.end.year - self.begin.year) * 12 + self.end.month - self.begin.month + 1
        return [add_months(self.begin, i) for i in range(max(count, 0))]

    @property
    def size(self) -> int:
        return len(self.months())

    @property
    def label(self) -> str:
        if self.begin == self.end:
            return f"{self.begin:%Y-%m}"
        return f"{self.begin:%Y-%m} to {self.end:%Y-%m}"

    def as_dict(self) -> dict[str, str]:
        return {"begin": f"{self.begin:%Y-%m}", "end": f"{self.end:%Y-%m}"}


def billed_window(offer: Offer, years: Iterable[int]) -> Window:
    """Return the months of the term years billed in calendar `years` (first to last).

    Term year k of an offer starting 2026-04-01 runs 2027-04 to 2028-03 for k = 2: the
    billed calendar year is the year the term year starts in.
    """
    start = offer.term_start.replace(day=1)
    first, last = min(years), max(years)
    begin = start.replace(year=first)
    end = add_months(start.replace(year=last), 11)
    return Window(max(begin, start), min(end, month_of(offer.term_end)))


# --- counts, with master reports over standard views ----------------------------------------


@dataclass(frozen=True)
class Count:
    """One member's count of one metric in one month, for one resource, from one report."""

    member_id: int
    resource_id: int | None
    platform: str
    month: dt.date
    metric: str
    report_id: str
    count: int


def _presence(session: Session, member_ids: Iterable[int], window: Window) -> dict[tuple, set[str]]:
    """Return the reports each member has per (member, platform, family, month).

    From the batches' periods: a master report counts for every month its file covers,
    also where it reports no use of some title — that zero is its figure.
    """
    ids = sorted(set(member_ids))
    present: dict[tuple, set[str]] = defaultdict(set)
    if not ids:
        return present
    rows = session.execute(
        select(
            UsageImport.member_id,
            UsageImport.report_id,
            UsageImport.begin,
            UsageImport.end,
            UsageImport.platform,
            UsageImport.summary["platforms"],
            UsageImport.summary["platform_given"],
        ).where(
            UsageImport.member_id.in_(ids),
            UsageImport.record_count > 0,
            UsageImport.begin <= window.last_day,
            UsageImport.end >= window.begin,
        )
    )
    for member_id, report_id, begin, end, platform, platforms, given in rows:
        names = [given] if given else (platforms or ([platform] if platform else [""]))
        months = Window.covering(max(begin, window.begin), min(end, window.last_day)).months()
        kind = family(report_id)
        for name in names:
            key = (name or "").casefold()
            for month in months:
                present[(member_id, key, kind, month)].add(report_id)
    return present


def counts(
    session: Session,
    metrics: Iterable[str],
    window: Window,
    *,
    member_ids: Iterable[int] | None = None,
    resource_ids: Iterable[int] | None = None,
    unmatched: bool = False,
) -> list[Count]:
    """Return the counts that make up usage figures (one query, plus one for the periods).

    `resource_ids` limits to those resources, `unmatched=True` to usage matched to none;
    `member_ids` to those members. Only the reports chosen per member, platform and
    month are returned.
    """
    metrics = list(dict.fromkeys(metrics))
    query = (
        select(
            UsageImport.member_id,
            UsageImport.report_id,
            UsageItem.resource_id,
            UsageItem.platform,
            UsageRecord.month,
            UsageRecord.metric,
            func.sum(UsageRecord.count),
        )
        .select_from(UsageRecord)
        .join(UsageItem, UsageItem.id == UsageRecord.item_id)
        .join(UsageImport, UsageImport.id == UsageItem.import_id)
        .where(
            UsageRecord.metric.in_(metrics),
            UsageRecord.month >= window.begin,
            UsageRecord.month <= window.end,
        )
        .group_by(
            UsageImport.member_id,
            UsageImport.report_id,
            UsageItem.resource_id,
            UsageItem.platform,
            UsageRecord.month,
            UsageRecord.metric,
        )
    )
    if member_ids is not None:
        query = query.where(UsageImport.member_id.in_(sorted(set(member_ids))))
    if resource_ids is not None:
        query = query.where(UsageItem.resource_id.in_(sorted(set(resource_ids))))
    elif unmatched:
        query = query.where(UsageItem.resource_id.is_(None))
    rows = session.execute(query).all()
    present = _presence(session, {row[0] for row in rows}, window)
    keys = []
    for member_id, report_id, _, platform, month, _, _ in rows:
        # A batch without a period (or a platform spelt otherwise) still takes part.
        key = (member_id, (platform or "").casefold(), family(report_id), month)
        present[key].add(report_id)
        keys.append(key)
    chosen: dict[tuple, frozenset[str]] = {}
    result = []
    for key, (member_id, report_id, resource_id, platform, month, metric, total) in zip(
        keys, rows, strict=True
    ):
        if key not in chosen:
            chosen[key] = chosen_reports(present[key])
        if report_id in chosen[key]:
            result.append(
                Count(member_id, resource_id, platform or "", month, metric, report_id, int(total))
            )
    return result


def metrics_of(
    session: Session,
    *,
    member_id: int | None = None,
    resource_id: int | None = None,
    kind: str | None = None,
) -> list[str]:
    """Return the metrics imported for a member or a resource, in the order pages offer them.

    A resource's `kind` puts first what it is judged by (searches for a database).
    """
    query = select(UsageImport.summary["totals"]).where(UsageImport.record_count > 0)
    if member_id is not None:
        query = query.where(UsageImport.member_id == member_id)
    if resource_id is not None:
        batches = select(UsageItem.import_id).where(UsageItem.resource_id == resource_id)
        query = query.where(UsageImport.id.in_(batches))
    seen: set[str] = set()
    for totals in session.scalars(query):
        seen.update((totals or {}).keys())
    ordered = [m for m in preferred_metrics(kind) if m in seen]
    return ordered + sorted(seen - set(ordered))


def latest_month(
    session: Session, *, member_id: int | None = None, resource_id: int | None = None
) -> dt.date | None:
    """Return the last month any usage of the member (or resource) was imported for."""
    query = select(func.max(UsageImport.end)).where(UsageImport.record_count > 0)
    if member_id is not None:
        query = query.where(UsageImport.member_id == member_id)
    if resource_id is not None:
        batches = select(UsageItem.import_id).where(UsageItem.resource_id == resource_id)
        query = query.where(UsageImport.id.in_(batches))
    last = session.scalar(query)
    return month_of(last) if last else None


# --- tables -----------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of a usage table: counts and source reports per month."""

    key: Any
    label: str
    counts: dict[dt.date, int] = field(default_factory=dict)
    sources: dict[dt.date, set[str]] = field(default_factory=dict)
    note: str = ""

    def add(self, month: dt.date, count: int, report_id: str) -> None:
        self.counts[month] = self.counts.get(month, 0) + count
        self.sources.setdefault(month, set()).add(report_id)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def reports(self) -> list[str]:
        found = {r for reports in self.sources.values() for r in reports}
        return sorted(found, key=lambda r: (not is_master(r), r))

    def source_of(self, month: dt.date) -> str:
        return ", ".join(sorted(self.sources.get(month, ())))

    @property
    def source_label(self) -> str:
        """Say which reports the row's figures came from, with their months when they vary."""
        spans: dict[str, list[dt.date]] = defaultdict(list)
        for month in sorted(self.sources):
            spans[", ".join(sorted(self.sources[month]))].append(month)
        if len(spans) <= 1:
            return next(iter(spans), "")
        return "; ".join(
            f"{reports} ({Window(months[0], months[-1]).label})"
            for reports, months in spans.items()
        )


@dataclass
class Table:
    """Monthly usage of one metric over a window: one row per member or resource."""

    metric: str
    window: Window
    rows: list[Row]
    metrics: list[str] = field(default_factory=list)

    @property
    def months(self) -> list[dt.date]:
        return self.window.months()

    def month_total(self, month: dt.date) -> int:
        return sum(row.counts.get(month, 0) for row in self.rows)

    @property
    def total(self) -> int:
        return sum(row.total for row in self.rows)


def pick_metric(wanted: str | None, available: list[str]) -> str:
    """Return the metric asked for when it is known, else the first available one."""
    from costshare.usage.reports import METRICS

    if wanted in METRICS:
        return wanted  # type: ignore[return-value]
    return available[0] if available else PREFERRED_METRICS[0]


def resource_table(session: Session, resource_id: int, metric: str, window: Window) -> Table:
    """Return a resource's monthly usage per member (all members with usage)."""
    rows: dict[int, Row] = {}
    for c in counts(session, [metric], window, resource_ids=[resource_id]):
        rows.setdefault(c.member_id, Row(c.member_id, "")).add(c.month, c.count, c.report_id)
    names = (
        dict(
            session.execute(select(Member.id, Member.code).where(Member.id.in_(rows.keys()))).all()
        )
        if rows
        else {}
    )
    for row in rows.values():
        row.label = names.get(row.key, "?")
    ordered = sorted(rows.values(), key=lambda r: (-r.total, r.label))
    return Table(metric, window, ordered)


def member_table(session: Session, member_id: int, metric: str, window: Window) -> Table:
    """Return a member's monthly usage per resource, and per platform for unmatched usage."""
    rows: dict[Any, Row] = {}
    for c in counts(session, [metric], window, member_ids=[member_id]):
        key = c.resource_id if c.resource_id is not None else ("platform", c.platform.casefold())
        row = rows.get(key)
        if row is None:
            row = rows[key] = Row(key, "")
            if c.resource_id is None:
                row.label = c.platform or "(no platform)"
                row.note = "not matched to a resource"
        row.add(c.month, c.count, c.report_id)
    resource_ids = [k for k in rows if isinstance(k, int)]
    if resource_ids:
        names = dict(
            session.execute(
                select(Resource.id, Resource.name).where(Resource.id.in_(resource_ids))
            ).all()
        )
        for key in resource_ids:
            rows[key].label = names.get(key, "?")
    ordered = sorted(rows.values(), key=lambda r: (bool(r.note), -r.total, r.label))
    return Table(metric, window, ordered)


@dataclass
class Average:
    """The consortium's figure for a resource, naming no member."""

    uses: int
    members: int
    #: Made of too few members to be shown to a member user (see `MIN_MEMBERS_SHOWN`).
    withheld: bool = False

    @property
    def reason(self) -> str:
        """Why the figure is withheld ("" when it is shown)."""
        if not self.withheld:
            return ""
        if self.members < MIN_MEMBERS_SHOWN:
            return "too few to show"
        return "too few in some months to show"

    @property
    def per_member(self) -> Decimal | None:
        if not self.members or self.withheld:
            return None
        return (Decimal(self.uses) / self.members).quantize(Decimal("0.1"), ROUND_HALF_EVEN)


def _thin_months(per_month: dict[dt.date, dict[int, int]]) -> bool:
    """Say whether some month was used (a count above 0) by fewer than `MIN_MEMBERS_SHOWN`."""
    for by_member in per_month.values():
        users = sum(1 for count in by_member.values() if count > 0)
        if 0 < users < MIN_MEMBERS_SHOWN:
            return True
    return False


def consortium_averages(
    session: Session, resource_ids: Iterable[int], metric: str, window: Window
) -> dict[int, Average]:
    """Return each resource's total uses and how many members used it, over the window.

    What a member user reads beside its own figures. The figure is withheld (member
    count only) unless every month of the window in which anyone used the resource had
    at least `MIN_MEMBERS_SHOWN` members using it: a member chooses the window, and two
    windows that differ by a month of two users would give away the other's use of that
    month. So any total a member can work out is a sum of months of three users or more.
    """
    ids = sorted(set(resource_ids))
    if not ids:
        return {}
    uses: dict[int, int] = defaultdict(int)
    users: dict[int, set[int]] = defaultdict(set)
    monthly: dict[int, dict[dt.date, dict[int, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    for c in counts(session, [metric], window, resource_ids=ids):
        uses[c.resource_id] += c.count  # type: ignore[index]
        users[c.resource_id].add(c.member_id)  # type: ignore[index]
        monthly[c.resource_id][c.month][c.member_id] += c.count  # type: ignore[index]
    averages = {}
    for rid in ids:
        if rid in uses:
            members = len(users[rid])
            if members < MIN_MEMBERS_SHOWN or _thin_months(monthly[rid]):
                averages[rid] = Average(0, members, withheld=True)
            else:
                averages[rid] = Average(uses[rid], members)
    return averages


def resource_totals(session: Session, metric: str, window: Window) -> dict[int | None, Average]:
    """Return every resource's total and member count (None: usage matched to no resource)."""
    uses: dict[int | None, int] = defaultdict(int)
    users: dict[int | None, set[int]] = defaultdict(set)
    for c in counts(session, [metric], window):
        uses[c.resource_id] += c.count
        users[c.resource_id].add(c.member_id)
    return {rid: Average(uses[rid], len(users[rid])) for rid in uses}


# --- cost per use -----------------------------------------------------------------------------


def per_use(amount: Decimal, uses: int) -> Decimal | None:
    """Return amount ÷ uses: to the cent from 1 up, to four places below 1 (a search: 0.03)."""
    if uses <= 0:
        return None
    value = amount / Decimal(uses)
    places = Decimal("0.01") if value >= 1 else Decimal("0.0001")
    return value.quantize(places, ROUND_HALF_EVEN)


@dataclass
class CostPerUse:
    """What a member paid for an offer's resource, its uses, and the consortium's figure."""

    offer_id: int
    offer_title: str
    resource_id: int
    resource_name: str
    currency: str
    metric: str
    window: Window
    member_id: int
    member_code: str
    amount: Decimal
    #: Calendar years billed by the final allocations counted.
    years: list[int]
    uses: int
    months_with_usage: int
    consortium_amount: Decimal
    consortium_uses: int
    consortium_members: int
    #: Some month of the window was used by fewer than `MIN_MEMBERS_SHOWN` of them.
    consortium_thin_months: bool = False
    #: Counted over a window asked for rather than the billed term years.
    chosen_window: bool = False
    #: Figures for a member user: the consortium's is held to the rules below.
    for_member_user: bool = False

    @property
    def cost_per_use(self) -> Decimal | None:
        return per_use(self.amount, self.uses)

    @property
    def consortium_withheld(self) -> str:
        """Why the consortium's figure is not shown ("" when it is).

        Staff see it whenever `MIN_MEMBERS_SHOWN` members with usage make it. A member
        user sees it for the billed years only (windows it chooses could be differenced:
        two whose members with usage differ by one give away that member's amount), and
        only when every month with uses had `MIN_MEMBERS_SHOWN` members using it.
        """
        if self.consortium_members < MIN_MEMBERS_SHOWN:
            return "too few to show"
        if self.for_member_user:
            if self.chosen_window:
                return "shown for the billed years only"
            if self.consortium_thin_months:
                return "too few in some months to show"
        return ""

    @property
    def consortium_cost_per_use(self) -> Decimal | None:
        """The consortium's amount ÷ its uses; None when withheld (see `consortium_withheld`)."""
        if self.consortium_withheld:
            return None
        return per_use(self.consortium_amount, self.consortium_uses)


def _final_lines(
    session: Session,
    offer_ids: Iterable[int] | None,
    member_id: int | None,
    resource_id: int | None = None,
) -> list[tuple[int, int, int, Decimal]]:
    """Return (offer, member, year, amount) of the final allocation lines asked for."""
    query = (
        select(
            Allocation.offer_id, AllocationLine.member_id, Allocation.year, AllocationLine.amount
        )
        .join(Allocation, Allocation.id == AllocationLine.allocation_id)
        .where(Allocation.status == "final")
    )
    if offer_ids is not None:
        query = query.where(Allocation.offer_id.in_(sorted(set(offer_ids))))
    if resource_id is not None:
        offers = select(Offer.id).where(Offer.resource_id == resource_id)
        query = query.where(Allocation.offer_id.in_(offers))
    if member_id is not None:
        mine = (
            select(Allocation.offer_id)
            .join(AllocationLine, AllocationLine.allocation_id == Allocation.id)
            .where(Allocation.status == "final", AllocationLine.member_id == member_id)
        )
        query = query.where(Allocation.offer_id.in_(mine))
    return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]


def default_metrics(session: Session, resources: Iterable[Resource]) -> dict[int, str]:
    """Return the metric each resource is judged by: its kind's first one that was imported.

    One query for all `resources`: the metrics of the imports that counted each one
    (what `metrics_of(resource_id=…)` finds for a single resource).
    """
    by_id = {resource.id: resource for resource in resources}
    if not by_id:
        return {}
    # Distinct (resource, import) pairs first: the totals are JSON, which PostgreSQL
    # cannot compare for DISTINCT.
    pairs = (
        select(UsageItem.resource_id, UsageItem.import_id)
        .where(UsageItem.resource_id.in_(sorted(by_id)))
        .distinct()
        .subquery()
    )
    query = (
        select(pairs.c.resource_id, UsageImport.summary["totals"])
        .join(UsageImport, UsageImport.id == pairs.c.import_id)
        .where(UsageImport.record_count > 0)
    )
    seen: dict[int, set[str]] = defaultdict(set)
    for resource_id, totals in session.execute(query):
        seen[resource_id].update((totals or {}).keys())
    result = {}
    for resource_id, resource in by_id.items():
        preferred = preferred_metrics(resource.kind)
        imported = seen[resource_id]
        ordered = [m for m in preferred if m in imported] + sorted(imported - set(preferred))
        result[resource_id] = ordered[0] if ordered else preferred[0]
    return result


def cost_per_use(
    session: Session,
    *,
    member_id: int | None = None,
    offer_id: int | None = None,
    resource_id: int | None = None,
    metric: str | None = None,
    window: Window | None = None,
    for_member_user: bool = False,
) -> list[CostPerUse]:
    """Return cost per use rows: per offer with final allocations, per member billed.

    A member's amount is the sum of its lines in the offer's final allocations; its uses
    are counted over the term years those allocations bill (or over `window`), in the
    metric the resource is judged by (or `metric`). The consortium's cost per use
    divides the amounts of the members with usage by their uses. `member_id` limits the
    rows to that member's (the consortium's figures still cover every member);
    `offer_id` and `resource_id` limit the offers. `for_member_user=True` holds the
    consortium's figure to what a member user may read (see `CostPerUse.consortium_withheld`).
    """
    lines = _final_lines(
        session, [offer_id] if offer_id is not None else None, member_id, resource_id
    )
    if not lines:
        return []
    offers = {
        o.id: o
        for o in session.scalars(
            select(Offer)
            .where(Offer.id.in_({line[0] for line in lines}))
            .options(selectinload(Offer.resource))
        )
    }
    resources = {offer.resource_id: offer.resource for offer in offers.values()}
    if metric:
        metrics = dict.fromkeys(resources, metric)
    else:
        metrics = default_metrics(session, resources.values())
    billed: dict[int, set[int]] = defaultdict(set)
    for line_offer, _, year, _ in lines:
        billed[line_offer].add(year)
    windows = {o.id: window or billed_window(o, billed[o.id]) for o in offers.values()}
    # One usage query per (metric, window): offers billed for the same year share one.
    groups: dict[tuple[str, Window], set[int]] = defaultdict(set)
    for offer in offers.values():
        groups[(metrics[offer.resource_id], windows[offer.id])].add(offer.resource_id)
    uses: dict[tuple[str, Window, int, int], int] = defaultdict(int)
    months: dict[tuple[str, Window, int, int], set[dt.date]] = defaultdict(set)
    #: (metric, window, resource) → month → member → uses.
    monthly: dict[tuple[str, Window, int], dict[dt.date, dict[int, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    for (group_metric, group_window), resource_ids in groups.items():
        for c in counts(session, [group_metric], group_window, resource_ids=resource_ids):
            key = (group_metric, group_window, c.resource_id, c.member_id)
            uses[key] += c.count  # type: ignore[index]
            months[key].add(c.month)  # type: ignore[index]
            by_month = monthly[(group_metric, group_window, c.resource_id)]  # type: ignore[index]
            by_month[c.month][c.member_id] += c.count
    amounts: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    years: dict[tuple[int, int], set[int]] = defaultdict(set)
    for line_offer, line_member, year, amount in lines:
        amounts[(line_offer, line_member)] += amount
        years[(line_offer, line_member)].add(year)
    codes = dict(
        session.execute(
            select(Member.id, Member.code).where(Member.id.in_({key[1] for key in amounts}))
        ).all()
    )
    result = []
    for offer_key in sorted(offers, key=lambda i: (offers[i].term_start, offers[i].title)):
        offer = offers[offer_key]
        rid = offer.resource_id
        used_metric = metrics[rid]
        used_window = windows[offer.id]
        members = [m for (o, m) in amounts if o == offer.id]
        with_usage = [m for m in members if uses.get((used_metric, used_window, rid, m), 0) > 0]
        consortium_amount = sum((amounts[(offer.id, m)] for m in with_usage), Decimal(0))
        consortium_uses = sum(uses[(used_metric, used_window, rid, m)] for m in with_usage)
        counted = set(with_usage)
        billed_usage = {
            month: {m: n for m, n in by_member.items() if m in counted}
            for month, by_member in monthly[(used_metric, used_window, rid)].items()
        }
        thin = _thin_months(billed_usage)
        shown = [member_id] if member_id is not None else sorted(members, key=lambda m: codes[m])
        for m in shown:
            if (offer.id, m) not in amounts:
                continue
            key = (used_metric, used_window, rid, m)
            result.append(
                CostPerUse(
                    offer_id=offer.id,
                    offer_title=offer.title,
                    resource_id=rid,
                    resource_name=offer.resource.name,
                    currency=offer.currency,
                    metric=used_metric,
                    window=used_window,
                    member_id=m,
                    member_code=codes.get(m, "?"),
                    amount=amounts[(offer.id, m)],
                    years=sorted(years[(offer.id, m)]),
                    uses=uses.get(key, 0),
                    months_with_usage=len(months.get(key, ())),
                    consortium_amount=consortium_amount,
                    consortium_uses=consortium_uses,
                    consortium_members=len(with_usage),
                    consortium_thin_months=thin,
                    chosen_window=window is not None,
                    for_member_user=for_member_user,
                )
            )
    return result


# --- a member's usage at a glance (the member portal) ----------------------------------------


@dataclass
class ResourceUsage:
    """A member's use of one resource over a window, beside the consortium's average."""

    resource_id: int
    resource_name: str
    metric: str
    window: Window
    uses: int
    months_with_usage: int
    reports: list[str]
    consortium: Average


@dataclass
class MemberUsage:
    member_id: int
    window: Window | None
    resources: list[ResourceUsage]
    #: Uses of the default metric that match no resource, per platform.
    unmatched: dict[str, int]


def member_usage_summary(
    session: Session, member_id: int, months: int = DEFAULT_MONTHS
) -> MemberUsage:
    """Return a member's usage of each resource over its last `months` months of usage.

    Each resource's metric is the first one imported for it (requests before searches);
    beside it the consortium's average per member using it — no other member named.
    """
    last = latest_month(session, member_id=member_id)
    if last is None:
        return MemberUsage(member_id, None, [], {})
    window = Window.ending(last, months)
    found = counts(session, PREFERRED_METRICS, window, member_ids=[member_id])
    by_resource: dict[int | None, dict[str, list[Count]]] = defaultdict(lambda: defaultdict(list))
    for c in found:
        by_resource[c.resource_id][c.metric].append(c)
    chosen: dict[int, str] = {}
    for rid, per_metric in by_resource.items():
        if rid is not None:
            chosen[rid] = next(m for m in PREFERRED_METRICS if m in per_metric)
    names = (
        dict(
            session.execute(select(Resource.id, Resource.name).where(Resource.id.in_(chosen))).all()
        )
        if chosen
        else {}
    )
    averages: dict[int, Average] = {}
    by_metric: dict[str, list[int]] = defaultdict(list)
    for rid, m in chosen.items():
        by_metric[m].append(rid)
    for m, rids in by_metric.items():
        averages.update(consortium_averages(session, rids, m, window))
    resources = []
    for rid, m in chosen.items():
        rows = by_resource[rid][m]
        resources.append(
            ResourceUsage(
                resource_id=rid,
                resource_name=names.get(rid, "?"),
                metric=m,
                window=window,
                uses=sum(c.count for c in rows),
                months_with_usage=len({c.month for c in rows}),
                reports=sorted({c.report_id for c in rows}),
                consortium=averages.get(rid, Average(0, 0)),
            )
        )
    unmatched: dict[str, int] = defaultdict(int)
    loose = by_resource.get(None, {})
    first = next((m for m in PREFERRED_METRICS if m in loose), None)
    for c in loose.get(first, []) if first else []:
        unmatched[c.platform or "(no platform)"] += c.count
    resources.sort(key=lambda r: r.resource_name)
    return MemberUsage(member_id, window, resources, dict(unmatched))
