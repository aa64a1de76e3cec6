"""The COUNTER reader's speed and memory, on generated reports (seeded, in a temporary folder).

Figures and targets (CPU time of the measuring process, best of several runs, so that other
work on the machine does not count):

- TR TSV of 1,000,000 rows: read rate as a ratio to a bare ``csv.reader`` pass converting
  the same month cells with ``int`` (target ≥ 0.5), and in records/s (target ≥ 100,000,
  the import target, so that reading is never what holds an import back);
- peak memory reading 1,000,000 rows against 250,000 rows, each in its own process
  (target ≤ 1.25×: memory stays flat with file size);
- SUSHI JSON (R5.0 TR, ~100 MB): records/s (target ≥ 100,000) and peak memory against a
  quarter-size file (target ≤ 1.25×);
- celus-nibbler 12.4.1, in a virtual environment of its own under the temporary folder,
  on the first 200,000 rows of the same TSV: how many times faster this reader is
  (target ≥ 20×);
- database import: see ``IMPORTERS`` below (to be filled in by the import service).

Run: ``.venv/bin/python benchmarks/counter.py`` (``--help`` for smaller runs). Prints each
figure beside its target; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import json
import math
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from costshare.counter import Report, read_report  # noqa: E402 - needs the path above

SEED = 20261127
ROWS = 1_000_000
JSON_ITEMS = 60_000
NIBBLER = "celus-nibbler==12.4.1"
NIBBLER_ROWS = 200_000
NIBBLER_VENV = Path(tempfile.gettempdir()) / "costshare-bench-celus-nibbler-12.4.1"

TARGET_RATIO_TO_CSV = 0.5
TARGET_RECORDS_PER_SECOND = 100_000
TARGET_MEMORY_GROWTH = 1.25
TARGET_NIBBLER_SPEEDUP = 20.0
TARGET_IMPORT_RECORDS_PER_SECOND = 100_000

METRICS = (
    "Total_Item_Investigations",
    "Total_Item_Requests",
    "Unique_Item_Investigations",
    "Unique_Item_Requests",
    "Unique_Title_Investigations",
    "Unique_Title_Requests",
)
MONTHS = [f"{month}-2023" for month in calendar.month_abbr[1:]]
HEADER = [
    ("Report_Name", "Title Master Report"),
    ("Report_ID", "TR"),
    ("Release", "5"),
    ("Institution_Name", "Benchmark University"),
    ("Institution_ID", "ISNI:0000000000000000"),
    ("Metric_Types", "; ".join(METRICS)),
    ("Report_Filters", ""),
    (
        "Report_Attributes",
        "Attributes_To_Show=Data_Type|Section_Type|YOP|Access_Type|Access_Method",
    ),
    ("Exceptions", ""),
    ("Reporting_Period", "Begin_Date=2023-01-01; End_Date=2023-12-31"),
    ("Created", "2024-01-05T10:00:00Z"),
    ("Created_By", "Benchmark Platform"),
]
COLUMNS = [
    "Title",
    "Publisher",
    "Publisher_ID",
    "Platform",
    "DOI",
    "Proprietary_ID",
    "ISBN",
    "Print_ISSN",
    "Online_ISSN",
    "URI",
    "Data_Type",
    "Section_Type",
    "YOP",
    "Access_Type",
    "Access_Method",
    "Metric_Type",
    "Reporting_Period_Total",
    *MONTHS,
]
#: Lines before the first data row, and the first month column, for the bare csv pass.
HEADER_LINES = len(HEADER) + 2
FIRST_MONTH = COLUMNS.index(MONTHS[0])


@dataclass
class Figure:
    """One measured figure and its target."""

    name: str
    value: float
    target: float
    unit: str
    higher_is_better: bool = True
    note: str = ""

    @property
    def met(self) -> bool:
        """Tell whether the figure meets its target."""
        if self.higher_is_better:
            return self.value >= self.target
        return self.value <= self.target

    def line(self) -> str:
        """Return the figure, its target and the verdict on one line."""
        sign = "≥" if self.higher_is_better else "≤"
        verdict = "ok" if self.met else "MISSED"
        text = f"  {self.name:<44} {_number(self.value):>12} {self.unit:<10}"
        text += f" target {sign} {_number(self.target):<9} {verdict}"
        return text + (f"   ({self.note})" if self.note else "")


def _number(value: float) -> str:
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


# -- generated reports --------------------------------------------------------------------


def _title_months(rng: random.Random) -> list[list[int]]:
    """Return one title's counts per metric (METRICS order) and month, kept plausible."""
    popularity = math.exp(rng.gauss(1.0, 1.4))
    rows: list[list[int]] = [[] for _ in METRICS]
    for _ in MONTHS:
        if rng.random() < 0.3:
            counts = [0] * len(METRICS)
        else:
            requests = int(rng.expovariate(1 / popularity))
            investigations = requests + 1 + int(rng.expovariate(1 / (popularity / 2 + 0.5)))
            unique_requests = rng.randint(min(1, requests), requests)
            unique_investigations = max(unique_requests, rng.randint(1, investigations))
            counts = [
                investigations,
                requests,
                unique_investigations,
                unique_requests,
                rng.randint(1, unique_investigations),
                rng.randint(min(1, unique_requests), unique_requests),
            ]
        for metric, count in enumerate(counts):
            rows[metric].append(count)
    return rows


