"""`costshare counter inspect FILE [--json]`."""

from __future__ import annotations

import json

from click.testing import CliRunner

from costshare.usage.inspect_command import counter_cli
from tests.counter.corpus import FIXTURES, corpus_file


def test_json_summary_has_the_keys_scripts_rely_on() -> None:
    result = CliRunner().invoke(
        counter_cli, ["inspect", str(corpus_file("cop5/r50/Sample-TR_J1.tsv")), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {
        "release",
        "report_id",
        "institution_name",
        "begin",
        "end",
        "items",
        "totals",
        "exceptions",
        "warnings",
    } <= set(data)
    assert (data["release"], data["report_id"], data["begin"], data["end"]) == (
        "5",
        "TR_J1",
        "2016-01-01",
        "2016-03-31",
    )
    # EXPECTED.md: 40 and 37, January–March 9 / 15 / 16.
    assert data["totals"] == {"Total_Item_Requests": 40, "Unique_Item_Requests": 37}
    assert data["totals_by_month"]["Total_Item_Requests"] == {
        "2016-01": 9,
        "2016-02": 15,
        "2016-03": 16,
    }
    assert data["items"] == 2


def test_json_summary_of_an_exception_only_response() -> None:
    path = corpus_file("folio-mod-erm-usage-harvester/SampleReportExceptionError.json")
    data = json.loads(CliRunner().invoke(counter_cli, ["inspect", str(path), "--json"]).stdout)
    assert data["totals"] == {}
    assert data["exceptions"] == [
        {"code": 1030, "severity": "Fatal", "message": "Invalid Customer Id", "data": ""}
    ]


def test_text_summary_for_a_person() -> None:
    path = corpus_file("celus-nibbler/counter4/PR1-c.tsv")
    result = CliRunner().invoke(counter_cli, ["inspect", str(path)])
    assert result.exit_code == 0
    assert "COUNTER R4 PR1" in result.stdout
    assert "Total_Item_Investigations" in result.stdout and "166" in result.stdout
    assert "summary rows were skipped" in result.stdout


def test_an_unreadable_file_exits_2_with_one_line_on_stderr() -> None:
    for path in (FIXTURES / "tr_bad_count.tsv", FIXTURES / "missing.tsv"):
        result = CliRunner().invoke(counter_cli, ["inspect", str(path)])
        assert result.exit_code == 2
        assert result.stdout == ""
        assert len(result.stderr.splitlines()) == 1
        assert result.stderr.startswith(f"Error: {path.name}")
        assert "Traceback" not in result.stderr
