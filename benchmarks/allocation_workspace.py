"""Benchmark the allocation pages for a large consortium (seeded; targets beside the figures).

A fresh SQLite database with N members (facts for two years), one offer they
all joined with solo prices, then through the app as a coordinator: the
workspace preview, three formulas side by side, saving the draft, finalizing
and the final allocation's page. Each figure is the median of a few runs.

Run: .venv/bin/python benchmarks/allocation_workspace.py — exits 1 when a target is missed.
"""

from __future__ import annotations

import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED = 2026
MEMBERS = 400
RUNS = 3
#: (what, target in seconds)
TARGETS = {
    "workspace preview": 1.0,
    "compare three formulas": 2.0,
    "save the draft": 2.0,
    "finalize": 1.5,
    "final allocation page": 1.0,
}


def _median(action: Callable[[], object], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    folder = tempfile.mkdtemp(prefix="cs-bench-alloc-")
    os.environ["COSTSHARE_INSTANCE_PATH"] = folder
    from config import TestConfig
    from costshare import create_app, migrate
    from costshare.allocations.services import find
    from costshare.db import get_session
    from tests.factories import PASSWORD, create_member, create_offer, create_user

    url = f"sqlite:///{folder}/bench.db"
    migrate.upgrade("head", database_url=url)
    app = create_app(TestConfig(url))
    rng = random.Random(SEED)
    with app.app_context():
        session = get_session()
        members = []
        for n in range(MEMBERS):
            fte = rng.randint(300, 60_000)
            members.append(
                create_member(
                    session,
                    code=f"B{n:04d}",
                    facts={
                        (2025, "fte"): fte,
                        (2026, "fte"): fte + 100,
                        (2026, "budget"): fte * 40,
                    },
                )
            )
        solo = {m: str(Decimal(4000 + rng.randint(0, 90_000))) for m in members}
        offer = create_offer(
            session,
            pricing={
                "pricing": {
                    "kind": "list_discount",
                    "tiers": [{"min_members": 10, "discount": "0.2"}],
                },
                "surcharge": "0.02",
            },
            joined=members,
            solo=solo,
        )
        user = create_user(session, "coordinator", email="bench@example.org")
        session.commit()
        offer_id, email = offer.id, user.email

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    workspace = f"/allocations/offers/{offer_id}/1"
    page = client.get(workspace).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    def ok(response) -> None:
        assert response.status_code in (200, 302), response.status_code

    form = {
        "csrf_token": csrf,
        "action": "save",
        "choice": "preset:csu-fte-equal",
        "components-0-kind": "attribute",
        "components-0-attribute": "fte",
        "components-0-weight": "90",
        "components-1-kind": "equal",
        "components-1-weight": "10",
        "cap": "solo_price",
    }
    figures = {
        "workspace preview": _median(
            lambda: ok(client.get(f"{workspace}?choice=preset:csu-fte-equal"))
        ),
        "compare three formulas": _median(
            lambda: ok(
                client.get(
                    f"{workspace}?compare=preset:equal&compare=preset:csu-fte-equal"
                    "&compare=preset:orbis-cascade-ebooks"
                )
            )
        ),
        "save the draft": _median(lambda: ok(client.post(workspace, data=form))),
    }
    with app.app_context():
        draft = find(get_session(), offer_id, 1, "draft")
        draft_id, version = draft.id, draft.version
    start = time.perf_counter()
    ok(
        client.post(
            f"/allocations/{draft_id}/finalize", data={"csrf_token": csrf, "version": version}
        )
    )
    figures["finalize"] = time.perf_counter() - start
    figures["final allocation page"] = _median(lambda: ok(client.get(f"/allocations/{draft_id}")))

    missed = 0
    print(f"{MEMBERS} members, median of {RUNS} runs (finalize: one run)")
    for what, seconds in figures.items():
        target = TARGETS[what]
        verdict = "ok" if seconds <= target else "MISSED"
        missed += seconds > target
        print(
            f"  {what:<26} {seconds * 1000:8.0f} ms   target ≤ {target * 1000:.0f} ms   {verdict}"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
