"""Importing COUNTER files: one savepoint per file, streamed in bulk, never doubled.

`import_usage(session, source, filename=…, member=…)` reads a report with the COUNTER
reader and stores it as one batch (`UsageImport`) with its items and records:

- the member is the one given, or the one whose COUNTER ids name the report's
  institution; a file naming another member's institution is refused;
- the same file (same SHA-256) for the same member is recognised and changes nothing;
- a file of the same member, report and platform replaces the earlier batches' records
  for the months it covers (its reporting period), so re-importing never doubles;
- items are matched to resources (`costshare.usage.matching`); unmatched usage is kept;
- everything happens inside a savepoint: any error — a broken row in the middle of the
  file included — leaves the database as it was, and the caller's session usable.

`remove_batch` deletes a batch with its items and records; `rematch` matches every
stored item again after resources' COUNTER identifiers changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from costshare.audit.services import record
from costshare.counter import CounterError, Item, Report, Summary, read_report
from costshare.db import utcnow
from costshare.engine.runtime import collector_paused
from costshare.errors import ConflictError, ServiceError
from costshare.members.models import Member
from costshare.usage.bulk import ITEM_LIMITS, BulkWriter
from costshare.usage.matching import ResourceMatcher, members_named
from costshare.usage.models import UsageImport, UsageItem, UsageRecord

#: Records read and written per round trip: large enough for bulk speed, small in memory.
BATCH_SIZE = 50_000
#: SUSHI exception codes that mean "no usage for these months": an empty report replaces.
NO_USAGE_CODES = {3030}
PLATFORM_MAX = 255

Source = str | os.PathLike | bytes | IO[bytes]
Progress = Callable[[int], None]


class UsageImportError(ServiceError):
    """A file that cannot be imported: the sentence names the file (and row and column)."""


class DuplicateImport(ConflictError):
    """The same file was already imported for this member; nothing changed."""

    def __init__(self, message: str, batch: UsageImport) -> None:
        super().__init__(message, details={"import_id": batch.id})
        self.batch = batch


@dataclass
class Imported:
    """What one file's import did."""

    batch: UsageImport
    #: Earlier batch id → how many of its records this file replaced.
    replaced: dict[int, int] = field(default_factory=dict)
    items: int = 0
    unmatched_items: int = 0

    @property
    def records(self) -> int:
        return self.batch.record_count

    def sentence(self) -> str:
        """Say in one line what happened (the upload page's and the CLI's result line)."""
        b = self.batch
        parts = [
            f"{b.filename}: imported for {b.member.code} as batch {b.id}",
            f"{b.report_id} {period_label(b.begin, b.end)}",
            f"{b.record_count:,} records",
        ]
        if self.replaced:
            count = sum(self.replaced.values())
            batches = ", ".join(str(i) for i in sorted(self.replaced))
            parts.append(f"replaced {count:,} records of batch {batches}")
        if self.unmatched_items:
            parts.append(f"{self.unmatched_items:,} of {self.items:,} items match no resource")
        exceptions = b.summary.get("exceptions") or []
        if exceptions:
            parts.append("SUSHI " + "; ".join(exception_text(e) for e in exceptions))
        return ", ".join(parts) + "."


def exception_text(exception: dict[str, Any]) -> str:
    code = exception.get("code")
    words = " ".join(str(exception.get(k) or "") for k in ("severity", "message")).strip()
    return f"{code} {words}".strip() if code is not None else words


def period_label(begin: dt.date | None, end: dt.date | None) -> str:
    if begin is None or end is None:
        return "(no period)"
    if (begin.year, begin.month) == (end.year, end.month):
        return f"{begin:%Y-%m}"
    return f"{begin:%Y-%m} to {end:%Y-%m}"


# --- the file ---------------------------------------------------------------------------


def _spooled(source: Source) -> tuple[Source, str]:
    """Return a source that can be read again from the start, and the SHA-256 of its bytes."""
    digest = hashlib.sha256()
    if isinstance(source, str | os.PathLike):
        try:
            with Path(source).open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
        except OSError:
            return source, ""  # the reader names the file and the reason
        return source, digest.hexdigest()
    if isinstance(source, bytes | bytearray | memoryview):
        digest.update(source)
        return bytes(source), digest.hexdigest()
    stream: Any = source
    seekable = False
    try:
        seekable = bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        seekable = False
    if not seekable:
        spool = tempfile.SpooledTemporaryFile(max_size=32 << 20)  # noqa: SIM115 - returned
        while chunk := stream.read(1 << 20):
            spool.write(chunk)
        stream = spool
    stream.seek(0)
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
    stream.seek(0)
    return stream, digest.hexdigest()


def _refusal(error: CounterError) -> UsageImportError:
    return UsageImportError(
        str(error),
        field="file",
        details={"file": error.file, "row": error.row, "column": error.column},
    )


