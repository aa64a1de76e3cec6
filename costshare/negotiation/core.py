"""The core check: would any group of members pay less on its own than the split makes it pay?

Pure core (no Flask, no SQLAlchemy). For prices that depend only on a group's
size k and its members' own prices p_i — `list_discount` and `per_member`
(``price(S) = half_even((1 − d(|S|)) · Σ_{i∈S} p_i)``) and `per_unit`
(no tiers: ``price(S) = half_even(Σ_{i∈S} p_i)``) — the group of size k that
gains most by leaving is the k members with the largest
``paid_i − (1 − d(k)) · p_i``. Since d(k) only changes where a tier starts,
one sort per tier level covers every k of that level: all 2^n groups are
decided in O(T · n log n) for T tiers (O(n² log n) at worst).

``paid_i`` is what member i pays toward the vendor's price (its amount less
its part of the consortium's surcharge); a subsidy is not added back.
Arithmetic is exact (integers), and the vendor's price of a group is rounded
half-even to the grid exactly as the engine rounds it, so a group is named
exactly when ``Σ paid > price(S)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

Tiers = Sequence[tuple[int, Decimal]]


@dataclass(frozen=True)
class Group:
    """A group of members that would pay less on its own than the split makes it pay."""

    codes: tuple[str, ...]
    #: What the group's members pay toward the vendor's price under the split.
    paid: Decimal
    #: What the vendor would charge the group alone.
    alone: Decimal

    @property
    def size(self) -> int:
        return len(self.codes)

    @property
    def excess(self) -> Decimal:
        """How much more the group pays in the consortium than it would alone."""
        return self.paid - self.alone


@dataclass(frozen=True)
class CoreCheck:
    """The verdict: the split is in the core when no group of any size would leave."""

    #: For each group size that has one, the group that gains most by leaving.
    groups: tuple[Group, ...]

    @property
    def in_core(self) -> bool:
        return not self.groups

    @property
    def worst(self) -> Group | None:
        """The group with the largest excess (the smallest such group on a tie)."""
        if not self.groups:
            return None
        return max(self.groups, key=lambda g: (g.excess, -g.size))


def group_price(prices: Sequence[Decimal], tiers: Tiers, unit: Decimal) -> Decimal:
    """Return the vendor's price for a group with these own prices, rounded half-even to `unit`."""
    keep = 1 - _discount(tiers, len(prices))
    keep_places, price_places = _places([keep]), _places(prices)
    scale = max(_places([unit]), keep_places + price_places)
    keep_int = _as_int(keep, keep_places) * 10 ** (scale - keep_places - price_places)
    total = keep_int * sum(_as_int(p, price_places) for p in prices)
    return _on_grid(total, _as_int(unit, scale), unit)


def _on_grid(value: int, unit_int: int, unit: Decimal) -> Decimal:
    """Round `value` (scaled like `unit_int`) half-even to a multiple of `unit`, as the engine."""
    steps, rest = divmod(value, unit_int)
    if 2 * rest > unit_int or (2 * rest == unit_int and steps % 2):
        steps += 1
    return steps * unit


