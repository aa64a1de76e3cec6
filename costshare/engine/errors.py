"""The engine's errors: one ValueError family whose messages a coordinator can act on."""

from __future__ import annotations

from collections.abc import Iterable


class AllocationError(ValueError):
    """Refuse an allocation, saying which member, attribute or bound is at fault.

    ``field`` is the dotted path of the scenario field at fault
    (``"formula.components[1].attribute"``), ``member`` the first member
    concerned and ``members`` all of them, ``attribute`` the member attribute,
    ``year`` the term year (1-based) and ``group`` the group, each ``None``
    when it does not apply.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        members: Iterable[str] = (),
        attribute: str | None = None,
        year: int | None = None,
        group: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.members: tuple[str, ...] = tuple(members)
        self.attribute = attribute
        self.year = year
        self.group = group

    @property
    def member(self) -> str | None:
        """Return the first member concerned, if any."""
        return self.members[0] if self.members else None

    def in_year(self, year: int) -> AllocationError:
        """Return this error reworded for year ``year`` of a term."""
        err = type(self)(
            f"Year {year}: {self.message}",
            field=self.field,
            members=self.members,
            attribute=self.attribute,
            year=year,
            group=self.group,
        )
        return err

    def in_group(self, group: str) -> AllocationError:
        """Return this error reworded for the members of group ``group``."""
        return type(self)(
            f"Group '{group}': {self.message}",
            field=self.field,
            members=self.members,
            attribute=self.attribute,
            year=self.year,
            group=group,
        )


class ScenarioError(AllocationError):
    """The scenario is malformed: an unknown key, a wrong type, a value out of range."""


class MissingAttributeError(AllocationError):
    """A member lacks an attribute (a fact) that the scenario needs."""


class InfeasibleError(AllocationError):
    """The bounds cannot all hold while the amounts add up to what the members owe."""


def name_members(codes: Iterable[str], limit: int = 5) -> str:
    """Return member codes as prose, shortened after ``limit`` names."""
    codes = list(codes)
    if len(codes) <= limit:
        shown = codes
        rest = 0
    else:
        shown = codes[:limit]
        rest = len(codes) - limit
    if rest:
        return ", ".join(shown) + f" and {rest} more"
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]
