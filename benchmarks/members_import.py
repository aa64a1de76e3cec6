"""Benchmark a members file import: 2,000 members × 5 years × 5 facts from XLSX.

Run: .venv/bin/python benchmarks/members_import.py — prints each figure beside its
target and exits 1 when one is missed. Seeded: the same file every run.
"""

from __future__ import annotations

import io
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED = 20261127
MEMBERS = int(os.environ.get("BENCH_MEMBERS", "2000"))
YEARS = (2022, 2023, 2024, 2025, 2026)
FACTS = ("fte", "headcount", "budget", "income", "articles")
#: Seconds (SQLite, one core) and megabytes of peak memory.
TARGETS = {"preview": 6.0, "import": 20.0, "re-import preview": 6.0, "peak_rss_mb": 400.0}


def workbook() -> bytes:
    from openpyxl import Workbook

    rng = random.Random(SEED)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("members")
    columns = [f"{fact}:{year}" for fact in FACTS for year in YEARS]
    sheet.append(["code", "name", "sector", "billing_currency", *columns])
    for n in range(MEMBERS):
        values = [rng.randint(100, 90_000) for _ in columns]
        sheet.append(
            [
                f"L{n:05d}",
                f"Library {n} 图书馆",
                rng.choice(["university", "college"]),
                "EUR",
                *values,
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def main() -> int:
    folder = tempfile.mkdtemp(prefix="cs-bench-import-")
    os.environ["COSTSHARE_INSTANCE_PATH"] = folder
    from config import TestConfig
    from costshare import create_app, migrate
    from costshare.db import get_session
    from costshare.members.importing import apply_import, plan_import
    from costshare.members.tabular import read_rows

    url = f"sqlite:///{folder}/bench.db"
    migrate.upgrade("head", database_url=url)
    app = create_app(TestConfig(url))
    content = workbook()
    figures: dict[str, float] = {}
    with app.test_request_context():
        session = get_session()
        start = time.perf_counter()
        plan = plan_import(session, read_rows(io.BytesIO(content), "members.xlsx"))
        figures["preview"] = time.perf_counter() - start
        assert plan.count("create") == MEMBERS

        start = time.perf_counter()
        plan = plan_import(session, read_rows(io.BytesIO(content), "members.xlsx"))
        result = apply_import(session, plan)
        session.commit()
        figures["import"] = time.perf_counter() - start
        assert result.created == MEMBERS and result.facts == MEMBERS * len(YEARS) * len(FACTS)

        start = time.perf_counter()
        plan = plan_import(session, read_rows(io.BytesIO(content), "members.xlsx"))
        figures["re-import preview"] = time.perf_counter() - start
        assert not plan.changes_anything
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    cells = MEMBERS * len(YEARS) * len(FACTS)
    print(f"members file: {MEMBERS} members, {cells} facts, {len(content) // 1024} KiB XLSX")
    failed = False
    for name, value in figures.items():
        target = TARGETS[name]
        unit = "MB" if name.endswith("_mb") else "s"
        ok = value <= target
        failed |= not ok
        verdict = "ok" if ok else "MISSED"
        print(f"  {name:<20} {value:8.2f} {unit}   target ≤ {target:g} {unit}   {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
