"""Bad input found in review: each case once answered with a traceback (on PostgreSQL, or on
every database) instead of a sentence and a 4xx, or stored text PostgreSQL cannot hold.

PostgreSQL refuses a NUL character in any text it is sent, in a value to store and in a value
to compare alike, and a text longer than its column; SQLite takes both. So each test asserts
what holds on every database: the answer is a 4xx with a sentence, or the text is stored
without the NUL.
"""

from __future__ import annotations

import io
import json
import re
import time
import tracemalloc

import pytest
from sqlalchemy import select

from costshare.auth.models import ApiToken, User
from costshare.counter import CounterError, NotCounterError, inspect
from costshare.invoices.models import BillingRun, Invoice, Payment
from costshare.members.models import Member
from costshare.members.tabular import FileRefused, read_rows, shown_name
from costshare.offers.models import SoloPrice
from costshare.usage.models import SushiCredential, UsageImport
from tests.factories import xlsx_bytes
from tests.invoices.support import draft_run, final_allocations, issued_run
from tests.usage.support import Line, Report

# ---------------------------------------------------------------------------------------------
# A NUL character in the query string


@pytest.mark.parametrize(
    "url",
    [
        "/members/?q=%00",
        "/members/?sector=a%00",
        "/members/facts?q=%00",
        "/vendors/?q=%00",
        "/offers/?q=%00",
        "/users/?q=%00",
        "/billing/?q=%00",
        "/billing/export/invoices.csv?q=%00",
    ],
)
def test_a_nul_in_a_page_query_is_a_400_page(as_coordinator, url) -> None:
    response = as_coordinator.get(url)
    assert response.status_code == 400, url
    assert "NUL" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/api/v1/members?q=%00", "/api/v1/invoices?q=x%00y"])
def test_a_nul_in_an_api_query_is_a_json_400(client, world, url) -> None:
    headers = {"Authorization": f"Bearer {world.tokens['coordinator']}"}
    response = client.get(url, headers=headers)
    assert response.status_code == 400, url
    assert response.is_json and "NUL" in response.get_json()["error"]


def test_a_query_without_nul_still_searches(as_coordinator, world) -> None:
    response = as_coordinator.get("/members/?q=Own")
    assert response.status_code == 200
    assert world.own.name in response.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# A NUL character in the text of a form that did not clean its text


def test_a_token_name_is_stored_without_nul(as_coordinator, session, world) -> None:
    response = as_coordinator.post_form("/account/tokens", {"name": "laptop\x00 script"})
    assert response.status_code == 201
    names = session.scalars(select(ApiToken.name).where(ApiToken.user_id == world.coordinator.id))
    assert "laptop script" in list(names)


def test_a_login_email_with_nul_is_read_without_it(client, world) -> None:
    response = client.post(
        "/login",
        data={
            "email": world.coordinator.email + "\x00",
            "password": "correct horse battery",
            "csrf_token": _login_csrf(client),
        },
    )
    assert response.status_code == 302


def _login_csrf(client) -> str:
    import re

    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@pytest.fixture
def issued(session, world, app):
    with app.test_request_context():
        return issued_run(session, world)


def test_a_void_reason_is_stored_without_nul(as_coordinator, session, world, issued) -> None:
    invoice = issued.invoice_of(world.own)
    response = as_coordinator.post_form(
        f"/billing/invoices/{invoice.id}/void", {"reason": "Wrong\x00 address", "reissue": "y"}
    )
    assert response.status_code == 302
    session.refresh(invoice)
    assert invoice.void_reason == "Wrong address"


def test_a_payment_reference_is_stored_without_nul(as_coordinator, session, world, issued) -> None:
    invoice = issued.invoice_of(world.own)
    response = as_coordinator.post_form(
        f"/billing/invoices/{invoice.id}/payments",
        {"amount": "10.00", "paid_on": "2027-02-01", "reference": "T\x001"},
    )
    assert response.status_code == 302
    assert session.scalar(select(Payment.reference).where(Payment.invoice_id == invoice.id)) == (
        "T1"
    )


