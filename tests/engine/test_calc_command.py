"""`costshare calc`: output formats, what-if, and bad input (exit 2, one line on stderr)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from costshare.allocations.calc_command import calc
from tests.engine.scenarios import SPEC_COLUMNS
from tests.engine.test_golden import SPEC_RESULT, SPEC_SCENARIO

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "spec-section-1.json"

#: The section-9 numbers as CSV: the spec's columns, then one per explanation key.
SPEC_CSV = "".join(
    line + "\n"
    for line in (
        "code,name,amount,raw,bound,surcharge,solo_price,savings,savings_pct,"
        "equal,attribute:fte,attribute:usage,bound_adjustment,rounding",
        "UNI-A,University A,27281.44,25644.76,,0.00,31000.00,3718.56,0.1200,"
        "3333.33,15849.06,6462.37,1636.67,0.01",
        "UNI-B,University B,9988.56,9389.33,,0.00,12000.00,2011.44,0.1676,"
        "3333.33,3245.28,2810.71,599.24,0.00",
        "UNI-C,College C,2730.00,4965.91,max_change_up,0.00,4000.00,1270.00,0.3175,"
        "3333.33,905.66,726.92,-2235.91,0.00",
    )
)

#: Three libraries sharing 900.00 equally; without C the other two pay 450.00 each.
SMALL = {
    "currency": "EUR",
    "total": "900.00",
    "members": [{"code": c, "attributes": {}} for c in ("A", "B", "C")],
    "formula": {"components": [{"kind": "equal"}]},
}


def invoke(*args: str, stdin: str | None = None) -> object:
    return CliRunner().invoke(calc, list(args), input=stdin)


def write(tmp_path: Path, data: object, name: str = "s.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def test_json_output_is_the_section_9_result() -> None:
    result = invoke(str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads(SPEC_RESULT)
    assert result.stderr == ""


def test_csv_output() -> None:
    result = invoke(str(EXAMPLE), "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout == SPEC_CSV


def test_table_output_is_aligned_with_a_totals_row() -> None:
    result = invoke(str(EXAMPLE), "--format", "table")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("currency: EUR  price: 40000.00")
    assert "lambda: 1.063821" in lines[0]
    header = lines[1].split()
    assert header[:9] == SPEC_COLUMNS
    total_row = lines[-1].split()
    # TOTAL, amount 40000.00, surcharge 0.00, solo prices 47000.00, savings 7000.00, then the parts.
    assert total_row[:5] == ["TOTAL", "40000.00", "0.00", "47000.00", "7000.00"]
    # Numbers are right-aligned: each amount ends in the same column.
    ends = {
        line.index(amount) + len(amount)
        for line, amount in zip(lines[3:6], ("27281.44", "9988.56", "2730.00"), strict=True)
    }
    assert len(ends) == 1


def test_stdin_is_read_with_a_dash() -> None:
    result = invoke("-", stdin=SPEC_SCENARIO)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads(SPEC_RESULT)


def test_drop_prints_the_what_if_comparison(tmp_path: Path) -> None:
    result = invoke(write(tmp_path, SMALL), "--drop", "C")
    assert result.exit_code == 0, result.output
    comparison = json.loads(result.stdout)
    assert list(comparison) == ["before", "after", "changes"]
    assert comparison["changes"] == [
        {"code": "A", "before": "300.00", "after": "450.00", "change": "150.00"},
        {"code": "B", "before": "300.00", "after": "450.00", "change": "150.00"},
    ]
    csv = invoke(write(tmp_path, SMALL), "--drop", "C", "--format", "csv")
    assert (
        csv.stdout == "code,before,after,change\nA,300.00,450.00,150.00\nB,300.00,450.00,150.00\n"
    )
    table = invoke(write(tmp_path, SMALL), "--drop", "B, C", "--format", "table")
    assert table.exit_code == 0
    assert table.stdout.splitlines()[-1].split() == ["TOTAL", "300.00", "900.00", "600.00"]


def test_term_in_csv_has_a_year_column(tmp_path: Path) -> None:
    data = dict(SMALL, term={"years": 2, "uplift": "0.1"})
    result = invoke(write(tmp_path, data), "--format", "csv")
    rows = result.stdout.splitlines()
    assert rows[0].startswith("year,code,name,amount")
    assert [row.split(",")[:4] for row in rows[1:]] == [
        ["1", "A", "", "300.00"],
        ["1", "B", "", "300.00"],
        ["1", "C", "", "300.00"],
        ["2", "A", "", "330.00"],
        ["2", "B", "", "330.00"],
        ["2", "C", "", "330.00"],
    ]


BAD_INPUTS = [
    (
        "not json",
        '{"currency": "EUR",',
        "Error: The scenario is not valid JSON: Expecting property name",
    ),
    (
        "missing member fact",
        None,
        "Error: Member UNI-C has no attribute 'fte' (needed by component 'attribute:fte').",
    ),
    ("unknown key", {**SMALL, "totl": 1}, "Error: Unknown key 'totl' in the scenario"),
    ("bad drop", SMALL, "Error: Cannot drop Z: no such member in the scenario."),
    ("empty drop", SMALL, "Error: --drop takes member codes separated by commas"),
]


def missing_fact() -> dict:
    data = json.loads(SPEC_SCENARIO)
    del data["members"][2]["attributes"]["fte"]
    return data


@pytest.mark.parametrize(("case", "data", "message"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, case: str, data: object, message: str
) -> None:
    args = [write(tmp_path, missing_fact() if data is None else data)]
    if case == "bad drop":
        args += ["--drop", "Z"]
    if case == "empty drop":
        args += ["--drop", "A,,B"]
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.stderr


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.json", tmp_path):
        result = invoke(str(path))
        assert result.exit_code == 2
        assert result.stderr.startswith(f"Error: Cannot read the scenario file {path}: ")
        assert result.stderr.count("\n") == 1


def flask_or_module() -> list[list[str]]:
    """Return the ways to run the command: the module, and the flask group if wsgi.py exists."""
    python = Path(sys.executable)
    commands = [[str(python), "-m", "costshare.allocations.calc_command"]]
    if (ROOT / "wsgi.py").exists():
        commands.append([str(python.parent / "flask"), "--app", "wsgi", "costshare", "calc"])
    return commands


def run_process(command: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )


@pytest.mark.parametrize(
    "command", flask_or_module(), ids=lambda c: "flask" if "flask" in c[0] else "module"
)
def test_as_a_process(command: list[str], tmp_path: Path) -> None:
    good = run_process(command, str(EXAMPLE))
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout) == json.loads(SPEC_RESULT)
    for args in ([write(tmp_path, "{oops")], [str(tmp_path / "none.json")]):
        bad = run_process(command, *args)
        assert bad.returncode == 2
        assert bad.stdout == ""
        assert len(bad.stderr.splitlines()) == 1, bad.stderr
        assert bad.stderr.startswith("Error: ")
        assert "Traceback" not in bad.stderr