def generate_tsv(path: Path, rows: int, seed: int = SEED) -> tuple[int, float]:
    """Write an R5 TR TSV of ``rows`` data rows; return (records, share of zero counts)."""
    rng = random.Random(seed)
    records = zeros = written = title = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        for key, value in HEADER:
            out.write(f"{key}\t{value}\n")
        out.write("\n" + "\t".join(COLUMNS) + "\n")
        while written < rows:
            title += 1
            issn = f"{title % 10000:04d}-{(title * 7919) % 10000:04d}"
            access = "OA_Gold" if rng.random() < 0.1 else "Controlled"
            item = [
                f"Journal of Benchmark Studies {title}",
                f"Publisher {title % 97}",
                "",
                "Benchmark Platform",
                f"10.9999/bench.{title}",
                f"bench:{title}",
                "",
                issn,
                issn,
                f"https://example.org/journal/{title}",
                "Journal",
                "Article",
                str(rng.randint(1990, 2023)),
                access,
                "Regular",
            ]
            for metric, counts in zip(METRICS, _title_months(rng), strict=True):
                if written == rows:
                    break
                out.write("\t".join([*item, metric, str(sum(counts)), *map(str, counts)]) + "\n")
                written += 1
                records += sum(1 for c in counts if c)
                zeros += sum(1 for c in counts if not c)
    return records, zeros / (records + zeros)


def cut_tsv(source: Path, target: Path, rows: int) -> None:
    """Write the first ``rows`` data rows of a generated TSV to ``target``."""
    with source.open(encoding="utf-8") as src, target.open("w", encoding="utf-8") as out:
        out.writelines(islice(src, HEADER_LINES + rows))


def generate_sushi_json(path: Path, items: int, seed: int = SEED) -> int:
    """Write an R5.0 TR SUSHI response with ``items`` report items; return its records."""
    rng = random.Random(seed)
    header = {
        "Created": "2024-01-05T10:00:00Z",
        "Created_By": "Benchmark Platform",
        "Customer_ID": "bench-1",
        "Report_ID": "TR",
        "Release": "5",
        "Report_Name": "Title Master Report",
        "Institution_Name": "Benchmark University",
        "Report_Filters": [
            {"Name": "Begin_Date", "Value": "2023-01-01"},
            {"Name": "End_Date", "Value": "2023-12-31"},
        ],
    }
    records = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('{"Report_Header": ' + json.dumps(header, indent=2) + ',\n"Report_Items": [\n')
        for number in range(1, items + 1):
            counts = _title_months(rng)
            performance = []
            for month in range(12):
                instances = [
                    {"Metric_Type": metric, "Count": counts[m][month]}
                    for m, metric in enumerate(METRICS)
                    if counts[m][month]  # SUSHI leaves zero counts out
                ]
                if instances:
                    records += len(instances)
                    performance.append(
                        {
                            "Period": {
                                "Begin_Date": f"2023-{month + 1:02d}-01",
                                "End_Date": f"2023-{month + 1:02d}-28",
                            },
                            "Instance": instances,
                        }
                    )
            item = {
                "Title": f"Journal of Benchmark Studies {number}",
                "Item_ID": [
                    {"Type": "Online_ISSN", "Value": f"{number % 10000:04d}-0000"},
                    {"Type": "Proprietary", "Value": f"bench:{number}"},
                ],
                "Platform": "Benchmark Platform",
                "Publisher": f"Publisher {number % 97}",
                "Data_Type": "Journal",
                "YOP": str(rng.randint(1990, 2023)),
                "Access_Type": "Controlled",
                "Access_Method": "Regular",
                "Performance": performance,
            }
            out.write(("," if number > 1 else "") + json.dumps(item) + "\n")
        out.write("]}\n")
    return records


