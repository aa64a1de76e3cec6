"""Benchmark the allocation engine and `costshare calc` (seeded inputs; targets beside figures).

Run: .venv/bin/python benchmarks/allocation.py — exits 1 when any target is missed.
"""

from __future__ import annotations

import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from costshare.engine import allocate, load_scenario, shapley_values  # noqa: E402

SEED = 20240611


def scenario(n: int, seed: int = SEED) -> dict[str, Any]:
    """Return n members × 3 components with a floor, a cap (solo price) and max_change."""
    rnd = random.Random(seed)
    members = []
    for i in range(n):
        fte = rnd.randint(200, 40_000)
        solo = Decimal(3000 + fte * 3 // 2)
        attributes: dict[str, Any] = {
            "fte": fte,
            "usage": rnd.randint(0, 90_000),
            "solo_price": f"{solo}.00",
        }
        if rnd.random() < 0.7:
            share = solo * Decimal(rnd.randint(30, 60)) / 100
            attributes["previous_share"] = str(share.quantize(Decimal("0.01")))
        members.append({"code": f"M{i:05d}", "name": f"Library {i}", "attributes": attributes})
    total = sum(Decimal(m["attributes"]["solo_price"]) for m in members) / 2
    return {
        "currency": "EUR",
        "total": str(total.quantize(Decimal("0.01"))),
        "members": members,
        "formula": {
            "components": [
                {"kind": "equal", "weight": 1},
                {"kind": "attribute", "attribute": "fte", "weight": 2},
                {"kind": "attribute", "attribute": "usage", "weight": 1, "transform": "sqrt"},
            ],
            "floor": "500.00",
            "cap": "solo_price",
            "max_change": "0.10",
        },
    }


def median_seconds(work: Callable[[], object], runs: int) -> tuple[float, float]:
    """Return the median (CPU, wall) seconds of ``runs`` calls, after one warm-up call.

    Targets are judged on CPU time, which other programs on a shared machine
    hardly disturb; wall time is printed beside it.
    """
    work()
    cpu, wall = [], []
    for _ in range(runs):
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        result = work()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start_wall)
        # Freeing the result is the caller's business, after the call is timed.
        del result
    return statistics.median(cpu), statistics.median(wall)


def calc_command(probe: Path) -> tuple[list[str], str]:
    """Return how to run `costshare calc` as a process, and which way that is.

    The flask group is used when wsgi.py exists and the command runs there;
    otherwise the module itself, and the reason is printed.
    """
    python = Path(sys.executable)
    module = [str(python), "-m", "costshare.allocations.calc_command"]
    if not (ROOT / "wsgi.py").exists():
        return module, "python -m costshare.allocations.calc_command (no wsgi.py)"
    flask = [str(python.parent / "flask"), "--app", "wsgi", "costshare", "calc"]
    trial = subprocess.run(
        [*flask, str(probe)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if trial.returncode == 0:
        return flask, "flask --app wsgi costshare calc"
    reason = (trial.stderr.strip().splitlines() or ["no output"])[-1]
    return module, f"python -m costshare.allocations.calc_command (flask failed: {reason})"


def process_seconds(command: list[str], path: Path, runs: int) -> tuple[float, float]:
    """Return the median (CPU, wall) seconds of running the command as a child process."""
    cpu, wall = [], []
    for _ in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([*command, str(path)], cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        wall.append(time.perf_counter() - start)
    # The first run warms the disk cache and is left out.
    return statistics.median(cpu[1:]), statistics.median(wall[1:])


def main() -> int:
    # (label, figure, wall-time figure, target, unit)
    results: list[tuple[str, float, float, float, str]] = []

    big = load_scenario(json.dumps(scenario(10_000)))
    small = load_scenario(json.dumps(scenario(100)))
    big_cpu, big_wall = median_seconds(lambda: allocate(big), runs=11)
    small_cpu, small_wall = median_seconds(lambda: allocate(small), runs=51)
    results.append(
        (
            "engine: 10,000 members, 3 components, floor, cap, max_change",
            big_cpu * 1000,
            big_wall * 1000,
            100,
            "ms",
        )
    )

    rnd = random.Random(SEED)
    prices = [Decimal(rnd.randint(10_000, 5_000_000)) / 100 for _ in range(10_000)]
    tiers = [(5, Decimal("0.05")), (20, Decimal("0.10")), (100, Decimal("0.20"))]
    shapley_cpu, shapley_wall = median_seconds(lambda: shapley_values(prices, tiers), runs=11)
    results.append(
        (
            "Shapley values: 10,000 members, exact",
            shapley_cpu * 1000,
            shapley_wall * 1000,
            100,
            "ms",
        )
    )
    results.append(
        ("engine: time(10,000) / time(100)", big_cpu / small_cpu, big_wall / small_wall, 150, "x")
    )

    with tempfile.TemporaryDirectory() as folder:
        files = {}
        for n in (10, 10_000):
            files[n] = Path(folder) / f"scenario-{n}.json"
            files[n].write_text(json.dumps(scenario(n)), encoding="utf-8")
        command, how = calc_command(files[10])
        few_cpu, few_wall = process_seconds(command, files[10], runs=5)
        many_cpu, many_wall = process_seconds(command, files[10_000], runs=5)
    results.append(
        ("calc process: time(10,000) / time(10)", many_cpu / few_cpu, many_wall / few_wall, 2, "x")
    )

    print(f"median CPU time (wall time in brackets); calc run as: {how}")
    missed = 0
    for label, value, wall, target, unit in results:
        ok = value <= target
        missed += not ok
        verdict = "ok" if ok else "MISSED"
        figure = f"{value:8.2f} {unit:<2} ({wall:8.2f})"
        print(f"{label:<62} {figure}  target <= {target:g} {unit}  {verdict}")
    print(
        f"calc process: {few_cpu:.3f} s CPU ({few_wall:.3f} s wall) for 10 members, "
        f"{many_cpu:.3f} s CPU ({many_wall:.3f} s wall) for 10,000"
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
