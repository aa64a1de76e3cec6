"""The usage pages: upload, history, figures per member and resource, SUSHI — and who sees what."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from costshare.usage.importing import import_usage
from costshare.usage.models import SushiCredential, UsageImport, UsageRecord
from tests.counter.corpus import corpus_file
from tests.factories import (
    QueryCounter,
    create_final_allocation,
    create_member,
    create_resource,
)
from tests.usage.support import Line, Report, journal_report
from tests.usage.sushi_server import SushiServer


def page_of(response) -> str:
    return response.get_data(as_text=True)


def load(session, member, counts, **kwargs):
    report = journal_report(counts, institution_id=f"x:{member.code}", **kwargs)
    return import_usage(session, report.tsv(), member=member, filename=f"{member.code}.tsv")


@pytest.fixture
def usage(session, world):
    """Usage of both members on the world's resource (platform of `create_resource`)."""
    platform = world.own_offer.resource.counter_platform
    load(session, world.own, {"2026-01": 120, "2026-02": 80}, platform=platform)
    load(session, world.other, {"2026-01": 300}, platform=platform)
    return world


# --- upload and history ---------------------------------------------------------------------


def upload(client, files, **fields):
    data = {"files": [(io.BytesIO(body), name) for name, body in files], **fields}
    return client.post_form("/usage/import", data, content_type="multipart/form-data")


def test_several_files_at_once_each_get_a_result_line(as_coordinator, session, world) -> None:
    good = journal_report({"2026-01": 5}).tsv()
    lines = [Line(f"J{n}", "Total_Item_Requests", {"2026-01": 1}) for n in range(3)]
    broken = Report("TR", "2026-01", "2026-01", lines).tsv(bad_row=2)
    response = upload(
        as_coordinator,
        [("good.tsv", good), ("broken.tsv", broken), ("again.tsv", good)],
        member_id=str(world.own.id),
    )
    assert response.status_code == 200
    page = page_of(response)
    results = re.findall(r'<li class="result-(\w+)">', page)
    assert results == ["imported", "refused", "duplicate"]
    assert "good.tsv: imported for OWN as batch" in page
    assert "broken.tsv, row 16, column &#34;Jan-2026&#34;: expected a whole number" in page
    assert "again.tsv: already imported for OWN" in page
    assert session.scalar(select(func.count(UsageImport.id))) == 1  # the broken file left nothing


def test_an_upload_without_files_says_so_beside_the_field(as_coordinator) -> None:
    response = as_coordinator.post_form("/usage/import", {"member_id": ""})
    assert response.status_code == 422
    assert "Choose one or more COUNTER files." in page_of(response)


def test_the_member_is_taken_from_the_file_when_none_is_chosen(
    as_coordinator, session, world
) -> None:
    world.own.counter_ids = "isni:0000000112345678"
    session.flush()
    response = upload(as_coordinator, [("mine.tsv", journal_report({"2026-01": 5}).tsv())])
    assert "mine.tsv: imported for OWN" in page_of(response)


def test_history_shows_every_batch_and_a_batch_can_be_removed(
    as_coordinator, session, usage
) -> None:
    page = page_of(as_coordinator.get("/usage/imports"))
    assert "2 files imported" in page and "OWN.tsv" in page and "OTHER.tsv" in page
    batch_id = session.scalar(select(UsageImport.id).where(UsageImport.filename == "OWN.tsv"))
    detail = page_of(as_coordinator.get(f"/usage/imports/{batch_id}"))
    assert "Total item requests" in detail and "200" in detail  # 120 + 80
    response = as_coordinator.post_form(f"/usage/imports/{batch_id}/remove")
    assert response.status_code == 302
    session.expunge_all()
    assert session.get(UsageImport, batch_id) is None
    assert session.scalar(select(func.count(UsageRecord.id))) == 1  # OTHER's one record
    assert "Batch" in page_of(as_coordinator.get("/usage/imports", follow_redirects=True))


def test_negotiators_read_but_cannot_import_or_remove(as_negotiator, usage) -> None:
    assert as_negotiator.get("/usage/imports").status_code == 200
    assert as_negotiator.get("/usage/import").status_code == 403