def institution_label(summary: Summary) -> str:
    name = f"“{summary.institution_name}”" if summary.institution_name else "an institution"
    ids = [*summary.institution_ids]
    if summary.customer_id:
        ids.append(f"customer id {summary.customer_id}")
    return f"{name} ({', '.join(ids)})" if ids else name


def _member_for(session: Session, summary: Summary, member: Member | None, filename: str) -> Member:
    named = members_named(session, summary.institution_ids, summary.customer_id)
    if member is None:
        if len(named) == 1:
            return named[0]
        if not named:
            raise UsageImportError(
                f"{filename}: choose the member — the file names {institution_label(summary)},"
                " which no member's COUNTER ids list.",
                field="member",
            )
        raise UsageImportError(
            f"{filename}: choose the member — the file names {institution_label(summary)},"
            f" listed in the COUNTER ids of {', '.join(m.code for m in named)}.",
            field="member",
        )
    if named and all(m.id != member.id for m in named):
        raise UsageImportError(
            f"{filename}: the file names {institution_label(summary)}, which is"
            f" {', '.join(m.code for m in named)} by the members' COUNTER ids, not {member.code}."
            " Choose that member, or correct the COUNTER ids.",
            field="member",
        )
    return member


def _clean_platform(platform: str | None) -> str | None:
    value = (platform or "").replace("\x00", "").strip()
    if len(value) > PLATFORM_MAX:
        raise UsageImportError(
            f"The platform name is longer than {PLATFORM_MAX} characters.", field="platform"
        )
    return value or None


def _text(value: str, limit: int | None) -> str | None:
    if not value:
        return None
    if not value.isascii():
        # No database stores half a UTF-16 pair (a JSON file may hold "\ud800").
        value = value.encode("utf-8", "replace").decode("utf-8")
    if "\x00" in value:
        value = value.replace("\x00", "")
    value = value.strip()
    if limit is not None and len(value) > limit:
        value = value[:limit]
    return value or None


# --- the import -------------------------------------------------------------------------


