"""The usage API: upload, history, removal, figures and cost per use, with the pages' rules."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from costshare.usage.importing import import_usage
from costshare.usage.models import UsageImport
from tests.factories import create_final_allocation, create_member
from tests.usage.support import Line, Report, journal_report


def bearer(world, role: str = "coordinator") -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[role]}"}


def post_file(client, world, body: bytes, name: str = "tr.tsv", role="coordinator", **fields):
    return client.post(
        "/api/v1/usage/imports",
        data={"file": (io.BytesIO(body), name), **fields},
        headers=bearer(world, role),
        content_type="multipart/form-data",
    )


@pytest.fixture
def usage(session, world):
    platform = world.own_offer.resource.counter_platform
    # A consortium figure needs three members behind it (else one could work out another's).
    third = create_member(session, code="THIRD")
    for member, counts in (
        (world.own, {"2027-01": 2000, "2027-02": 2200}),
        # Every month used by three members: else the figures are withheld from members.
        (world.other, {"2027-01": 500, "2027-02": 500}),
        (third, {"2027-01": 400, "2027-02": 400}),
    ):
        report = journal_report(counts, platform=platform, institution_id=f"x:{member.code}")
        import_usage(session, report.tsv(), member=member, filename=f"{member.code}.tsv")
    create_final_allocation(
        session,
        world.own_offer,
        {
            world.own: {"amount": "6300.00"},
            world.other: {"amount": "1234.57"},
            third: {"amount": "465.43"},
        },
    )
    return world


def test_a_file_is_uploaded_once(client, session, world) -> None:
    body = journal_report({"2026-01": 4, "2026-02": 5}).tsv()
    created = post_file(client, world, body, member="own")
    assert created.status_code == 201
    data = created.get_json()
    assert (data["member_code"], data["report_id"], data["record_count"]) == ("OWN", "TR", 2)
    assert data["totals"] == {"Total_Item_Requests": 9}  # 4 + 5
    again = post_file(client, world, body, member="OWN")
    assert again.status_code == 409
    assert again.get_json()["details"] == {"import_id": data["id"]}
    assert session.scalar(select(func.count(UsageImport.id))) == 1


def test_a_broken_file_is_a_422_naming_row_and_column(client, session, world) -> None:
    lines = [Line(f"J{n}", "Total_Item_Requests", {"2026-01": 1}) for n in range(3)]
    body = Report("TR", "2026-01", "2026-01", lines).tsv(bad_row=3)
    response = post_file(client, world, body, name="bad.tsv", member="OWN")
    assert response.status_code == 422
    error = response.get_json()
    assert error["details"] == {"file": "bad.tsv", "row": 17, "column": "Jan-2026"}
    assert error["error"].startswith('bad.tsv, row 17, column "Jan-2026"')
    assert session.scalar(select(func.count(UsageImport.id))) == 0


@pytest.mark.parametrize(
    ("fields", "status", "text"),
    [
        ({"member": "NOPE"}, 422, "There is no member with the code NOPE."),
        ({}, 422, "choose the member"),
    ],
)
def test_the_member_must_be_known(client, world, fields, status, text) -> None:
    body = journal_report({"2026-01": 4}, institution_id="ISNI:42").tsv()
    response = post_file(client, world, body, **fields)
    assert response.status_code == status and text in response.get_json()["error"]


def test_an_upload_without_a_file_is_a_400(client, world) -> None:
    response = client.post("/api/v1/usage/imports", json={}, headers=bearer(world))
    assert response.status_code == 400
    assert "multipart/form-data field 'file'" in response.get_json()["error"]


def test_negotiators_read_the_history_but_cannot_upload(client, world, usage) -> None:
    listed = client.get("/api/v1/usage/imports", headers=bearer(world, "negotiator"))
    assert listed.status_code == 200 and listed.get_json()["count"] == 3
    refused = post_file(client, world, b"x", role="negotiator")
    assert refused.status_code == 403


def test_a_batch_is_read_and_removed(client, session, usage) -> None:
    batch_id = session.scalar(select(UsageImport.id).where(UsageImport.filename == "OWN.tsv"))
    one = client.get(f"/api/v1/usage/imports/{batch_id}", headers=bearer(usage))
    assert one.get_json()["record_count"] == 2
    assert (
        client.delete(f"/api/v1/usage/imports/{batch_id}", headers=bearer(usage)).status_code == 204
    )
    assert client.get(f"/api/v1/usage/imports/{batch_id}", headers=bearer(usage)).status_code == 404


def test_a_member_reads_its_usage_beside_the_consortiums(client, usage) -> None:
    response = client.get(
        f"/api/v1/usage/members/{usage.own.id}?begin=2027-01&end=2027-02",
        headers=bearer(usage, "member"),
    )
    assert response.status_code == 200
    data = response.get_json()
    [row] = data["rows"]
    assert row["counts"] == {"2027-01": 2000, "2027-02": 2200}
    assert row["total"] == 4200 and row["reports"] == ["TR"]
    # (4200 + 1000 + 800) uses / 3 members = 2000.0 a member; no other member is named.
    assert row["consortium_average_per_member"] == "2000.0"
    assert row["consortium_members"] == 3
    assert "OTHER" not in response.get_data(as_text=True)
    assert "THIRD" not in response.get_data(as_text=True)
    other = client.get(f"/api/v1/usage/members/{usage.other.id}", headers=bearer(usage, "member"))
    assert other.status_code == 404


def test_a_resources_usage_per_member_is_for_staff(client, usage) -> None:
    url = f"/api/v1/usage/resources/{usage.own_offer.resource_id}?metric=Total_Item_Requests"
    data = client.get(url, headers=bearer(usage, "negotiator")).get_json()
    assert [(r["member_code"], r["total"]) for r in data["rows"]] == [
        ("OWN", 4200),
        ("OTHER", 1000),
        ("THIRD", 800),
    ]
    assert client.get(url, headers=bearer(usage, "member")).status_code == 404


def test_cost_per_use_for_a_member_and_for_staff(client, usage) -> None:
    mine = client.get("/api/v1/usage/cost-per-use", headers=bearer(usage, "member")).get_json()
    [row] = mine["items"]
    assert row["member_code"] == "OWN"
    assert Decimal(row["cost_per_use"]) == Decimal("1.50")  # 6300.00 / 4200
    # (6300.00 + 1234.57 + 465.43) / (4200 + 1000 + 800) = 8000.00 / 6000 = 1.333… → 1.33
    assert row["consortium_cost_per_use"] == "1.33"
    other = client.get(
        f"/api/v1/usage/cost-per-use?member_id={usage.other.id}", headers=bearer(usage, "member")
    )
    assert other.status_code == 404
    everyone = client.get("/api/v1/usage/cost-per-use", headers=bearer(usage)).get_json()
    assert sorted(r["member_code"] for r in everyone["items"]) == ["OTHER", "OWN", "THIRD"]
    bad = client.get("/api/v1/usage/cost-per-use?begin=2027-99", headers=bearer(usage))
    assert bad.status_code == 400
