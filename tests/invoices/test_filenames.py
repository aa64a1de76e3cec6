"""File names made from invoice numbers are safe: no "/" or quotes in downloads, archives, files."""

from __future__ import annotations

import dataclasses
import io
import zipfile

import pytest

from costshare.invoices import services
from costshare.invoices.models import Invoice
from costshare.members.models import Member
from tests.invoices.support import ISSUE, draft_run, settings


@pytest.fixture
def slashed(session, world, app):
    """The run issued with the prefix "INV/{year}/": OTHER gets INV/2027/0001, OWN 0002."""
    with app.test_request_context():
        billing = draft_run(session, world)
        prefixed = dataclasses.replace(settings(), invoice_prefix="INV/{year}/")
        services.issue_run(session, prefixed, billing.run, issue_date=ISSUE)
    return billing


def test_a_file_name_keeps_only_safe_characters() -> None:
    def name(number: str | None, code: str = "OWN") -> str:
        return services.pdf_filename(Invoice(id=7, number=number, member=Member(code=code)))

    assert name("CS-2027-0002") == "CS-2027-0002_OWN.pdf"  # as before
    assert name("INV/2027/0002") == "INV_2027_0002_OWN.pdf"
    assert name('../"x"/2027') == "x_2027_OWN.pdf"  # no way up, no quotes
    assert name(None) == "draft-7_OWN.pdf"


def test_the_invoice_page_downloads_under_a_safe_name(as_coordinator, world, slashed) -> None:
    invoice = slashed.invoice_of(world.own)
    assert invoice.number == "INV/2027/0002"
    response = as_coordinator.get(f"/billing/invoices/{invoice.id}.pdf?download=1")
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"INV_2027_0002_OWN.pdf\"; filename*=UTF-8''INV_2027_0002_OWN.pdf"
    )
    inline = as_coordinator.get(f"/billing/invoices/{invoice.id}.pdf")
    assert inline.headers["Content-Disposition"].startswith('inline; filename="INV_2027_0002')


def test_the_api_pdf_has_a_safe_name_and_is_not_cached(client, world, slashed) -> None:
    invoice = slashed.invoice_of(world.own)
    response = client.get(
        f"/api/v1/invoices/{invoice.id}.pdf",
        headers={"Authorization": f"Bearer {world.tokens['coordinator']}"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"INV_2027_0002_OWN.pdf\"; filename*=UTF-8''INV_2027_0002_OWN.pdf"
    )
    assert response.headers["Cache-Control"] == "private, no-store"


def test_the_run_archive_holds_no_folders(as_coordinator, slashed) -> None:
    response = as_coordinator.get(f"/billing/runs/{slashed.run.id}/pdfs.zip")
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert archive.namelist() == ["INV_2027_0001_OTHER.pdf", "INV_2027_0002_OWN.pdf"]


def test_a_header_never_carries_a_line_break_or_a_slash() -> None:
    from costshare.downloads import content_disposition

    assert content_disposition('Run "A"\r\n2027/1.zip') == (
        "attachment; filename=\"Run A__2027_1.zip\"; filename*=UTF-8''Run%20%22A%22__2027_1.zip"
    )
