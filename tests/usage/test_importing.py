"""The import service: whole files or nothing, never doubled, matched to resources, kept."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from costshare.audit.models import AuditEvent
from costshare.usage.importing import (
    DuplicateImport,
    UsageImportError,
    import_usage,
    rematch,
    remove_batch,
)
from costshare.usage.models import UsageImport, UsageItem, UsageRecord
from tests.counter.corpus import corpus_file, data_files
from tests.factories import create_member, create_resource
from tests.usage.support import Line, Report, journal_report

#: The corpus files that hold no report at all, only SUSHI exceptions: refused, named.
NO_REPORT = {
    "celus/counter5/5_DR_ProQuestEbookCentral_exception.json",
    "celus/counter5/naked_errors.json",
}


def stored(session) -> tuple[int, int, int]:
    """Return how many batches, items and records the database holds."""
    return (
        session.scalar(select(func.count(UsageImport.id))),
        session.scalar(select(func.count(UsageItem.id))),
        session.scalar(select(func.count(UsageRecord.id))),
    )


def total(session, member, metric="Total_Item_Requests", month=None) -> int:
    query = select(func.coalesce(func.sum(UsageRecord.count), 0)).where(
        UsageRecord.member_id == member.id, UsageRecord.metric == metric
    )
    if month is not None:
        query = query.where(UsageRecord.month == month)
    return session.scalar(query)


def orphans(session) -> int:
    """Records whose item or batch is gone (the table has no foreign keys to say so)."""
    return session.scalar(
        select(func.count(UsageRecord.id)).where(
            UsageRecord.item_id.not_in(select(UsageItem.id))
            | UsageRecord.import_id.not_in(select(UsageImport.id))
        )
    )


@pytest.fixture
def member(session):
    return create_member(session, code="LIB", counter_ids="isni:0000000112345678")


# --- the corpus ---------------------------------------------------------------------------


@pytest.mark.parametrize("relative", data_files())
def test_every_corpus_file_imports_or_names_why_not(session, member, relative) -> None:
    path = corpus_file(relative)
    if relative in NO_REPORT:
        with pytest.raises(UsageImportError, match="no report in this file, only SUSHI"):
            import_usage(session, path, member=member)
        assert stored(session) == (0, 0, 0)
        return
    result = import_usage(session, path, member=member)
    batch = result.batch
    # What was stored is what the reader counted, record for record.
    assert batch.record_count == batch.summary["records"]
    assert stored(session)[2] == batch.record_count
    assert batch.summary["totals"] == {
        metric: total(session, member, metric) for metric in batch.summary["totals"]
    }


@pytest.mark.parametrize(
    ("relative", "metric", "expected"),
    [
        # EXPECTED.md: computed independently of any reader.
        ("cop5/r50/Sample-TR_J1.tsv", "Total_Item_Requests", 40),
        ("cop5/r50/Sample-TR_J1.tsv", "Unique_Item_Requests", 37),
        ("pycounter/counter4/issue_14.tsv", "Total_Item_Requests", 987),
        ("celus/counter4/counter4_br2.tsv", "Total_Item_Requests", 43),
        ("folio-mod-erm-usage-counter/tr_j1.json", "Total_Item_Requests", 587),
        ("folio-mod-erm-usage-counter/tr_j1.json", "Unique_Item_Requests", 430),
    ],
)
def test_stored_totals_are_expected_md_s(session, member, relative, metric, expected) -> None:
    import_usage(session, corpus_file(relative), member=member)
    assert total(session, member, metric) == expected


def test_sample_tr_j1_months_are_stored_as_expected_md_says(session, member) -> None:
    import_usage(session, corpus_file("cop5/r50/Sample-TR_J1.tsv"), member=member)
    by_month = dict(
        session.execute(
            select(UsageRecord.month, func.sum(UsageRecord.count))
            .where(UsageRecord.metric == "Total_Item_Requests")
            .group_by(UsageRecord.month)
        ).all()
    )
    assert by_month == {dt.date(2016, 1, 1): 9, dt.date(2016, 2, 1): 15, dt.date(2016, 3, 1): 16}


# --- never doubled -------------------------------------------------------------------------


def test_the_same_file_twice_changes_nothing(session, member) -> None:
    data = journal_report({"2026-01": 10, "2026-02": 20}).tsv()
    first = import_usage(session, data, filename="a.tsv", member=member)
    before = stored(session)
    events = session.scalar(select(func.count(AuditEvent.id)))
    with pytest.raises(DuplicateImport) as duplicate:
        import_usage(session, data, filename="again.tsv", member=member)
    assert duplicate.value.batch.id == first.batch.id
    assert f"as batch {first.batch.id}; nothing changed" in duplicate.value.message
    assert stored(session) == before
    assert session.scalar(select(func.count(AuditEvent.id))) == events
    assert total(session, member) == 30  # 10 + 20, once


def test_the_same_months_again_replace_the_earlier_figures(session, member) -> None:
    first = import_usage(
        session, journal_report({"2026-01": 10, "2026-02": 20, "2026-03": 30}).tsv(), member=member
    )
    second = import_usage(
        session, journal_report({"2026-01": 1, "2026-02": 2, "2026-03": 3}).tsv(), member=member
    )
    # 1 + 2 + 3, not 10 + 20 + 30 + 1 + 2 + 3.
    assert total(session, member) == 6
    assert second.replaced == {first.batch.id: 3}
    session.refresh(first.batch)
    assert first.batch.record_count == 0
    assert "replaced 3 records of batch" in second.sentence()


def test_a_later_file_replaces_only_the_months_it_covers(session, member) -> None:
    months = {"2026-01": 1, "2026-02": 2, "2026-03": 4, "2026-04": 8}
    import_usage(session, journal_report(months).tsv(), member=member)
    import_usage(session, journal_report({"2026-03": 100, "2026-04": 200}).tsv(), member=member)
    # January and February stay (1 + 2); March and April are the new file's (100 + 200).
    assert total(session, member) == 303


def test_a_month_without_use_in_the_new_file_still_replaces(session, member) -> None:
    # The new file covers Jan–Feb and counts nothing in February: the old 20 goes.
    import_usage(session, journal_report({"2026-01": 10, "2026-02": 20}).tsv(), member=member)
    import_usage(
        session,
        journal_report({"2026-01": 11}, begin="2026-01", end="2026-02").tsv(),
        member=member,
    )
    assert total(session, member) == 11


def test_other_reports_and_platforms_are_not_replaced(session, member) -> None:
    import_usage(session, journal_report({"2026-01": 10}).tsv(), member=member)
    import_usage(session, journal_report({"2026-01": 5}, "TR_J1").tsv(), member=member)
    import_usage(
        session, journal_report({"2026-01": 7}, platform="Other Host").tsv(), member=member
    )
    assert total(session, member) == 22  # 10 + 5 + 7: three different report/platform keys


def test_the_same_karger_data_anonymised_twice_is_not_doubled(session, member) -> None:
    # SOURCES.md: the January of standardviews/tr_j1.json is tr_j1.json again (TIR 587).
    views = import_usage(
        session, corpus_file("folio-mod-erm-usage/standardviews/tr_j1.json"), member=member
    )
    assert total(session, member) == 1776
    again = import_usage(
        session, corpus_file("folio-mod-erm-usage-counter/tr_j1.json"), member=member
    )
    assert total(session, member, month=dt.date(2021, 1, 1)) == 587
    assert total(session, member) == 1776
    assert set(again.replaced) == {views.batch.id}


def test_another_member_may_import_the_same_file(session, member) -> None:
    other = create_member(session)
    data = journal_report({"2026-01": 10}, institution_id="ISNI:777").tsv()
    import_usage(session, data, member=member)
    import_usage(session, data, member=other)
    assert total(session, member) == 10 and total(session, other) == 10


# --- nothing half-stored --------------------------------------------------------------------


def test_a_broken_row_in_the_middle_of_a_file_leaves_no_record(session, member) -> None:
    lines = [
        Line(f"Journal {n}", "Total_Item_Requests", {"2026-01": n, "2026-02": n}, issn="")
        for n in range(1, 41)
    ]
    data = Report("TR", "2026-01", "2026-02", lines).tsv(bad_row=35)
    import_usage(session, journal_report({"2026-01": 3}).tsv(), member=member)
    before = stored(session)
    with pytest.raises(UsageImportError) as refused:
        # Batches of 10 records: three batches are written before row 35 breaks.
        import_usage(session, data, filename="broken.tsv", member=member, batch_size=10)
    # The header takes 14 lines: data row 35 is line 49.
    assert refused.value.details == {"file": "broken.tsv", "row": 49, "column": "Jan-2026"}
    assert str(refused.value) == (
        'broken.tsv, row 49, column "Jan-2026": expected a whole number, found "12x"'
    )
    assert stored(session) == before
    assert total(session, member) == 3
    session.flush()  # the session is still usable


def test_a_file_that_is_no_counter_report_is_refused(session, member) -> None:
    with pytest.raises(UsageImportError) as refused:
        import_usage(session, b"name,amount\nx,1\n", filename="x.csv", member=member)
    assert str(refused.value).startswith("x.csv, row 1: not a COUNTER report")
    assert stored(session) == (0, 0, 0)


def test_an_answer_with_only_exceptions_and_no_report_is_refused(session, member) -> None:
    with pytest.raises(UsageImportError) as refused:
        import_usage(session, corpus_file("celus/counter5/naked_errors.json"), member=member)
    assert "1011 Warning Report Queued for Processing" in str(refused.value)


def test_an_exception_only_report_is_kept_and_replaces_nothing(session) -> None:
    # 3031 "Usage Not Ready": a TR for 2022 with no items — it must not wipe 2022 figures.
    sample = create_member(session, counter_ids="isni:1234123412341234")
    import_usage(
        session,
        journal_report({"2022-05": 9}, institution_id="ISNI:1234123412341234").tsv(),
        member=sample,
    )
    result = import_usage(
        session, corpus_file("folio-mod-erm-usage-counter/TR_r51_with_exception.json")
    )
    assert result.batch.member_id == sample.id  # by the response's ISNI
    assert result.batch.record_count == 0 and result.replaced == {}
    assert result.batch.summary["exceptions"][0]["code"] == 3031
    assert "SUSHI 3031 Usage Not Ready for Requested Dates" in result.sentence()
    assert total(session, sample) == 9


# --- whose usage --------------------------------------------------------------------------


def test_the_member_is_taken_from_the_files_institution_id(session, member) -> None:
    report = journal_report({"2026-01": 4}, institution_id="ISNI:0000 0001 1234 5678")
    result = import_usage(session, report.tsv(), filename="mine.tsv")
    assert result.batch.member_id == member.id


def test_an_unknown_institution_asks_for_the_member(session, member) -> None:
    report = journal_report({"2026-01": 4}, institution="Elsewhere", institution_id="ISNI:999")
    with pytest.raises(UsageImportError) as refused:
        import_usage(session, report.tsv(), filename="x.tsv")
    assert refused.value.field == "member"
    assert str(refused.value) == (
        "x.tsv: choose the member — the file names “Elsewhere” (ISNI:999),"
        " which no member's COUNTER ids list."
    )


def test_a_file_of_another_members_institution_is_refused(session, member) -> None:
    other = create_member(session, code="OTH")
    with pytest.raises(UsageImportError) as refused:
        import_usage(session, journal_report({"2026-01": 4}).tsv(), filename="x.tsv", member=other)
    assert "which is LIB by the members' COUNTER ids, not OTH" in str(refused.value)
    assert stored(session) == (0, 0, 0)


# --- matching -------------------------------------------------------------------------------


def test_items_are_matched_by_title_id_database_and_platform(session, member) -> None:
    by_issn = create_resource(
        session, counter_platform="Meridian Online", counter_title_ids=["1234-5678"]
    )
    by_platform = create_resource(session, counter_platform="Lotus Books")
    by_database = create_resource(
        session, counter_platform="Atlas", counter_database="Atlas Citation Index"
    )
    lines = [
        Line("Journal A", "Total_Item_Requests", {"2026-01": 1}, issn="12345678"),
        Line("Journal B", "Total_Item_Requests", {"2026-01": 2}, issn="9999-9999"),
        Line("Book C", "Total_Item_Requests", {"2026-01": 4}, platform="lotus books"),
    ]
    result = import_usage(session, Report("TR", "2026-01", "2026-01", lines).tsv(), member=member)
    dr = Report(
        "DR",
        "2026-01",
        "2026-01",
        [Line("Atlas Citation Index", "Searches_Regular", {"2026-01": 8}, platform="Atlas")],
    )
    import_usage(session, dr.tsv(), member=member)
    matched = dict(session.execute(select(UsageItem.name, UsageItem.resource_id)).all())
    assert matched == {
        "Journal A": by_issn.id,  # ISSN written without its hyphen in the file
        "Journal B": None,  # on Meridian Online, but no resource lists its ISSN: kept
        "Book C": by_platform.id,  # the platform's only resource, its name in other case
        "Atlas Citation Index": by_database.id,
    }
    assert result.unmatched_items == 1
    assert total(session, member) == 7  # unmatched usage is stored too: 1 + 2 + 4


def test_two_resources_on_one_platform_match_nothing_by_platform(session, member) -> None:
    create_resource(session, counter_platform="Shared Host")
    create_resource(session, counter_platform="Shared Host")
    report = journal_report({"2026-01": 1}, platform="Shared Host")
    result = import_usage(session, report.tsv(), member=member)
    assert result.unmatched_items == 1


def test_a_given_platform_names_the_usage(session, member) -> None:
    resource = create_resource(session, counter_platform="Lotus Books")
    report = journal_report({"2026-01": 1}, platform="LotusEbooks v2")
    result = import_usage(session, report.tsv(), member=member, platform="Lotus Books")
    assert result.batch.platform == "Lotus Books"
    assert session.scalar(select(UsageItem.resource_id)) == resource.id


def test_matching_again_follows_changed_identifiers(session, member) -> None:
    import_usage(session, journal_report({"2026-01": 1}, issn="2049-3630").tsv(), member=member)
    resource = create_resource(session, counter_platform="", counter_title_ids=["2049-3630"])
    changed, left = rematch(session)
    assert (changed, left) == (1, 0)
    assert session.scalar(select(UsageItem.resource_id)) == resource.id


# --- removing -------------------------------------------------------------------------------


def test_removing_a_batch_removes_its_items_and_records_only(session, member) -> None:
    keep = import_usage(session, journal_report({"2026-01": 5}).tsv(), member=member)
    gone = import_usage(session, journal_report({"2026-01": 7}, "TR_J1").tsv(), member=member)
    assert remove_batch(session, gone.batch) == 1
    assert stored(session) == (1, 1, 1)
    assert total(session, member) == 5
    assert orphans(session) == 0
    assert session.get(UsageImport, keep.batch.id) is not None
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "usage.remove" and event.before["records"] == 1


def test_no_record_outlives_its_item_through_replacing_and_removing(session, member) -> None:
    first = import_usage(session, journal_report({"2026-01": 1, "2026-02": 2}).tsv(), member=member)
    import_usage(session, journal_report({"2026-02": 3}).tsv(), member=member)
    remove_batch(session, first.batch)
    assert orphans(session) == 0
    assert total(session, member) == 3