def test_a_draft_note_is_stored_without_nul(as_coordinator, session, world, app) -> None:
    with app.test_request_context():
        billing = draft_run(session, world)
    invoice = billing.invoice_of(world.own)
    response = as_coordinator.post_form(
        f"/billing/invoices/{invoice.id}/notes", {"notes": "Pay\x00 by March"}
    )
    assert response.status_code == 302
    session.refresh(invoice)
    assert invoice.notes == "Pay by March"


def test_a_run_name_is_stored_without_nul(as_coordinator, session, world) -> None:
    final_allocations(session, world)
    response = as_coordinator.post_form(
        "/billing/runs/new",
        {
            "year": "2027",
            "mode": "per_member",
            "name": "Spring\x00 run",
            "tax_percent": "6",
            "rate_EUR_CNY": "7.8421",
            "rate_EUR_CNY_date": "2027-01-10",
        },
    )
    assert response.status_code == 302
    assert session.scalar(select(BillingRun.name)) == "Spring run"
    assert session.scalar(select(Invoice.id).limit(1)) is not None


def test_a_sushi_api_key_with_a_control_character_is_refused_beside_its_field(
    as_coordinator, session, world
) -> None:
    from tests.factories import create_vendor

    vendor = create_vendor(session)
    response = as_coordinator.post_form(
        "/usage/sushi/new",
        {
            "member_id": str(world.own.id),
            "vendor_id": str(vendor.id),
            "base_url": "https://sushi.example.org/r5",
            "customer_id": "C1",
            "api_key": "key\x00part",
        },
    )
    assert response.status_code in (200, 400, 422)
    body = response.get_data(as_text=True)
    assert 'id="api_key-error"' in body
    assert session.scalar(select(SushiCredential.id)) is None


# ---------------------------------------------------------------------------------------------
# Imports

PROBLEM_ROW = r"<tr><td class=\"num\">(\d+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>"


def _upload(client, url: str, content: bytes, **fields):
    return client.post_form(
        url,
        {"file": (io.BytesIO(content), "figures.xlsx"), **fields},
        content_type="multipart/form-data",
    )


def test_a_huge_number_in_a_members_workbook_is_named_by_row_and_column(
    as_coordinator, world, session
) -> None:
    content = xlsx_bytes([["code", "name", "fte:2026"], ["NEWA", "New A", 1e30]])
    response = _upload(as_coordinator, "/members/import", content)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "damaged" not in body
    assert [(row, column) for row, column, _ in re.findall(PROBLEM_ROW, body)] == [
        ("2", "fte:2026")
    ]
    assert session.scalar(select(Member.id).where(Member.code == "NEWA")) is None


