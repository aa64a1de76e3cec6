"""Importing members and facts from XLSX and CSV: preview, whole-file refusal, re-import, export."""

from __future__ import annotations

import io
import re
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import func, select

from costshare.audit.models import AuditEvent
from costshare.members.models import Member, MemberFact
from tests.factories import xlsx_bytes

HEADER = ["code", "name", "sector", "billing_currency", "fte:2025", "fte:2026", "budget:2026"]
GOOD_ROWS = [
    ["SCAU", "华南农业大学图书馆", "university", "CNY", 30100, 30500, "1250000.50"],
    ["GDPU", "Guangdong Pharmaceutical University Library", "health", "EUR", 9800, 10050, None],
    ["OWN", None, None, None, None, 12750, 410000],  # an existing member: two facts change
]


def xlsx(rows: list[list], header: list[str] = HEADER) -> bytes:
    return xlsx_bytes([header, *rows])


def upload(client, content: bytes, name: str = "members.xlsx"):
    return client.post_form(
        "/members/import", {"file": (io.BytesIO(content), name)}, content_type="multipart/form-data"
    )


def confirm(client, preview_html: str):
    token = re.search(r'name="token" value="([^"]+)"', preview_html).group(1)
    return client.post_form("/members/import/confirm", {"token": token})


def counts(session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(Member)),
        session.scalar(select(func.count()).select_from(MemberFact)),
        session.scalar(select(func.count()).select_from(AuditEvent)),
    )


def test_a_file_with_three_bad_rows_is_refused_whole_naming_rows_and_columns(
    as_coordinator, world, session
) -> None:
    rows = [
        *GOOD_ROWS,
        ["BAD ONE", "Spaces in the code", None, "EUR", 1, 2, 3],  # row 5: code
        ["NEWB", "New B", None, "EURO", 100, "many", 5],  # row 6: currency and fte:2026
        ["NEWC", "New C", None, "EUR", -5, 10, 20],  # row 7: a negative fact
    ]
    before = counts(session)
    response = upload(as_coordinator, xlsx(rows))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Nothing was imported" in body
    assert "on rows 5, 6, 7" in body
    problems = re.findall(
        r"<tr><td class=\"num\">(\d+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>", body
    )
    assert [(row, column) for row, column, _ in problems] == [
        ("5", "code"),
        ("6", "billing_currency"),
        ("6", "fte:2026"),
        ("7", "fte:2025"),
    ]
    assert problems[3][2] == "Cannot be negative."
    assert counts(session) == before
    assert "confirm-import" not in body


def test_a_good_file_imports_and_importing_it_again_changes_nothing(
    as_coordinator, world, session
) -> None:
    content = xlsx(GOOD_ROWS)
    members, facts, _ = counts(session)

    preview = upload(as_coordinator, content)
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    # 2 new members, OWN updated; facts: SCAU 3 + GDPU 2 (budget empty)
    # + OWN 2 (fte 2026 and budget 2026 change) = 7.
    assert re.search(r'id="count-create">2<', html)
    assert re.search(r'id="count-update">1<', html)
    assert re.search(r'id="count-facts">7<', html)
    assert counts(session)[:2] == (members, facts)  # the preview writes nothing

    done = confirm(as_coordinator, html)
    assert done.status_code == 302
    flashed = as_coordinator.get(done.headers["Location"]).get_data(as_text=True)
    assert "Imported: 2 members added, 1 updated, 0 unchanged; 7 facts added or changed." in flashed
    assert counts(session)[:2] == (members + 2, facts + 5)  # OWN's two facts existed already
    scau = session.scalar(select(Member).where(Member.code == "SCAU"))
    assert scau.name == "华南农业大学图书馆" and scau.billing_currency == "CNY" and scau.active
    values = {
        (f.name, f.year): f.value
        for f in session.scalars(select(MemberFact).where(MemberFact.member_id == scau.id))
    }
    assert values == {
        ("fte", 2025): Decimal("30100"),
        ("fte", 2026): Decimal("30500"),
        ("budget", 2026): Decimal("1250000.50"),
    }
    session.refresh(world.own)
    own = {(f.name, f.year): f.value for f in world.own.facts}
    assert own[("fte", 2026)] == Decimal("12750") and own[("budget", 2026)] == Decimal("410000")
    assert world.own.name == "Own University Library"  # an empty cell leaves the value as it is

    after_first = counts(session)
    again = upload(as_coordinator, content)
    html = again.get_data(as_text=True)
    assert re.search(r'id="count-create">0<', html)
    assert re.search(r'id="count-update">0<', html)
    assert re.search(r'id="count-unchanged">3<', html)
    assert 'id="nothing-to-import"' in html and "confirm-import" not in html
    assert counts(session) == after_first


