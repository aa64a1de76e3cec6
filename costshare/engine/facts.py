"""Member facts as columns: attribute lookup, derived attributes, clear errors."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

from costshare.engine.errors import MissingAttributeError, ScenarioError, name_members
from costshare.engine.model import Derived, Member
from costshare.engine.numbers import (
    DECIMAL_TEXT,
    MAX_ADJUSTED,
    MIN_ADJUSTED,
    ZERO,
    describe,
    is_decimal_text,
    to_decimal,
)

_MISSING = object()


class Facts:
    """The attributes of an ordered set of members, read column by column.

    Columns set with ``with_column`` (derived attributes, computed solo
    prices, a later year's previous shares) take the place of the members'
    own values; ``None`` in such a column means the member has no value.
    """

    __slots__ = ("_numbers", "codes", "columns", "members", "names")

    def __init__(
        self,
        members: Sequence[Member],
        columns: dict[str, list] | None = None,
        _same: Facts | None = None,
    ) -> None:
        self.members = tuple(members)
        if _same is not None:
            # The same members in the same order: their codes and names need no new lists.
            self.codes, self.names = _same.codes, _same.names
        else:
            self.codes = [m.code for m in self.members]
            self.names = [m.name for m in self.members]
        self.columns: dict[str, list] = dict(columns or {})
        self._numbers: dict[str, list[Decimal | None]] = {}

    def __len__(self) -> int:
        return len(self.members)

    def with_column(self, name: str, values: list) -> Facts:
        """Return these facts with column ``name`` replaced by ``values``."""
        columns = dict(self.columns)
        columns[name] = values
        facts = Facts(self.members, columns, _same=self)
        # Columns already read stay valid, except the one replaced.
        facts._numbers = {k: v for k, v in self._numbers.items() if k != name}
        return facts

    def subset(self, indices: Sequence[int]) -> Facts:
        """Return the facts of the members at ``indices`` (kept in that order)."""
        members = [self.members[i] for i in indices]
        columns = {name: [col[i] for i in indices] for name, col in self.columns.items()}
        return Facts(members, columns)

    def raw(self, name: str) -> list[Any]:
        """Return the column's values as given, ``None`` where a member has none."""
        if name in self.columns:
            return self.columns[name]
        return [m.attributes.get(name) for m in self.members]

    def has(self, name: str) -> bool:
        """Tell whether any member has a value for ``name``."""
        return any(v is not None for v in self.raw(name))

    def optional_numbers(
        self, name: str, needed_by: str, field: str | None = None
    ) -> list[Decimal | None]:
        """Return the column as Decimals, ``None`` where a member has no value."""
        cached = self._numbers.get(name)
        if cached is not None:
            return cached
        values = self.raw(name)
        numbers: list[Decimal | None] | None = _plain_column(values)
        if numbers is not None:
            self._numbers[name] = numbers
            return numbers
        numbers = []
        append = numbers.append
        plain = DECIMAL_TEXT.fullmatch
        for code, value in zip(self.codes, values, strict=True):
            kind = type(value)
            if kind is int:
                append(Decimal(value))
                continue
            if value is None:
                append(None)
                continue
            if kind is str and plain(value):
                value = Decimal(value)
                kind = Decimal
            if (
                kind is Decimal
                and value.is_finite()
                and (not value or MIN_ADJUSTED <= value.adjusted() <= MAX_ADJUSTED)
            ):
                append(value)
                continue
            append(_member_number(code, name, value, needed_by, field))
        self._numbers[name] = numbers
        return numbers

    def numbers(self, name: str, needed_by: str, field: str | None = None) -> list[Decimal]:
        """Return the column as Decimals; every member must have a number."""
        numbers = self.optional_numbers(name, needed_by, field)
        missing = [code for code, v in zip(self.codes, numbers, strict=True) if v is None]
        if missing:
            raise missing_attribute(missing, name, needed_by, field)
        return numbers  # type: ignore[return-value]

    def non_negative(self, name: str, needed_by: str, field: str | None = None) -> list[Decimal]:
        """Return the column as Decimals, every one present and not negative."""
        numbers = self.numbers(name, needed_by, field)
        negative = [code for code, v in zip(self.codes, numbers, strict=True) if v < 0]
        if negative:
            value = numbers[self.codes.index(negative[0])]
            raise ScenarioError(
                f"{_who(negative)} a negative '{name}' ({value}), which {needed_by} cannot use.",
                field=field,
                members=negative,
                attribute=name,
            )
        return numbers

    def floats(self, name: str, needed_by: str, field: str | None = None) -> np.ndarray:
        """Return a non-negative numeric column as floats (for shares), every member present."""
        values = self.raw(name) if name not in self._numbers else self._numbers[name]
        if set(map(type, values)) == {int}:
            numbers = np.array(values, dtype=float)
            if (numbers >= 0).all() and (numbers < 10.0**MAX_ADJUSTED).all():
                return numbers
        return np.array(self.non_negative(name, needed_by, field), dtype=float)

    def labels_in(
        self,
        name: str,
        known: Mapping[str, Any],
        needed_by: str,
        field: str | None = None,
        lister: str | None = None,
        known_field: str | None = None,
    ) -> list[str]:
        """Return the column as category labels, each of which ``known`` must list.

        ``lister`` names ``known`` in the message (default ``needed_by``);
        ``known_field`` is the field of an unlisted label (default ``field``).
        """
        labels = self.categories(name, needed_by, field)
        unknown = [
            code for code, label in zip(self.codes, labels, strict=True) if label not in known
        ]
        if unknown:
            label = labels[self.codes.index(unknown[0])]
            raise ScenarioError(
                f"Member {unknown[0]}'s '{name}' is {describe(label)}, "
                f"which {lister or needed_by} does not list (it lists {', '.join(known)}).",
                field=known_field or field,
                members=unknown,
                attribute=name,
            )
        return labels

    def categories(self, name: str, needed_by: str, field: str | None = None) -> list[str]:
        """Return the column as category labels; every member must have one."""
        values = self.raw(name)
        missing = [code for code, v in zip(self.codes, values, strict=True) if v is None]
        if missing:
            raise missing_attribute(missing, name, needed_by, field)
        return [v if type(v) is str else _label(v) for v in values]


_NUMBER_CHARACTERS = re.compile(r"[0-9.eE+-]*")


def _plain_column(values: list[Any]) -> list[Decimal | None] | None:
    """Read a column of well-formed numbers in bulk; ``None`` if any needs a closer look."""
    kinds = set(map(type, values))
    present = values
    if type(None) in kinds:
        kinds.discard(type(None))
        present = [v for v in values if v is not None]
    if kinds == {str}:
        # One look at every character, then Decimal() for the form: together as strict
        # as DECIMAL_TEXT (no spaces, underscores, NaN or other scripts' digits).
        if not _NUMBER_CHARACTERS.fullmatch("".join(present)):
            return None
        try:
            numbers = list(map(Decimal, present))
        except InvalidOperation:
            return None
    elif kinds == {int}:
        numbers = list(map(Decimal, present))
    elif kinds == {Decimal}:
        numbers = present
    else:
        return None if kinds else list(values)
    if kinds != {int} and not all(map(Decimal.is_finite, numbers)):
        return None
    exponents = [d.adjusted() for d in numbers if d]
    if exponents and not (min(exponents) >= MIN_ADJUSTED and max(exponents) <= MAX_ADJUSTED):
        return None
    if present is values:
        return numbers  # type: ignore[return-value]
    found = iter(numbers)
    return [None if v is None else next(found) for v in values]


def _label(value: Any) -> str:
    # JSON object keys are text; a numeric category matches the key spelled as given.
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _who(codes: list[str]) -> str:
    return f"Member {codes[0]} has" if len(codes) == 1 else f"Members {name_members(codes)} have"


def missing_attribute(
    codes: list[str], name: str, needed_by: str, field: str | None
) -> MissingAttributeError:
    """Return the error for members lacking attribute ``name``."""
    return MissingAttributeError(
        f"{_who(codes)} no attribute '{name}' (needed by {needed_by}).",
        field=field,
        members=codes,
        attribute=name,
    )


def _member_number(code: str, name: str, value: Any, needed_by: str, field: str | None) -> Decimal:
    if isinstance(value, str) and not is_decimal_text(value):
        raise ScenarioError(
            f"Member {code}'s attribute '{name}' must be a number, not {describe(value)} "
            f"(needed by {needed_by}).",
            field=field,
            members=[code],
            attribute=name,
        )
    try:
        return to_decimal(
            value, f"Member {code}'s attribute '{name}'", field, members=[code], attribute=name
        )
    except ScenarioError as err:
        raise ScenarioError(
            f"{err.message[:-1]} (needed by {needed_by}).",
            field=field,
            members=[code],
            attribute=name,
        ) from None


def add_derived(facts: Facts, derived: Sequence[Derived]) -> Facts:
    """Return the facts with every derived attribute computed exactly, in order."""
    for item in derived:
        clash = [m.code for m in facts.members if item.name in m.attributes]
        if clash:
            raise ScenarioError(
                f"Derived attribute '{item.name}' would hide the attribute of the same name "
                f"that {name_members(clash)} already {'has' if len(clash) == 1 else 'have'}; "
                "rename one of them.",
                field=f"derived.{item.name}",
                members=clash,
                attribute=item.name,
            )
        needed_by = f"derived attribute '{item.name}'"
        columns = [
            facts.numbers(source, needed_by, f"derived.{item.name}") for source, _ in item.sources
        ]
        coefficients = [coef for _, coef in item.sources]
        values: list[Decimal] = []
        count = Decimal(len(item.sources))
        for row in zip(*columns, strict=True):
            total = ZERO
            for coef, value in zip(coefficients, row, strict=True):
                total += coef * value
            values.append(total / count if item.kind == "mean" else total)
        facts = facts.with_column(item.name, values)
    return facts
