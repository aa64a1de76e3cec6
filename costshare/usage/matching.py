"""Matching imported usage to resources, and a report's institution to a member.

Resources name their usage by COUNTER platform, database and title identifiers
(`Resource.counter_platform`, `counter_database`, `counter_title_ids`). An item
matches, most specific first:

1. a resource listing one of the item's identifiers (ISSN, ISBN, DOI, proprietary id),
   on the item's platform or on no platform in particular;
2. a resource whose database is the item's name (DR, DB1 …), on the same platform;
3. the one resource that stands for the whole platform (a platform, no database and no
   title ids); for platform-level items (PR, PR1), the one resource on the platform.

Several resources matching equally is no match: the usage is kept unmatched and
listed, never guessed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from costshare.members.models import Member
from costshare.offers.models import Resource
from costshare.usage.reports import family
from costshare.vendors.forms import normalise_title_id

_SPACES = re.compile(r"\s+")
#: Identifier fields of a COUNTER item, in the order the matcher tries them.
ID_FIELDS = ("online_issn", "print_issn", "isbn", "doi", "proprietary_id")


def _fold(text: str | None) -> str:
    return _SPACES.sub(" ", (text or "").strip()).casefold()


@dataclass
class ResourceMatcher:
    """Match COUNTER items to resources, built once per import from every resource."""

    by_id: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    platform_of: dict[int, str] = field(default_factory=dict)
    by_database: dict[tuple[str, str], set[int]] = field(default_factory=lambda: defaultdict(set))
    whole_platform: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    on_platform: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    _cache: dict[tuple, int | None] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> ResourceMatcher:
        rows = session.execute(
            select(
                Resource.id,
                Resource.counter_platform,
                Resource.counter_database,
                Resource.counter_title_ids,
            )
        )
        matcher = cls()
        for resource_id, platform, database, title_ids in rows:
            matcher.add(resource_id, platform, database, title_ids or [])
        return matcher

    def add(
        self, resource_id: int, platform: str | None, database: str | None, title_ids: list
    ) -> None:
        platform_key = _fold(platform)
        self.platform_of[resource_id] = platform_key
        for value in title_ids:
            normal = normalise_title_id(str(value))
            if normal:
                self.by_id[normal.casefold()].add(resource_id)
        if database:
            self.by_database[(platform_key, _fold(database))].add(resource_id)
        if platform_key:
            self.on_platform[platform_key].add(resource_id)
            if not database and not title_ids:
                self.whole_platform[platform_key].add(resource_id)

    def _on(self, candidates: Iterable[int], platform: str) -> set[int]:
        return {r for r in candidates if self.platform_of[r] in ("", platform)}

    def match(
        self,
        platform: str,
        name: str,
        identifiers: Iterable[str],
        report_id: str,
    ) -> int | None:
        """Return the id of the one resource the item counts toward, or None."""
        key = (platform, name, *identifiers, report_id)
        if key in self._cache:
            return self._cache[key]
        found = self._match(_fold(platform), _fold(name), identifiers, report_id)
        self._cache[key] = found
        return found

    def _match(
        self, platform: str, name: str, identifiers: Iterable[str], report_id: str
    ) -> int | None:
        by_id: set[int] = set()
        for value in identifiers:
            if value:
                normal = normalise_title_id(value)
                if normal:
                    by_id |= self.by_id.get(normal.casefold(), set())
        by_id = self._on(by_id, platform)
        if by_id:
            return by_id.pop() if len(by_id) == 1 else None
        databases = self.by_database.get((platform, name), set()) | self.by_database.get(
            ("", name), set()
        )
        if databases:
            return databases.pop() if len(databases) == 1 else None
        whole = self.whole_platform.get(platform, set())
        if len(whole) == 1:
            return next(iter(whole))
        if not whole and family(report_id) == "PR":
            every = self.on_platform.get(platform, set())
            if len(every) == 1:
                return next(iter(every))
        return None


# --- which member a report belongs to --------------------------------------------------


def _id_keys(value: str) -> set[str]:
    """Return the spellings one institution id may be compared by (case, spaces, prefixes)."""
    text = _SPACES.sub("", value or "").casefold()
    if not text:
        return set()
    keys = {text}
    kind, _, rest = text.partition(":")
    if kind == "proprietary" and rest:
        keys.add(rest)  # "Proprietary:HighWire:cust1" is also written "HighWire:cust1"
    return keys


def member_keys(counter_ids: str | None) -> set[str]:
    """Return the comparable keys of a member's COUNTER ids (one per line)."""
    keys: set[str] = set()
    for line in (counter_ids or "").splitlines():
        keys |= _id_keys(line)
    return keys


def report_keys(institution_ids: Iterable[str], customer_id: str | None) -> set[str]:
    """Return the comparable keys of the institution a report names."""
    keys: set[str] = set()
    for value in institution_ids:
        keys |= _id_keys(value)
    if customer_id:
        keys |= _id_keys(customer_id) | _id_keys(f"customer_id:{customer_id}")
    return keys


def members_named(
    session: Session, institution_ids: Iterable[str], customer_id: str | None
) -> list[Member]:
    """Return the members whose COUNTER ids name the report's institution (ideally one)."""
    wanted = report_keys(institution_ids, customer_id)
    if not wanted:
        return []
    members = session.scalars(
        select(Member).where(Member.counter_ids.is_not(None), Member.counter_ids != "")
    )
    return sorted((m for m in members if member_keys(m.counter_ids) & wanted), key=lambda m: m.code)