def test_a_huge_number_in_a_solo_price_workbook_is_named_by_row_and_column(
    as_coordinator, world, session
) -> None:
    offer = world.own_offer
    quote = offer.current_round
    content = xlsx_bytes([["code", "amount"], ["OWN", 1000], ["OTHER", 1e300]])
    response = _upload(
        as_coordinator,
        f"/offers/{offer.id}/rounds/{quote.id}/solo/import",
        content,
        version=str(quote.version),
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "damaged" not in body
    assert [(row, column) for row, column, _ in re.findall(PROBLEM_ROW, body)] == [("3", "amount")]
    assert session.scalar(select(SoloPrice.id).where(SoloPrice.round_id == quote.id)) is None


def _counter_file(month: str) -> bytes:
    lines = [Line(f"J{n}", "Total_Item_Requests", {month: 1}) for n in range(3)]
    return Report("TR", month, month, lines).tsv()


def test_a_usage_upload_by_api_reads_member_and_file_name_without_nul(
    client, world, session
) -> None:
    response = client.post(
        "/api/v1/usage/imports",
        data={"file": (io.BytesIO(_counter_file("2026-01")), "tr\x00.tsv"), "member": "OWN\x00"},
        headers={"Authorization": f"Bearer {world.tokens['coordinator']}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    batch = session.get(UsageImport, response.get_json()["id"])
    assert (batch.member_id, batch.filename) == (world.own.id, "tr.tsv")


def test_a_usage_upload_on_the_page_stores_the_file_name_without_nul(
    as_coordinator, world, session
) -> None:
    response = as_coordinator.post_form(
        "/usage/import",
        {
            "files": (io.BytesIO(_counter_file("2026-02")), "feb\x00.tsv"),
            "member_id": str(world.own.id),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert session.scalar(select(UsageImport.filename)) == "feb.tsv"


def _far_cell_workbook(rows: list[list]) -> bytes:
    """A workbook with `rows` and one stray cell at the sheet's last row and column."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    sheet["XFD1048576"] = " "
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_stray_far_cell_does_not_pad_every_row_of_a_workbook() -> None:
    data = _far_cell_workbook([["code", "name"], ["NEWA", "New A"]])
    rows = read_rows(io.BytesIO(data), "far.xlsx")
    assert next(rows) == (1, ["code", "name"])
    assert next(rows) == (2, ["NEWA", "New A"])


def test_a_members_workbook_with_a_stray_far_cell_imports_its_rows(
    as_coordinator, world, session
) -> None:
    # It read 16,384 cells in each of 1,048,576 rows: half an hour for a 5 KB file.
    data = _far_cell_workbook([["code", "name", "fte:2026"], ["NEWA", "New A", 100]])
    started = time.perf_counter()
    response = _upload(as_coordinator, "/members/import", data)
    assert time.perf_counter() - started < 30
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'id="count-create">1<' in body and 'id="count-facts">1<' in body


#: A valid header, then items nested far deeper than any COUNTER report.
DEEP_ITEMS = (
    b'{"Report_Header": {"Report_ID": "PR", "Release": "5"}, "Report_Items": [' + b'{"x": ' * 4000
)


def _peak_bytes_reading(data: bytes, name: str) -> tuple[int, CounterError | None]:
    tracemalloc.start()
    try:
        inspect(data, name)
    except CounterError as error:
        return tracemalloc.get_traced_memory()[1], error
    finally:
        tracemalloc.stop()
    return 0, None


@pytest.mark.parametrize(
    ("data", "name"), [(b"[" * 5000, "deep.json"), (DEEP_ITEMS, "deep-items.json")]
)
def test_json_nested_past_any_report_is_refused_in_little_memory(data, name) -> None:
    # The parser's memory grew with the square of the depth: 5,000 "[" took ~90 MB,
    # 20 KB of them a gigabyte, 200 KB more than the machine has.
    peak, error = _peak_bytes_reading(data, name)
    assert isinstance(error, NotCounterError)
    assert str(error) == f"{name}: not a COUNTER report: the JSON nests deeper than 64 levels"
    assert peak < 5 * 1024 * 1024


def test_brackets_inside_json_strings_do_not_count_as_nesting() -> None:
    name = '[{\\"' * 2000 + "é" + "]" * 100
    data = (
        b'{"Report_Header": {"Report_ID": "PR", "Release": "5"}, "Report_Items": [{"Platform":'
        + json.dumps(name).encode()
        + b', "Performance": [{"Period": {"Begin_Date": "2022-01-01", "End_Date": "2022-01-31"}'
        + b', "Instance": [{"Metric_Type": "Searches_Platform", "Count": 3}]}]}]}'
    )
    summary = inspect(data, "pr.json")
    assert summary.records == 1 and summary.platforms == [name]


def test_a_deeply_nested_usage_upload_is_a_422_naming_the_file(client, world, session) -> None:
    response = client.post(
        "/api/v1/usage/imports",
        data={"file": (io.BytesIO(b"[" * 5000), "deep.json"), "member": "OWN"},
        headers={"Authorization": f"Bearer {world.tokens['coordinator']}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert response.get_json()["error"].startswith("deep.json: not a COUNTER report")
    assert session.scalar(select(UsageImport.id)) is None


# ---------------------------------------------------------------------------------------------
# The command line


def test_rendering_a_run_id_beyond_any_row_is_exit_2(runner, world, tmp_path) -> None:
    result = runner.invoke(
        args=["costshare", "invoices", "render", "9" * 25, "--out", str(tmp_path)]
    )
    assert result.exit_code == 2, result.exception
    assert result.output.strip() == f"Error: there is no billing run {'9' * 25}"


def test_create_user_refuses_an_email_longer_than_its_column(runner, world, session) -> None:
    email = "x" * 300 + "@example.org"
    result = runner.invoke(
        args=["costshare", "create-user", email, "--role", "coordinator"],
        input="a-long-enough-password\na-long-enough-password\n",
    )
    assert result.exit_code == 2, result.exception
    assert len(result.output.strip().splitlines()) == 1
    assert "255" in result.output
    assert session.scalar(select(User.id).where(User.email == email)) is None


def test_create_user_refuses_a_name_longer_than_its_column(runner, world, session) -> None:
    args = ["create-user", "new@example.org", "--role", "coordinator", "--name", "n" * 300]
    result = runner.invoke(
        args=["costshare", *args],
        input="a-long-enough-password\na-long-enough-password\n",
    )
    assert result.exit_code == 2, result.exception
    assert "255" in result.output
    assert session.scalar(select(User.id).where(User.email == "new@example.org")) is None


def test_create_token_refuses_a_name_longer_than_its_column(runner, world, session) -> None:
    before = session.scalar(select(ApiToken.id).order_by(ApiToken.id.desc()).limit(1))
    result = runner.invoke(
        args=["costshare", "create-token", world.coordinator.email, "--name", "t" * 300]
    )
    assert result.exit_code == 2, result.exception
    assert len(result.output.strip().splitlines()) == 1 and "255" in result.output
    assert session.scalar(select(ApiToken.id).order_by(ApiToken.id.desc()).limit(1)) == before


def test_the_billing_list_keeps_its_export_links_whatever_the_address_holds(
    as_coordinator,
) -> None:
    """The export links carry the list's filters; a `fmt` or page in the address is no 500."""
    response = as_coordinator.get("/billing/?fmt=anything&page=2&status=issued")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'href="/billing/export/invoices.xlsx?status=issued"' in page
    assert 'href="/billing/export/invoices.csv?status=issued"' in page


def test_voiding_with_a_redraft_of_an_invoice_billing_no_shares_is_a_sentence(
    as_coordinator, session, world
) -> None:
    """An invoice whose lines bill no allocation (written by hand, not by a run) cannot be
    drafted again: the refusal stands beside the choice, and the invoice stays issued."""
    from costshare.invoices.models import Invoice
    from tests.invoices import access

    access.build(session, world)
    invoice = session.get(Invoice, world.objects["other_invoice_id"])
    url = f"/billing/invoices/{invoice.id}"
    response = as_coordinator.post_form(url + "/void", {"reason": "Wrong", "reissue": "y"})
    assert response.status_code == 200
    assert "bills no member shares that can be billed again" in response.get_data(as_text=True)
    session.refresh(invoice)
    assert invoice.status == "issued"
    response = as_coordinator.post_form(url + "/void", {"reason": "Wrong"})
    assert response.status_code == 302
    session.refresh(invoice)
    assert invoice.status == "void"


def test_a_list_longer_than_any_consortium_is_refused_with_a_sentence(monkeypatch) -> None:
    """Rows with data are counted (blank rows are not), and past the limit the file is refused."""
    from costshare.members import tabular

    monkeypatch.setattr(tabular, "MAX_ROWS", 3)
    fits = b"code,name\nA,a\n,\n\nB,b\n"  # header + 2 rows with data, 2 blank ones
    assert [n for n, _ in read_rows(io.BytesIO(fits), "m.csv")] == [1, 2, 3, 4, 5]
    rows = read_rows(io.BytesIO(b"code,name\nA,a\nB,b\nC,c\nD,d\n"), "m.csv")
    with pytest.raises(tabular.FileRefused, match="more than 3 rows with data"):
        list(rows)


def test_a_quote_left_open_in_a_csv_is_named_not_read_to_the_end() -> None:
    from costshare.members.tabular import FileRefused

    rows = read_rows(io.BytesIO(b'code,name\nA,"Library A\nB,Library B\nC,Library C\n'), "m.csv")
    with pytest.raises(FileRefused, match=r'Row 2: a cell opens a quote \("\) that is never'):
        list(rows)
    # Quoted cells that close, with commas and line breaks inside, still read.
    good = b'code,name\nA,"Library A, East"\nB,"Two\nlines"\n'
    assert list(read_rows(io.BytesIO(good), "m.csv"))[1:] == [
        (2, ["A", "Library A, East"]),
        (3, ["B", "Two\nlines"]),
    ]


def _workbook_with_raw_cell(rows: list[list], cell: str, raw: bytes) -> bytes:
    """A workbook with `rows`, then the XML value of `cell` replaced by `raw` (a hand-made file)."""
    import zipfile

    original = zipfile.ZipFile(io.BytesIO(xlsx_bytes(rows)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as changed:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, count = re.subn(
                    rb'(<c r="' + cell.encode() + rb'"[^>]*><v>)[^<]*(</v>)',
                    rb"\g<1>" + raw + rb"\g<2>",
                    data,
                )
                assert count == 1
            changed.writestr(item, data)
    return out.getvalue()


def test_an_unreadable_number_cell_is_named_by_row_and_column() -> None:
    data = _workbook_with_raw_cell(
        [["code", "name", "fte:2026"], ["NEWA", "New A", 12], ["NEWB", "New B", 13]], "C3", b"NaN"
    )
    rows = read_rows(io.BytesIO(data), "hand-made.xlsx")
    assert next(rows) == (1, ["code", "name", "fte:2026"])
    assert next(rows) == (2, ["NEWA", "New A", "12"])
    with pytest.raises(FileRefused) as refused:
        next(rows)
    assert refused.value.message == (
        "Row 3, column C (fte:2026) cannot be read: the file marks the cell as a number but it "
        "holds “NaN”. Type the value again in a spreadsheet program and save the file."
    )


def test_an_unreadable_cell_without_a_reference_is_named_by_its_place_in_the_row() -> None:
    """Cells may leave out their reference (r="C3"): the column is then counted."""
    import zipfile

    data = _workbook_with_raw_cell(
        [["code", "name", "fte:2026"], ["NEWA", "New A", 12]], "C2", b"twelve"
    )
    original = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as changed:
        for item in original.infolist():
            content = original.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(rb'<c r="[A-Z]+\d+"', b"<c", content)
            changed.writestr(item, content)
    with pytest.raises(FileRefused, match=r"^Row 2, column C \(fte:2026\) cannot be read"):
        list(read_rows(io.BytesIO(out.getvalue()), "no-references.xlsx"))


def test_an_unreadable_cell_after_missing_rows_is_named_by_its_own_row() -> None:
    data = _workbook_with_raw_cell(
        [["code", "name", "fte:2026"], [], [], ["NEWB", "New B", 13]], "C4", b"1,5"
    )
    rows = read_rows(io.BytesIO(data), "gaps.xlsx")
    assert next(rows) == (1, ["code", "name", "fte:2026"])
    with pytest.raises(FileRefused, match=r"^Row 4, column C \(fte:2026\) cannot be read"):
        list(rows)


def test_a_members_workbook_with_an_unreadable_cell_is_refused_beside_the_file(
    as_coordinator, world, session
) -> None:
    data = _workbook_with_raw_cell(
        [["code", "name", "fte:2026"], ["NEWA", "New A", 12]], "C2", b"twelve"
    )
    response = _upload(as_coordinator, "/members/import", data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "damaged" not in body
    assert (
        "figures.xlsx: Row 2, column C (fte:2026) cannot be read: the file marks the cell" in body
    )
    assert session.scalar(select(Member.id).where(Member.code == "NEWA")) is None


@pytest.mark.parametrize(
    ("uploaded", "shown"),
    [
        ("members.xlsx", "members.xlsx"),
        ("C:\\Users\\ana\\Desktop\\members.xlsx", "members.xlsx"),
        ("/home/ana/prices.csv", "prices.csv"),
        ("mem\x00bers.csv", "members.csv"),
        ("x" * 300 + ".csv", "x" * 120),
    ],
)
def test_a_refused_file_is_named_by_its_own_name(uploaded: str, shown: str) -> None:
    assert shown_name(uploaded) == shown


def test_a_refused_solo_price_file_is_named_beside_the_field(as_coordinator, world) -> None:
    offer = world.own_offer
    quote = offer.current_round
    response = as_coordinator.post_form(
        f"/offers/{offer.id}/rounds/{quote.id}/solo/import",
        {"file": (io.BytesIO(b""), "prices.csv"), "version": str(quote.version)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "prices.csv: The file is empty." in response.get_data(as_text=True)