def test_unmatched_usage_is_listed_and_matched_again(as_coordinator, session, world) -> None:
    load(session, world.own, {"2026-01": 5}, platform="Nowhere Online")
    page = page_of(as_coordinator.get("/usage/unmatched"))
    assert "Nowhere Online" in page
    create_resource(session, counter_platform="Nowhere Online")
    response = as_coordinator.post_form("/usage/rematch", follow_redirects=True)
    assert "1 items changed resource; 0 match none" in page_of(response)
    assert "All imported usage matches a resource." in page_of(response)


# --- figures ---------------------------------------------------------------------------------


def test_a_resource_page_shows_each_member_month_and_source(as_coordinator, usage) -> None:
    resource = usage.own_offer.resource
    page = page_of(as_coordinator.get(f"/usage/resources/{resource.id}?begin=2026-01&end=2026-02"))
    table = page[page.index('id="usage-by-member"') :]
    assert table.index("OTHER") < table.index("OWN")  # 300 uses before 200
    assert '<td class="num strong">200</td>' in table  # 120 + 80
    assert '<td class="num">420</td>' in table  # January: 120 + 300
    assert 'title="TR"' in table
    assert "<svg" in page


def test_a_member_page_shows_the_consortium_but_names_no_other_member(
    as_member, session, usage
) -> None:
    create_final_allocation(
        session,
        usage.own_offer,
        {usage.own: {"amount": "6300.00"}, usage.other: {"amount": "1234.57"}},
    )
    load(session, usage.own, {"2027-01": 2000, "2027-02": 2200}, platform="Platform X")
    response = as_member.get(f"/usage/members/{usage.own.id}?begin=2026-01&end=2026-02")
    assert response.status_code == 200
    page = page_of(response)
    assert "OTHER" not in page and usage.other.name not in page
    # Two members use it: the average (250) would tell each the other's figure.
    table = page[page.index('id="usage-by-resource"') :]
    assert "250" not in table and "2 members (too few to show)" in table
    assert "Cost per use" in page
    third = create_member(session, code="THIRD")
    load(session, third, {"2026-01": 490}, platform=usage.own_offer.resource.counter_platform)
    response = as_member.get(f"/usage/members/{usage.own.id}?begin=2026-01&end=2026-02")
    page = page_of(response)
    assert "THIRD" not in page and third.name not in page
    # February was used by OWN alone: January to February would give away January's total.
    table = page[page.index('id="usage-by-resource"') :]
    assert "3 members (too few in some months to show)" in table
    response = as_member.get(f"/usage/members/{usage.own.id}?begin=2026-01&end=2026-01")
    page = page_of(response)
    # Consortium in January: (120 + 300 + 490) uses / 3 members = 303.3 per member.
    table = page[page.index('id="usage-by-resource"') :]
    assert "303.3" in table and "3 members" in table and "too few" not in table


def test_a_member_user_gets_404_for_anything_else(as_member, usage) -> None:
    assert as_member.get(f"/usage/members/{usage.other.id}").status_code == 404
    assert as_member.get("/usage/").status_code == 404
    resource = usage.own_offer.resource
    assert as_member.get(f"/usage/resources/{resource.id}").status_code == 404


def test_the_tables_export_to_xlsx(as_member, usage) -> None:
    response = as_member.get(f"/usage/members/{usage.own.id}?format=xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")


@pytest.mark.parametrize(
    "query",
    ["?begin=2026-13", "?begin=2026-05&end=2026-01", "?metric=Bogus", "?end=garbage&cpu=window"],
)
def test_odd_filters_are_answered_never_with_a_500(as_coordinator, usage, query) -> None:
    for url in (
        f"/usage/members/{usage.own.id}",
        f"/usage/resources/{usage.own_offer.resource_id}",
        "/usage/",
    ):
        assert as_coordinator.get(url + query).status_code == 200


def test_pages_without_usage_say_so(as_coordinator, world) -> None:
    assert "No usage has been imported for OWN yet." in page_of(
        as_coordinator.get(f"/usage/members/{world.own.id}")
    )
    assert "No usage has been imported yet." in page_of(as_coordinator.get("/usage/"))


# --- no N+1: a page asks as many queries for many rows as for few ---------------------------------


def _queries(app, client, url: str) -> int:
    with QueryCounter(app) as counter:
        assert client.get(url).status_code == 200
    return counter.count


