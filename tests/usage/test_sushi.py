"""SUSHI harvests against a real local HTTP server answering with the corpus's JSON files."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from costshare.audit.models import AuditEvent
from costshare.usage.models import SushiCredential, UsageImport, UsageRecord
from costshare.usage.sushi import harvest
from tests.counter.corpus import corpus_file
from tests.factories import create_member, create_vendor
from tests.usage.sushi_server import SushiServer

JAN_2021 = dt.date(2021, 1, 1)


@pytest.fixture
def server():
    running = SushiServer()
    yield running
    running.close()


@pytest.fixture
def credential(session, server):
    found = SushiCredential(
        member=create_member(session, code="KAR"),
        vendor=create_vendor(session, name="Karger"),
        base_url=server.base_url,
        customer_id="customerId",
        requestor_id="prlc",
        api_key="secret-key-1234",
    )
    session.add(found)
    session.flush()
    return found


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def run(session, credential, report="TR_J1", begin=JAN_2021, end=JAN_2021, sleeps=None):
    return harvest(
        session,
        credential,
        report,
        begin,
        end,
        delays=(0.5, 2.0),
        sleep=sleeps if sleeps is not None else Sleeps(),
    )


def requests_total(session) -> int:
    return session.scalar(
        select(func.coalesce(func.sum(UsageRecord.count), 0)).where(
            UsageRecord.metric == "Total_Item_Requests"
        )
    )


def test_a_harvest_asks_for_the_report_and_imports_it(session, server, credential) -> None:
    server.answer(corpus_file("folio-mod-erm-usage-counter/tr_j1.json"))
    result = run(session, credential)
    assert result.ok and result.attempts == 1
    assert server.path() == "/counter/r5/reports/tr_j1"
    assert server.query() == {
        "customer_id": "customerId",
        "requestor_id": "prlc",
        "api_key": "secret-key-1234",
        "begin_date": "2021-01",
        "end_date": "2021-01",
    }
    batch = result.imported.batch
    assert (batch.source, batch.report_id, batch.member_id) == (
        "sushi",
        "TR_J1",
        credential.member_id,
    )
    assert requests_total(session) == 587  # EXPECTED.md
    assert credential.last_harvest_status.startswith(
        "KAR_Karger_TR_J1_2021-01_2021-01.json: imported"
    )


def test_the_same_answer_twice_is_recognised(session, server, credential) -> None:
    for _ in range(2):
        server.answer(corpus_file("folio-mod-erm-usage-counter/tr_j1.json"))
    first = run(session, credential)
    second = run(session, credential)
    assert second.ok and second.duplicate
    assert second.message == (
        f"The server sent the same report as batch {first.imported.batch.id}: nothing new."
    )
    assert requests_total(session) == 587


def test_a_queued_report_is_asked_for_again(session, server, credential) -> None:
    server.answer(corpus_file("celus/counter5/naked_errors.json"))  # 1011 Report Queued
    server.answer(corpus_file("folio-mod-erm-usage-counter/tr_j1.json"))
    sleeps = Sleeps()
    result = run(session, credential, sleeps=sleeps)
    assert result.ok and result.attempts == 2
    assert sleeps == [0.5]
    assert len(server.requests) == 2


def test_a_busy_server_is_retried_after_the_time_it_asks(session, server, credential) -> None:
    server.answer(status=503, Retry_After="3")
    server.answer(status=429)
    server.answer(corpus_file("folio-mod-erm-usage-counter/tr_j1.json"))
    sleeps = Sleeps()
    result = run(session, credential, sleeps=sleeps)
    assert result.ok and result.attempts == 3
    assert sleeps == [3.0, 2.0]  # Retry-After, then the second delay


def test_retries_end_with_a_clear_message(session, server, credential) -> None:
    for _ in range(3):
        server.answer(status=503)
    result = run(session, credential)
    assert not result.ok
    assert result.message == "Harvest failed after 3 attempts: the server answered HTTP 503."
    assert session.scalar(select(func.count(UsageImport.id))) == 0
    assert credential.last_harvest_status == result.message


@pytest.mark.parametrize(
    ("relative", "status", "message"),
    [
        (
            "folio-mod-erm-usage-harvester/SampleReportExceptionError.json",
            200,
            "Nothing harvested: SUSHI 1030: the server lacks information to answer: check the"
            " customer id and requestor id (Invalid Customer Id).",
        ),
        (
            "folio-mod-erm-usage-harvester/SampleReportExceptionError.json",
            401,
            "Harvest failed: the server answered HTTP 401: SUSHI 1030: the server lacks"
            " information to answer: check the customer id and requestor id (Invalid Customer"
            " Id).",
        ),
        (
            "folio-mod-erm-usage-counter/TR_r51_with_exception.json",
            200,
            "Nothing harvested: SUSHI 3031: the usage of these months is not ready yet: harvest"
            " again later (Usage Not Ready for Requested Dates — string).",
        ),
        (
            "celus/counter5/stringified_error.json",
            200,
            "Nothing harvested: SUSHI 2090 (Got response code: 404 for request:",
        ),
    ],
)
def test_sushi_exceptions_are_said_in_words(
    session, server, credential, relative, status, message
) -> None:
    server.answer(corpus_file(relative), status=status)
    result = run(session, credential)
    assert not result.ok and result.attempts == 1
    assert result.message.startswith(message)
    assert session.scalar(select(func.count(UsageImport.id))) == 0


def test_warnings_come_with_the_imported_data(session, server, credential) -> None:
    credential.member.counter_ids = "9999999"  # TR-c.json's customer id
    server.answer(corpus_file("celus-nibbler/counter5/TR-c.json"))
    result = run(session, credential, "TR", dt.date(2017, 1, 1), dt.date(2018, 12, 1))
    assert result.ok and result.imported.records > 0
    assert "Server notes: SUSHI 3032: the usage of these months is no longer available" in (
        result.message
    )


def test_a_server_that_refuses_the_connection_is_not_asked_again(session, credential) -> None:
    credential.base_url = "http://127.0.0.1:9/counter"  # the discard port: nobody listens
    result = run(session, credential)
    assert not result.ok and result.attempts == 1
    assert result.message.startswith("Harvest failed: the server refused the connection")


def test_an_unknown_server_name_is_not_asked_again(session, credential) -> None:
    credential.base_url = "http://sushi.invalid/counter"  # .invalid never resolves (RFC 2606)
    result = run(session, credential)
    assert not result.ok and result.attempts == 1
    assert result.message.startswith("Harvest failed: the server's name is not known")
    assert result.message.endswith("check the base URL.")


def test_a_timeout_is_asked_again(session, server, credential) -> None:
    from costshare.usage.sushi import fetch

    server.answer(corpus_file("folio-mod-erm-usage-counter/tr_j1.json"))
    calls = []

    def slow_then_fine(url: str):
        calls.append(url)
        if len(calls) == 1:
            raise TimeoutError("timed out")
        return fetch(url)

    sleeps = Sleeps()
    result = harvest(
        session,
        credential,
        "TR_J1",
        JAN_2021,
        JAN_2021,
        fetcher=slow_then_fine,
        delays=(0.5,),
        sleep=sleeps,
    )
    assert result.ok and result.attempts == 2 and sleeps == [0.5]


def test_the_api_key_stays_out_of_the_audit_log(session, server, credential) -> None:
    server.answer(corpus_file("folio-mod-erm-usage-counter/tr_j1.json"))
    run(session, credential)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "sushi.harvest"))
    assert "secret-key" not in str(event.after) and "customer_id=customerId" in event.after["url"]


def test_a_harvest_asks_for_a_known_report_and_months(session, credential) -> None:
    from costshare.errors import ServiceError

    with pytest.raises(ServiceError, match="Choose a COUNTER R5 report"):
        run(session, credential, report="JR1")
    with pytest.raises(ServiceError, match="The last month comes before the first"):
        run(session, credential, begin=dt.date(2021, 3, 1), end=JAN_2021)
