"""`costshare invoices …`: render every PDF of a billing run into a folder."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from sqlalchemy.orm import selectinload

from costshare.cli import costshare_cli, fail
from costshare.db import get_session
from costshare.invoices.models import BillingRun, Invoice
from costshare.invoices.services import pdf_filename, render_invoices
from costshare.urls import bounded_id


@costshare_cli.group("invoices")
def invoices_cli() -> None:
    """Billing runs and their invoices."""


@invoices_cli.command("render")
@click.argument("run_id", metavar="RUN", type=int)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the PDFs to (created if missing).",
)
def render_command(run_id: int, out: Path) -> None:
    """Write every PDF of billing run RUN (its id) to a folder.

    Issued invoices and credit notes are written byte for byte as stored;
    drafts are rendered as previews marked DRAFT.
    """
    session = get_session()
    run = None
    # An id beyond what the database holds is no run, not a database error.
    if bounded_id(run_id) is not None:
        run = session.get(
            BillingRun,
            run_id,
            options=[selectinload(BillingRun.invoices).selectinload(Invoice.member)],
        )
    if run is None:
        fail(f"there is no billing run {run_id}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        fail(f"cannot create {out}: {error.strerror}")
    invoices = sorted(run.invoices, key=lambda i: (i.number is None, i.number or "", i.id))
    if not invoices:
        fail(f"billing run {run_id} has no invoices")
    started = time.perf_counter()
    drafts = [i for i in invoices if i.status == "draft"]
    on_terminal = sys.stdout.isatty()
    # A bar on a terminal; elsewhere (logs, cron) only the summary line below.
    with click.progressbar(
        length=len(invoices), label="Rendering PDFs", hidden=not on_terminal, show_pos=True
    ) as bar:
        written = 0
        try:
            for invoice in invoices:
                if invoice.status != "draft":
                    (out / pdf_filename(invoice)).write_bytes(invoice.pdf)
                    written += 1
                    bar.update(1)
            if drafts:
                done = [0]

                def advance(count: int, total: int) -> None:
                    bar.update(count - done[0])
                    done[0] = count

                for invoice, pdf in zip(drafts, render_invoices(drafts, advance), strict=True):
                    (out / pdf_filename(invoice)).write_bytes(pdf)
                    written += 1
        except OSError as error:
            fail(f"cannot write to {out}: {error.strerror}")
    seconds = time.perf_counter() - started
    click.echo(
        f"Wrote {written} PDFs of billing run {run_id} ({run.name}) to {out}: "
        f"{written - len(drafts)} stored, {len(drafts)} draft previews, in {seconds:.1f} s."
    )