# -- measuring ----------------------------------------------------------------------------


def cpu_seconds(action: Callable[[], object], runs: int) -> float:
    """Return the least CPU time ``action`` took over ``runs`` runs."""
    best = math.inf
    for _ in range(runs):
        start = time.process_time()
        action()
        best = min(best, time.process_time() - start)
    return best


def csv_int_pass(path: Path) -> None:
    """Read the TSV with the bare csv module and convert every month cell with int."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t")
        for _ in range(HEADER_LINES):
            next(rows)
        for row in rows:
            [int(cell) for cell in row[FIRST_MONTH:]]


def reader_pass(path: Path) -> Report:
    """Read every record of the file with the COUNTER reader."""
    report = read_report(path)
    deque(report.records(), maxlen=0)
    return report


def peak_memory_kib(path: Path) -> int:
    """Return the peak resident memory (KiB) of a fresh process reading the whole file."""
    result = subprocess.run(
        [sys.executable, __file__, "--peak-memory", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(result.stdout.split()[-1])


def memory_growth(name: str, big: Path, small: Path) -> Figure:
    """Compare the peak memory of reading the big file with that of reading the small one."""
    peak_big, peak_small = peak_memory_kib(big), peak_memory_kib(small)
    return Figure(
        name,
        peak_big / peak_small,
        TARGET_MEMORY_GROWTH,
        "times",
        higher_is_better=False,
        note=f"{peak_big / 1024:,.0f} MiB vs {peak_small / 1024:,.0f} MiB",
    )


def _report_peak_memory(path: str) -> None:
    reader_pass(Path(path))
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


# -- celus-nibbler --------------------------------------------------------------------------

NIBBLER_SCRIPT = """
import json, logging, sys, time
logging.disable(logging.CRITICAL)
from celus_nibbler import Poop, eat
start = time.process_time()
records = 0
for poop in eat(sys.argv[1], "void", check_platform=False):
    if not isinstance(poop, Poop):
        raise SystemExit(f"celus-nibbler found no parser: {poop}")
    for _, record in poop.records_basic():
        records += 1
