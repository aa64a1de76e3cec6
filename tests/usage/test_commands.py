"""`costshare import-usage`, `costshare harvest` and `costshare counter inspect`."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from costshare.usage.models import SushiCredential, UsageImport, UsageItem, UsageRecord
from tests.counter.corpus import corpus_file
from tests.factories import create_member, create_resource, create_vendor
from tests.usage.support import Line, Report, journal_report
from tests.usage.sushi_server import SushiServer


@pytest.fixture
def member(session):
    return create_member(session, code="LIB")


def records(session) -> int:
    return session.scalar(select(func.count(UsageRecord.id)))


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_import_usage_prints_one_summary_line(runner, session, member, tmp_path) -> None:
    path = write(tmp_path, "tr.tsv", journal_report({"2026-01": 3, "2026-02": 4}).tsv())
    result = runner.invoke(args=["costshare", "import-usage", str(path), "--member", "lib"])
    assert result.exit_code == 0, result.output
    batch = session.scalar(select(UsageImport))
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        f"tr.tsv: imported for LIB as batch {batch.id}, TR 2026-01 to 2026-02, 2 records,"
    )
    assert "records/s" in lines[0] and result.stderr == ""
    assert batch.source == "cli" and records(session) == 2


def test_importing_the_same_file_again_changes_nothing(runner, session, member, tmp_path) -> None:
    path = write(tmp_path, "tr.tsv", journal_report({"2026-01": 3}).tsv())
    runner.invoke(args=["costshare", "import-usage", str(path), "--member", "LIB"])
    result = runner.invoke(args=["costshare", "import-usage", str(path), "--member", "LIB"])
    assert result.exit_code == 0
    assert "already imported for LIB" in result.stdout and "nothing changed" in result.stdout
    assert records(session) == 1


def test_a_broken_file_exits_2_with_one_line_and_stores_nothing(
    runner, session, member, tmp_path
) -> None:
    lines = [Line(f"J{n}", "Total_Item_Requests", {"2026-01": n}) for n in range(1, 6)]
    path = write(tmp_path, "bad.tsv", Report("TR", "2026-01", "2026-01", lines).tsv(bad_row=4))
    result = runner.invoke(args=["costshare", "import-usage", str(path), "--member", "LIB"])
    assert result.exit_code == 2
    assert result.stderr == (
        'Error: bad.tsv, row 18, column "Jan-2026": expected a whole number, found "12x"\n'
    )
    assert records(session) == 0 and session.scalar(select(func.count(UsageItem.id))) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--member", "NOPE"], "Error: there is no member with the code NOPE\n"),
        ([], None),  # --member is required: click's own usage error
    ],
)
def test_bad_input_exits_2(runner, member, tmp_path, args, message) -> None:
    path = write(tmp_path, "tr.tsv", journal_report({"2026-01": 3}).tsv())
    result = runner.invoke(args=["costshare", "import-usage", str(path), *args])
    assert result.exit_code == 2
    if message:
        assert result.stderr == message


def test_a_missing_file_exits_2(runner, member, tmp_path) -> None:
    result = runner.invoke(
        args=["costshare", "import-usage", str(tmp_path / "none.tsv"), "--member", "LIB"]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: none.tsv: cannot open the file")


def test_the_platform_option_names_the_usage(runner, session, member, tmp_path) -> None:
    resource = create_resource(session, counter_platform="Lotus Books")
    path = write(tmp_path, "tr.tsv", journal_report({"2026-01": 3}, platform="LBO").tsv())
    result = runner.invoke(
        args=[
            "costshare",
            "import-usage",
            str(path),
            "--member",
            "LIB",
            "--platform",
            "Lotus Books",
        ]
    )
    assert result.exit_code == 0, result.output
    assert session.scalar(select(UsageItem.resource_id)) == resource.id


def test_counter_inspect_is_a_costshare_command(runner) -> None:
    path = corpus_file("cop5/r50/Sample-TR_J1.tsv")
    result = runner.invoke(args=["costshare", "counter", "inspect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["Total_Item_Requests"] == 40  # EXPECTED.md


# --- harvest ------------------------------------------------------------------------------------


@pytest.fixture
def sushi(session, member, app, monkeypatch):
    server = SushiServer()
    monkeypatch.setitem(app.config, "SUSHI_RETRY_DELAYS", (0, 0))
    session.add(
        SushiCredential(
            member=member,
            vendor=create_vendor(session, name="Karger"),
            base_url=server.base_url,
            customer_id="customerId",
        )
    )
    session.flush()
    yield server
    server.close()


def harvest_args(**changes):
    args = {"member": "LIB", "vendor": "karger", "report": "TR_J1", "begin": "2021-01"}
    args |= {"end": "2021-01", **changes}
    return ["costshare", "harvest", *(f"--{k}={v}" for k, v in args.items())]


def test_harvest_imports_the_report(runner, session, sushi) -> None:
    sushi.answer(corpus_file("folio-mod-erm-usage-counter/tr_j1.json"))
    result = runner.invoke(args=harvest_args())
    assert result.exit_code == 0, result.output
    assert "imported for LIB" in result.stdout
    assert session.scalar(select(UsageImport.source)) == "sushi"
    assert sushi.query()["begin_date"] == "2021-01"


def test_a_refused_harvest_exits_1_saying_why(runner, session, sushi) -> None:
    for _ in range(3):
        sushi.answer(status=500)
    result = runner.invoke(args=harvest_args())
    assert result.exit_code == 1
    assert result.stderr == "Harvest failed after 3 attempts: the server answered HTTP 500.\n"
    assert session.scalar(select(SushiCredential.last_harvest_status)).startswith("Harvest failed")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"vendor": "Nobody"}, "Error: there is no vendor named Nobody\n"),
        ({"begin": "2021-1x"}, "Error: --begin '2021-1x' is not a month written YYYY-MM\n"),
        ({"report": "XX"}, "Error: Choose a COUNTER R5 report (TR, DR, PR, IR or a standard"),
        ({"member": "OTHER"}, "Error: OTHER has no SUSHI credentials for Karger"),
    ],
)
def test_harvest_refuses_bad_input_with_exit_2(runner, session, sushi, changes, message) -> None:
    create_member(session, code="OTHER")
    result = runner.invoke(args=harvest_args(**changes))
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert sushi.requests == []