def import_usage(
    session: Session,
    source: Source,
    *,
    filename: str | None = None,
    member: Member | None = None,
    platform: str | None = None,
    source_kind: str = "upload",
    user_id: int | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> Imported:
    """Import one COUNTER file for a member (see the module docstring); flush, never commit.

    Raises UsageImportError (the file is unreadable, or its member unclear) or
    DuplicateImport; either way nothing was stored.
    """
    if isinstance(source, str | os.PathLike):
        filename = filename or Path(source).name
    # The name the browser sent may hold a NUL character, which PostgreSQL cannot store.
    filename = _text(filename or "", 255) or "upload"
    _clean_platform(platform)  # refused before the file is read
    source, checksum = _spooled(source)
    try:
        report = read_report(source, filename)
    except CounterError as error:
        raise _refusal(error) from None
    with report:
        return import_report(
            session,
            report,
            checksum=checksum,
            member=member,
            platform=platform,
            source_kind=source_kind,
            user_id=user_id,
            progress=progress,
            batch_size=batch_size,
        )


def import_report(
    session: Session,
    report: Report,
    *,
    checksum: str,
    member: Member | None = None,
    platform: str | None = None,
    source_kind: str = "upload",
    user_id: int | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> Imported:
    """Store a report whose header is read and records are not: `import_usage`'s second half.

    `checksum` tells the same file again (the SHA-256 of its bytes).
    """
    summary = report.summary
    filename = summary.file[:255]
    platform = _clean_platform(platform)
    if summary.report_id is None:
        found = "; ".join(exception_text(e.as_dict()) for e in summary.exceptions)
        raise UsageImportError(
            f"{filename}: no report in this file, only "
            + (f"SUSHI exceptions: {found}." if found else "a response without usage."),
            field="file",
        )
    member = _member_for(session, summary, member, filename)
    earlier = session.scalar(
        select(UsageImport).where(
            UsageImport.member_id == member.id, UsageImport.checksum == checksum
        )
    )
    if earlier is not None:
        raise DuplicateImport(
            f"{filename}: already imported for {member.code} on"
            f" {earlier.created_at:%Y-%m-%d} as batch {earlier.id}; nothing changed.",
            earlier,
        )
    with session.begin_nested():
        return _store(
            session,
            report,
            member,
            filename=filename,
            checksum=checksum,
            platform=platform,
            source_kind=source_kind,
            user_id=user_id,
            progress=progress,
            batch_size=batch_size,
        )


def _store(
    session: Session,
    report: Report,
    member: Member,
    *,
    filename: str,
    checksum: str,
    platform: str | None,
    source_kind: str,
    user_id: int | None,
    progress: Progress | None,
    batch_size: int,
) -> Imported:
    summary: Summary = report.summary
    batch = UsageImport(
        member_id=member.id,
        member=member,
        checksum=checksum,
        filename=filename,
        source=source_kind,
        release=(summary.release or "?")[:8],
        report_id=summary.report_id[:16],
        platform=platform or (summary.platform or "")[:PLATFORM_MAX] or None,
        begin=summary.begin,
        end=summary.end,
        record_count=0,
        summary={},
        created_by_id=user_id,
        created_at=utcnow(),
    )
    session.add(batch)
    session.flush()  # the batch's id, and (SQLite) the write lock before ids are reserved
    try:
        with collector_paused():
            done, ids, unmatched, platforms = _stream(
                session, report, batch, platform, progress, batch_size
            )
    except CounterError as error:
        raise _refusal(error) from None
    if batch.begin is None and summary.months:
        batch.begin, batch.end = min(summary.months), max(summary.months)
    if not platforms and batch.platform:
        platforms.add(batch.platform.casefold())
    result = Imported(batch, items=ids, unmatched_items=unmatched)
    result.replaced = _replace_earlier(session, batch, summary, platforms, has_records=done > 0)
    batch.record_count = done
    batch.summary = {
        **summary.as_dict(),
        "items_stored": ids,
        "unmatched_items": unmatched,
        "replaced": {str(k): v for k, v in sorted(result.replaced.items())},
        "platform_given": platform,
    }
    session.flush()
    record(
        session,
        "usage.import",
        batch,
        result.sentence(),
        after={
            "member": member.code,
            "file": filename,
            "report": batch.report_id,
            "begin": batch.begin,
            "end": batch.end,
            "records": done,
            "replaced": batch.summary["replaced"],
        },
        user_id=user_id,
    )
    return result


def _stream(
    session: Session,
    report: Report,
    batch: UsageImport,
    platform: str | None,
    progress: Progress | None,
    batch_size: int,
) -> tuple[int, int, int, set[str]]:
    """Write the report's items and records; return (records, items, unmatched, platforms).

    The cycle collector is paused by the caller: a batch makes a hundred thousand tuples
    and no cycles, and a collector walking them again and again halves the speed.
    """
    writer = BulkWriter.for_session(session, batch.id, batch.member_id)
    matcher = ResourceMatcher.load(session)
    ids: dict[Item, int] = {}
    platforms: set[str] = set()
    unmatched = done = 0
    for records in report.batches(batch_size):
        items, metrics, months, counts = zip(*records, strict=True)
        new = [item for item in dict.fromkeys(items) if item not in ids]
        if new:
            rows = []
            for item, item_id in zip(new, writer.reserve(len(new)), strict=True):
                ids[item] = item_id
                row = _item_row(item, item_id, batch.id, platform, matcher)
                unmatched += row[2] is None
                platforms.add((row[3] or "").casefold())
                rows.append(row)
            writer.write_items(rows)
        writer.write_records(map(ids.__getitem__, items), metrics, months, counts)
        done += len(records)
        if progress is not None:
            progress(done)
    return done, len(ids), unmatched, platforms


def _item_row(
    item: Item, item_id: int, import_id: int, platform: str | None, matcher: ResourceMatcher
) -> tuple:
    """Return the usage_item row of a reader Item, matched to its resource."""
    limits = ITEM_LIMITS
    item_platform = platform or item.platform
    resource_id = matcher.match(
        item_platform,
        item.name,
        (item.online_issn, item.print_issn, item.isbn, item.doi, item.proprietary_id),
        item.report_id,
    )
    return (
        item_id,
        import_id,
        resource_id,
        _text(item_platform, limits["platform"]),
        _text(item.name, limits["name"]),
        _text(item.publisher, limits["publisher"]),
        _text(item.print_issn, limits["print_issn"]),
        _text(item.online_issn, limits["online_issn"]),
        _text(item.isbn, limits["isbn"]),
        _text(item.doi, limits["doi"]),
        _text(item.proprietary_id, limits["proprietary_id"]),
        _text(item.uri, limits["uri"]),
        _text(item.data_type, limits["data_type"]),
        _text(item.section_type, limits["section_type"]),
        _text(item.access_type, limits["access_type"]),
        _text(item.access_method, limits["access_method"]),
        _text(item.yop, limits["yop"]),
    )


def _replace_earlier(
    session: Session,
    batch: UsageImport,
    summary: Summary,
    platforms: set[str],
    *,
    has_records: bool,
) -> dict[int, int]:
    """Delete earlier records of the same member, report and platform in this file's period."""
    if batch.begin is None or batch.end is None or not platforms:
        return {}
    if not has_records and not any(_code(e.code) in NO_USAGE_CODES for e in summary.exceptions):
        return {}  # an empty answer that does not say "no usage" replaces nothing
    earlier = (
        select(UsageItem.platform)
        .join(UsageImport, UsageImport.id == UsageItem.import_id)
        .where(
            UsageImport.member_id == batch.member_id,
            UsageImport.report_id == batch.report_id,
            UsageImport.id != batch.id,
        )
        .distinct()
    )
    # Platform names are compared without regard to case, in Python (SQLite's lower()
    # folds ASCII only).
    same = [p for p in session.scalars(earlier) if (p or "").casefold() in platforms]
    if not same:
        return {}
    named = [p for p in same if p is not None]
    platform_match = UsageItem.platform.in_(named)
    if None in same:
        platform_match = platform_match | UsageItem.platform.is_(None)
    old_items = (
        select(UsageItem.id)
        .join(UsageImport, UsageImport.id == UsageItem.import_id)
        .where(
            UsageImport.member_id == batch.member_id,
            UsageImport.report_id == batch.report_id,
            UsageImport.id != batch.id,
            platform_match,
        )
    )
    in_period = (
        UsageRecord.item_id.in_(old_items),
        UsageRecord.month >= batch.begin,
        UsageRecord.month <= batch.end,
    )
    counts = dict(
        session.execute(
            select(UsageRecord.import_id, func.count())
            .where(*in_period)
            .group_by(UsageRecord.import_id)
        ).all()
    )
    if not counts:
        return {}
    session.execute(
        delete(UsageRecord).where(*in_period), execution_options={"synchronize_session": False}
    )
    for import_id, count in counts.items():
        session.execute(
            update(UsageImport)
            .where(UsageImport.id == import_id)
            .values(record_count=UsageImport.record_count - count),
            execution_options={"synchronize_session": False},
        )
    return {int(k): int(v) for k, v in counts.items()}


def _code(code: object) -> int | None:
    try:
        return int(str(code))
    except (TypeError, ValueError):
        return None


# --- removing and matching again ----------------------------------------------------------


def remove_batch(session: Session, batch: UsageImport, user_id: int | None = None) -> int:
    """Delete a batch with its items and records; return how many records went."""
    items = select(UsageItem.id).where(UsageItem.import_id == batch.id)
    removed = session.execute(
        delete(UsageRecord).where(UsageRecord.item_id.in_(items)),
        execution_options={"synchronize_session": False},
    ).rowcount
    session.execute(
        delete(UsageItem).where(UsageItem.import_id == batch.id),
        execution_options={"synchronize_session": False},
    )
    summary = (
        f"Removed usage batch {batch.id} ({batch.filename}, {batch.report_id}"
        f" {period_label(batch.begin, batch.end)}) of {batch.member.code}: {removed:,} records"
    )
    before = {
        "member": batch.member.code,
        "file": batch.filename,
        "report": batch.report_id,
        "begin": batch.begin,
        "end": batch.end,
        "records": removed,
    }
    record(session, "usage.remove", batch, summary, before=before, user_id=user_id)
    session.delete(batch)
    session.flush()
    return removed


def rematch(session: Session, user_id: int | None = None, chunk: int = 5_000) -> tuple[int, int]:
    """Match every stored item to resources again; return (items changed, items unmatched)."""
    matcher = ResourceMatcher.load(session)
    columns = (
        UsageItem.id,
        UsageItem.resource_id,
        UsageItem.platform,
        UsageItem.name,
        UsageItem.online_issn,
        UsageItem.print_issn,
        UsageItem.isbn,
        UsageItem.doi,
        UsageItem.proprietary_id,
        UsageImport.report_id,
    )
    changed: list[dict[str, Any]] = []
    unmatched = 0
    last = 0
    while True:
        rows = session.execute(
            select(*columns)
            .join(UsageImport, UsageImport.id == UsageItem.import_id)
            .where(UsageItem.id > last)
            .order_by(UsageItem.id)
            .limit(chunk)
        ).all()
        if not rows:
            break
        for item_id, current, platform, name, *identifiers, report_id in rows:
            found = matcher.match(
                platform or "", name or "", [i or "" for i in identifiers], report_id
            )
            unmatched += found is None
            if found != current:
                changed.append({"item_id": item_id, "resource": found})
        last = rows[-1][0]
    if changed:
        session.execute(
            update(UsageItem.__table__)
            .where(UsageItem.__table__.c.id == bindparam("item_id"))
            .values(resource_id=bindparam("resource")),
            changed,
        )
    record(
        session,
        "usage.rematch",
        Usage(),
        f"Matched imported usage to resources again: {len(changed):,} items changed,"
        f" {unmatched:,} match no resource",
        after={"changed": len(changed), "unmatched": unmatched},
        user_id=user_id,
    )
    session.flush()
    return len(changed), unmatched


class Usage:
    """The audit subject of an action on all imported usage (it has no id of its own)."""

    id = None