def core_check(
    codes: Sequence[str],
    paid: Sequence[Decimal],
    prices: Sequence[Decimal],
    tiers: Tiers,
    unit: Decimal,
) -> CoreCheck:
    """Find, for each group size, the group that would pay least on its own relative to its split.

    `paid` are on the grid of `unit` (amounts less surcharge parts); `prices`
    are the members' own prices p_i (list or table prices, or per-unit prices).
    """
    n = len(codes)
    if not (len(paid) == len(prices) == n):
        raise ValueError("codes, paid and prices must have the same length")
    levels = _levels(tiers, n)
    # Exact integer arithmetic: every figure scaled by 10^scale.
    keep_places = _places(keep for keep, _ in levels)
    price_places = _places(prices)
    scale = max(_places([*paid, unit]), keep_places + price_places)
    factor = 10 ** (scale - keep_places - price_places)
    unit_int = _as_int(unit, scale)
    paid_int = [_as_int(a, scale) for a in paid]
    price_int = [_as_int(p, price_places) for p in prices]
    if any(a % unit_int for a in paid_int):
        raise ValueError("what members pay must lie on the rounding grid")
    found: list[Group] = []
    for keep, sizes in levels:
        keep_int = _as_int(keep, keep_places) * factor
        keys = [a - keep_int * p for a, p in zip(paid_int, price_int, strict=True)]
        # Largest gain first; equal gains by code, so the named group is always the same.
        order = sorted(range(n), key=lambda i: (-keys[i], codes[i]))
        gain = 0
        sizes_left = iter(sizes)
        k = next(sizes_left)
        for position, i in enumerate(order, start=1):
            gain += keys[i]
            if position < k:
                continue
            # gain is max over groups S of size k of Σ paid − (1 − d(k))·Σ p, scaled.
            chosen: list[int] | None = None
            if 2 * gain > unit_int:
                chosen = order[:k]
            elif 2 * gain == unit_int:
                chosen = _odd_tie(order, keys, paid_int, unit_int, k)
            if chosen is not None:
                found.append(_group(chosen, codes, paid, price_int, keep_int, unit_int, unit))
            k = next(sizes_left, None)
            if k is None:
                break
    return CoreCheck(tuple(sorted(found, key=lambda g: g.size)))


def _places(values: Iterable[Decimal]) -> int:
    """Return how many decimal places write every value exactly."""
    return max((max(0, -int(v.as_tuple().exponent)) for v in values), default=0)


def _as_int(value: Decimal, places: int) -> int:
    """Return value · 10^places as an int (exact: `value` has at most `places` decimals)."""
    sign, digits, exponent = value.as_tuple()
    number = int("".join(map(str, digits)) or "0") * 10 ** (int(exponent) + places)
    return -number if sign else number


def _levels(tiers: Tiers, n: int) -> list[tuple[Decimal, range]]:
    """Split sizes 1..n into runs of equal discount: [(1 − d, range of k)]."""
    starts = sorted({1, *(low for low, _ in tiers if 1 < low <= n)})
    levels = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else n + 1
        levels.append((1 - _discount(tiers, start), range(start, end)))
    return levels


def _discount(tiers: Tiers, count: int) -> Decimal:
    """Return d(count): the discount of the last tier whose `min_members` ≤ count (0 if none)."""
    found = Decimal(0)
    for low, rate in sorted(tiers):
        if low <= count:
            found = Decimal(rate)
    return found


def _odd_tie(
    order: list[int], keys: list[int], paid: list[int], unit: int, k: int
) -> list[int] | None:
    """Pick a best group of size k whose price rounds down, when the best gain is exactly ½ unit.

    A group gaining exactly half a unit pays Σ paid = price + ½ unit before
    rounding; half-even rounding lowers its price (so it would leave) exactly
    when Σ paid / unit is odd. Every best group holds the members whose gain
    beats the k-th best, plus any m of those tied with it: look for an odd sum.
    """
    threshold = keys[order[k - 1]]
    forced = [i for i in order if keys[i] > threshold]
    tied = [i for i in order if keys[i] == threshold]
    m = k - len(forced)
    steps = {i: paid[i] // unit for i in (*forced, *tied)}
    base = sum(steps[i] for i in forced)
    odd = [i for i in tied if steps[i] % 2]
    even = [i for i in tied if not steps[i] % 2]
    # Choose j odd and m − j even members from the tie: the sum is odd when base + j is.
    for j in range(min(m, len(odd)) + 1):
        if m - j <= len(even) and (base + j) % 2 == 1:
            return forced + odd[:j] + even[: m - j]
    return None


def _group(
    chosen: list[int],
    codes: Sequence[str],
    paid: Sequence[Decimal],
    price_int: list[int],
    keep_int: int,
    unit_int: int,
    unit: Decimal,
) -> Group:
    members = sorted(chosen, key=lambda i: codes[i])
    return Group(
        codes=tuple(codes[i] for i in members),
        paid=sum((paid[i] for i in members), Decimal(0)),
        alone=_on_grid(keep_int * sum(price_int[i] for i in members), unit_int, unit),
    )
