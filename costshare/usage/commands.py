"""`costshare import-usage`, `costshare harvest` and `costshare counter inspect`.

Each command is one transaction: it commits once at the end, or not at all. Bad
input (no such member, an unreadable file) prints one line on stderr and exits 2;
a harvest the server refuses prints why and exits 1.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import func, select

from costshare.cli import costshare_cli, fail
from costshare.db import get_session
from costshare.errors import ServiceError
from costshare.members.models import Member
from costshare.offers.models import Vendor
from costshare.usage.figures import parse_month
from costshare.usage.importing import DuplicateImport, UsageImportError, import_usage
from costshare.usage.inspect_command import counter_cli
from costshare.usage.models import SushiCredential
from costshare.usage.sushi import RETRY_DELAYS, harvest

costshare_cli.add_command(counter_cli)


def _member(session, code: str) -> Member:
    member = session.scalar(select(Member).where(func.upper(Member.code) == code.strip().upper()))
    if member is None:
        fail(f"there is no member with the code {code}")
    return member  # type: ignore[return-value]


@costshare_cli.command("import-usage")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--member", "member_code", required=True, help="The member's code.")
@click.option(
    "--platform", help="The platform the usage counts toward, when the file names another."
)
def import_usage_command(file: Path, member_code: str, platform: str | None) -> None:
    """Import a COUNTER file (R4, R5, R5.1; CSV, TSV, XLSX, JSON) for a member.

    One transaction: a file that fails anywhere stores nothing. The same months of the
    same report and platform replace what was imported before; the same file twice
    changes nothing.
    """
    session = get_session()
    member = _member(session, member_code)
    try:
        size = file.stat().st_size
        handle = file.open("rb")
    except OSError as error:
        fail(f"{file.name}: cannot open the file ({error.strerror or error})")
    on_terminal = sys.stdout.isatty()
    started = time.perf_counter()
    # A bar on a terminal; elsewhere (logs, cron) only the summary line below.
    with (
        handle,
        click.progressbar(
            length=max(size, 1), label=f"Importing {file.name}", hidden=not on_terminal
        ) as bar,
    ):
        shown = [0]

        def progress(records: int) -> None:
            position = min(handle.tell(), size)
            if position > shown[0]:
                bar.update(position - shown[0])
                shown[0] = position

        try:
            result = import_usage(
                session,
                handle,
                filename=file.name,
                member=member,
                platform=platform,
                source_kind="cli",
                progress=progress,
            )
        except DuplicateImport as duplicate:
            session.rollback()
            click.echo(duplicate.message)
            return
        except UsageImportError as error:
            session.rollback()
            fail(error.message)
        bar.update(size - shown[0])
    session.commit()
    seconds = time.perf_counter() - started
    rate = f" in {seconds:.1f} s" + (
        f" ({result.records / seconds:,.0f} records/s)" if seconds > 0 and result.records else ""
    )
    click.echo(result.sentence()[:-1] + rate + ".")


@costshare_cli.command("harvest")
@click.option("--member", "member_code", required=True, help="The member's code.")
@click.option("--vendor", "vendor_name", required=True, help="The vendor's name.")
@click.option("--report", "report_id", required=True, help="TR, DR, PR, IR or a standard view.")
@click.option("--begin", required=True, help="First month, YYYY-MM.")
@click.option("--end", required=True, help="Last month, YYYY-MM.")
def harvest_command(
    member_code: str, vendor_name: str, report_id: str, begin: str, end: str
) -> None:
    """Harvest a COUNTER report by SUSHI for a member and import it."""
    session = get_session()
    member = _member(session, member_code)
    vendor = session.scalar(
        select(Vendor).where(func.lower(Vendor.name) == vendor_name.strip().lower())
    )
    if vendor is None:
        fail(f"there is no vendor named {vendor_name}")
    credential = session.scalar(
        select(SushiCredential).where(
            SushiCredential.member_id == member.id, SushiCredential.vendor_id == vendor.id
        )
    )
    if credential is None:
        fail(
            f"{member.code} has no SUSHI credentials for {vendor.name}:"
            " add them on the Usage › SUSHI page first"
        )
    first, last = parse_month(begin), parse_month(end)
    if first is None:
        fail(f"--begin {begin!r} is not a month written YYYY-MM")
    if last is None:
        fail(f"--end {end!r} is not a month written YYYY-MM")
    if sys.stdout.isatty():
        click.echo(f"Harvesting {report_id.upper()} {begin} to {end} from {vendor.name} …")
    try:
        result = harvest(
            session,
            credential,
            report_id.strip().upper(),
            first,
            last,
            delays=current_app.config.get("SUSHI_RETRY_DELAYS", RETRY_DELAYS),
        )
    except ServiceError as error:
        session.rollback()
        fail(error.message)
    session.commit()
    if not result.ok:
        click.echo(result.message, err=True)
        raise SystemExit(1)
    click.echo(result.message)