def test_the_export_reads_back_as_no_change(as_coordinator, world, session) -> None:
    exported = as_coordinator.get("/members/export.xlsx")
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.data), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("code", "name")
    assert "fte:2025" in rows[0] and "budget:2026" in rows[0]
    html = upload(as_coordinator, exported.data).get_data(as_text=True)
    assert re.search(r'id="count-unchanged">2<', html) and 'id="nothing-to-import"' in html

    csv_export = as_coordinator.get("/members/export.csv")
    assert csv_export.data.startswith("\ufeffcode,name".encode())
    html = upload(as_coordinator, csv_export.data, "members.csv").get_data(as_text=True)
    assert 'id="nothing-to-import"' in html


def test_a_facts_file_in_long_layout_updates_existing_members(
    as_coordinator, world, session
) -> None:
    content = b"code;year;fact;value\nOWN;2027;fte;13100\nother;2027;fte;900.25\n"
    html = upload(as_coordinator, content, "facts.csv").get_data(as_text=True)
    assert re.search(r'id="count-facts">2<', html)
    assert confirm(as_coordinator, html).status_code == 302
    fact = session.scalar(
        select(MemberFact).where(MemberFact.member_id == world.other.id, MemberFact.year == 2027)
    )
    assert fact.value == Decimal("900.25")


def test_files_that_cannot_be_read_get_a_sentence(as_coordinator, world) -> None:
    cases = [
        (b"", "members.csv", "The file is empty."),
        (b"PK\x03\x04 broken", "members.xlsx", "cannot be read as an XLSX workbook"),
        ("code,name\nX,Caf\xe9\n".encode("latin-1"), "members.csv", "not UTF-8"),
        (b"code,nmae\nX,Y\n", "members.csv", "Unknown column"),
        (b"name\nY\n", "members.csv", "needs a code column"),
        (b"code,name\n", "members.csv", "no rows"),
        (b"code,name\nX,Y,1200\n", "members.csv", "lies right of the named columns"),
        (b"x", "members.xls", "Old .xls files"),
    ]
    for content, name, sentence in cases:
        response = upload(as_coordinator, content, name)
        assert response.status_code == 422, name
        assert sentence in response.get_data(as_text=True), (name, sentence)


def test_a_confirmation_needs_the_uploaders_own_pending_file(as_coordinator, world) -> None:
    response = as_coordinator.post_form("/members/import/confirm", {"token": "A" * 32})
    assert response.status_code == 302
    follow = as_coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert "no longer here" in follow
    response = as_coordinator.post_form("/members/import/confirm", {"token": "../../etc/passwd"})
    assert response.status_code == 302


def test_a_cell_beyond_the_named_columns_is_refused_naming_its_row_and_column(
    as_coordinator, world
) -> None:
    """A value whose column has no name could be anything: it is not dropped without a word."""
    content = b"code,name\nNEWA,New A\nNEWB,New B,,3400\n"
    response = upload(as_coordinator, content, "members.csv")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "lies right of the named columns" in html
    assert '<td class="num">3</td><td>#4</td>' in html  # row 3, the fourth column
    # Blank cells past the header are no value: the file imports.
    response = upload(as_coordinator, b"code,name\nNEWA,New A,,\n", "members.csv")
    assert response.status_code == 200