print(json.dumps({"seconds": time.process_time() - start, "records": records}))
"""


def nibbler_python() -> Path:
    """Return the Python of a virtual environment holding celus-nibbler, made if need be."""
    python = NIBBLER_VENV / "bin" / "python"
    check = [str(python), "-c", "import celus_nibbler"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"  (installing {NIBBLER} into {NIBBLER_VENV} …)", flush=True)
    for command in (
        [sys.executable, "-m", "venv", "--clear", str(NIBBLER_VENV)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", NIBBLER],
    ):
        # pip's chatter stays out of the figures unless it fails.
        subprocess.run(command, check=True, capture_output=True, text=True)
    return python


def nibbler_seconds(path: Path, folder: Path) -> tuple[float, int]:
    """Return celus-nibbler's CPU seconds and record count for reading ``path``."""
    script = folder / "nibbler_read.py"
    script.write_text(NIBBLER_SCRIPT, encoding="utf-8")
    result = subprocess.run(
        [str(nibbler_python()), str(script), str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    data = json.loads(result.stdout.strip().splitlines()[-1])
    return data["seconds"], data["records"]


# -- DATABASE IMPORT THROUGHPUT: the import service ------------------------------------------
#
# An importer takes a Report (header read, records not yet read), stores every record into
# its database in one transaction, and returns how many records it stored. One per
# database; each is timed on the 1,000,000-row TSV against TARGET_IMPORT_RECORDS_PER_SECOND
# (≥ 100,000 records/s). PostgreSQL is measured when $COSTSHARE_BENCH_POSTGRES_URL names a
# throwaway database (its public schema is reset), e.g.
# COSTSHARE_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/costshare_bench

Importer = Callable[[Report], int]

#: A throwaway PostgreSQL database for the import figure: its public schema is reset.
POSTGRES_URL_VARIABLE = "COSTSHARE_BENCH_POSTGRES_URL"


def database_importer(url: str) -> Importer:
    """Return an importer into a fresh database at `url`: the schema is built now, untimed.

    Each call imports one report for one member through the import service
    (`costshare.usage.importing.import_report`: bulk COPY / executemany, one transaction)
    and commits.
    """
    import uuid

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    import costshare.models  # noqa: F401 - every mapper known before the first query
    from costshare import migrate
    from costshare.db import make_engine
    from costshare.members.models import Member
    from costshare.usage.importing import import_report

    migrate.upgrade("head", database_url=url)
    engine = make_engine(url)
    with Session(engine) as session:
        session.add(Member(code="BENCH", name="Benchmark University"))
        session.commit()

    def run(report: Report) -> int:
        with Session(engine) as session:
            member = session.scalar(select(Member).where(Member.code == "BENCH"))
            imported = import_report(
                session, report, checksum=uuid.uuid4().hex * 2, member=member, source_kind="cli"
            )
            session.commit()
            return imported.records

    return run


def sqlite_importer() -> Importer:
    """SQLite in a temporary folder (removed when the benchmark ends)."""
    folder = tempfile.TemporaryDirectory(prefix="costshare-bench-import-")
    IMPORT_FOLDERS.append(folder)
    return database_importer(f"sqlite:///{Path(folder.name) / 'import.db'}")


def postgres_importer() -> Importer | None:
    """PostgreSQL at $COSTSHARE_BENCH_POSTGRES_URL, its public schema emptied first."""
    import os

    from sqlalchemy import create_engine, text

    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        print(f"  import into PostgreSQL: not measured (set {POSTGRES_URL_VARIABLE})")
        return None
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return database_importer(url)


class _BuiltWhenRun(dict):
    """Importers made (schemas built) when `main` lists them, never in its subprocesses."""

    def items(self):  # type: ignore[override]
        built = ((name, make()) for name, make in super().items())
        return [(name, importer) for name, importer in built if importer is not None]


IMPORT_FOLDERS: list[tempfile.TemporaryDirectory] = []
IMPORTERS: dict[str, Importer] = _BuiltWhenRun(
    {"SQLite": sqlite_importer, "PostgreSQL": postgres_importer}
)


def import_throughput(database: str, importer: Importer, path: Path) -> Figure:
    """Time one importer on the file (wall time: the database's own work counts)."""
    report = read_report(path)
    start = time.perf_counter()
    stored = importer(report)
    seconds = time.perf_counter() - start
    return Figure(
        f"import into {database}, records/s",
        stored / seconds,
        TARGET_IMPORT_RECORDS_PER_SECOND,
        "records/s",
        note=f"{stored:,} records in {seconds:.1f} s",
    )


# -- the run --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print each figure beside its target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS, help="rows of the large TSV")
    parser.add_argument("--json-items", type=int, default=JSON_ITEMS, help="items of the JSON")
    parser.add_argument("--runs", type=int, default=3, help="runs per timing (best counts)")
    parser.add_argument("--skip-nibbler", action="store_true", help="leave celus-nibbler out")
    parser.add_argument("--peak-memory", metavar="FILE", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.peak_memory:
        _report_peak_memory(options.peak_memory)
        return 0
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="costshare-bench-counter-") as name:
        folder = Path(name)
        figures += _tsv_figures(folder, options)
        figures += _json_figures(folder, options)
        if not options.skip_nibbler:
            figures += _nibbler_figures(folder, options)
        for database, importer in IMPORTERS.items():
            figures.append(import_throughput(database, importer, folder / "tr.tsv"))
            print(figures[-1].line(), flush=True)
    missed = [f.name for f in figures if not f.met]
    print("all targets met" if not missed else f"targets missed: {', '.join(missed)}")
    return 1 if missed else 0


def _tsv_figures(folder: Path, options: argparse.Namespace) -> list[Figure]:
    big, quarter = folder / "tr.tsv", folder / "tr-quarter.tsv"
    records, zero_share = generate_tsv(big, options.rows)
    cut_tsv(big, quarter, options.rows // 4)
    size = big.stat().st_size / 1e6
    print(
        f"TR TSV: {options.rows:,} rows, {size:,.0f} MB, {records:,} non-zero counts"
        f" ({zero_share:.0%} of month cells are 0); seed {SEED}",
        flush=True,
    )
    bare = reader = math.inf
    for _ in range(options.runs):  # alternate, so that machine load hits both alike
        bare = min(bare, cpu_seconds(lambda: csv_int_pass(big), 1))
        reader = min(reader, cpu_seconds(lambda: reader_pass(big), 1))
    figures = [
        Figure(
            "TSV read rate / csv.reader+int rate",
            bare / reader,
            TARGET_RATIO_TO_CSV,
            "ratio",
            note=f"{options.rows / reader:,.0f} rows/s vs {options.rows / bare:,.0f} rows/s",
        ),
        Figure("TSV read, records/s", records / reader, TARGET_RECORDS_PER_SECOND, "records/s"),
    ]
    name = f"TSV peak memory, {options.rows:,} / {options.rows // 4:,} rows"
    figures.append(memory_growth(name, big, quarter))
    for figure in figures:
        print(figure.line(), flush=True)
    return figures


def _json_figures(folder: Path, options: argparse.Namespace) -> list[Figure]:
    big, quarter = folder / "tr.json", folder / "tr-quarter.json"
    records = generate_sushi_json(big, options.json_items)
    generate_sushi_json(quarter, options.json_items // 4)
    size = big.stat().st_size / 1e6
    print(f"TR SUSHI JSON: {options.json_items:,} items, {size:,.0f} MB, {records:,} counts")
    seconds = cpu_seconds(lambda: reader_pass(big), options.runs)
    figures = [
        Figure("JSON read, records/s", records / seconds, TARGET_RECORDS_PER_SECOND, "records/s"),
        memory_growth("JSON peak memory, full / quarter size", big, quarter),
    ]
    for figure in figures:
        print(figure.line(), flush=True)
    return figures


def _nibbler_figures(folder: Path, options: argparse.Namespace) -> list[Figure]:
    cut = folder / "tr-nibbler.tsv"
    rows = min(NIBBLER_ROWS, options.rows)
    cut_tsv(folder / "tr.tsv", cut, rows)
    print(f"celus-nibbler 12.4.1 against this reader on the first {rows:,} rows:", flush=True)
    try:
        theirs, their_records = nibbler_seconds(cut, folder)
    except (subprocess.CalledProcessError, OSError) as exc:
        lines = (getattr(exc, "stderr", "") or str(exc)).strip().splitlines()
        print(f"  celus-nibbler could not be run: {lines[-1] if lines else exc}")
        return [Figure("celus-nibbler could not be run", 0, 1, "")]
    ours = cpu_seconds(lambda: reader_pass(cut), options.runs)
    figure = Figure(
        "speed-up over celus-nibbler 12.4.1",
        theirs / ours,
        TARGET_NIBBLER_SPEEDUP,
        "times",
        note=f"{theirs:.1f} s vs {ours:.2f} s CPU; it yields {their_records:,} records, zeros too",
    )
    print(figure.line(), flush=True)
    return [figure]


if __name__ == "__main__":
    raise SystemExit(main())