def test_usage_pages_ask_a_fixed_number_of_queries(app, as_coordinator, session, world) -> None:
    resource = world.own_offer.resource

    def grow(members: int, resources: int) -> None:
        for n in range(members):
            member = create_member(session)
            load(session, member, {"2026-01": n + 1}, platform=resource.counter_platform)
        for n in range(resources):
            extra = create_resource(session)
            load(session, world.own, {"2026-01": n + 1}, platform=extra.counter_platform)

    grow(2, 2)
    urls = [
        "/usage/",
        f"/usage/resources/{resource.id}",
        f"/usage/members/{world.own.id}",
        "/usage/imports",
        "/usage/unmatched",
    ]
    few = [_queries(app, as_coordinator, url) for url in urls]
    grow(6, 6)
    many = [_queries(app, as_coordinator, url) for url in urls]
    assert many == few


# --- SUSHI ------------------------------------------------------------------------------------


def test_credentials_are_stored_and_shown_masked(as_coordinator, session, world) -> None:
    vendor = world.own_offer.resource.vendor
    fields = {
        "member_id": str(world.own.id),
        "vendor_id": str(vendor.id),
        "base_url": "https://sushi.example.org/r5/",
        "customer_id": "cust-1",
        "requestor_id": "req-1",
        "api_key": "abcdef-secret-9876",
    }
    response = as_coordinator.post_form("/usage/sushi/new", fields, follow_redirects=True)
    page = page_of(response)
    assert "SUSHI credentials of OWN for" in page
    assert "abcdef-secret-9876" not in page and "••••••••9876" in page
    credential = session.scalar(select(SushiCredential))
    assert credential.base_url == "https://sushi.example.org/r5"
    # Saving without a key keeps the stored one; the form never sends it back.
    edit = page_of(as_coordinator.get(f"/usage/sushi/{credential.id}/edit"))
    assert "abcdef-secret" not in edit
    as_coordinator.post_form(
        f"/usage/sushi/{credential.id}/edit", {**fields, "api_key": "", "customer_id": "cust-2"}
    )
    session.refresh(credential)
    assert (credential.customer_id, credential.api_key) == ("cust-2", "abcdef-secret-9876")
    again = as_coordinator.post_form("/usage/sushi/new", fields)
    assert again.status_code == 422
    assert "OWN already has SUSHI credentials for" in page_of(again)


def test_a_harvest_from_the_page(app, as_coordinator, session, world, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "SUSHI_RETRY_DELAYS", (0,))
    server = SushiServer()
    try:
        credential = SushiCredential(
            member=world.own,
            vendor=world.own_offer.resource.vendor,
            base_url=server.base_url,
            customer_id="customerId",
        )
        session.add(credential)
        session.flush()
        url = f"/usage/sushi/{credential.id}/harvest"
        assert "Harvest from" in page_of(as_coordinator.get(url))
        server.answer(corpus_file("folio-mod-erm-usage-counter/tr_j1.json"))
        fields = {"report": "TR_J1", "begin": "2021-01", "end": "2021-01"}
        done = as_coordinator.post_form(url, fields, follow_redirects=True)
        assert "imported for OWN" in page_of(done)
        server.answer(corpus_file("folio-mod-erm-usage-harvester/SampleReportExceptionError.json"))
        failed = as_coordinator.post_form(url, fields)
        assert failed.status_code == 422
        assert "SUSHI 1030: the server lacks information to answer" in page_of(failed)
        wrong = as_coordinator.post_form(url, {**fields, "end": "January"})
        assert wrong.status_code == 422 and "Write a month as YYYY-MM" in page_of(wrong)
    finally:
        server.close()


def test_usage_outside_the_deals_is_named_for_each_reader(
    app, as_member, world, session, usage
) -> None:
    """Staff see a data-quality flag to act on; the member sees what it means for it."""
    load(session, usage.own, {"2026-01": 75}, platform="Platform X")
    url = f"/usage/members/{usage.own.id}?begin=2026-01&end=2026-01"
    member_page = page_of(as_member.get(url))
    assert "not in a consortium deal" in member_page
    assert "not matched to a resource" not in member_page
    staff = app.test_client()  # a second browser, the coordinator's
    staff.login(world.coordinator.email)
    staff_page = page_of(staff.get(url))
    assert "not matched to a resource" in staff_page
    assert "not in a consortium deal" not in staff_page
