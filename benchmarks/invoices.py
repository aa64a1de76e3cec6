"""Batch invoice PDFs: a 200-invoice run of the demo layout, against one WeasyPrint call each.

Each invoice has 6 lines with their explanations, the logo, CJK and Latin
names, and fits one page. The one-call-per-invoice way is timed on samples
of the same invoices in the same run, in rounds that alternate with the
batch; the medians are compared. The batch (`costshare.pdf.render_many`:
one renderer per process — stylesheets, fonts, images, and the CSS values
computed for earlier invoices — the template read as XHTML, lay out each,
write a chunk of documents as one PDF, split; a process pool over the cores,
forked warm; workers leave WeasyPrint's reference cycles to their exit)
renders all 200. Every batch PDF is checked to be one page reading
"Page 1 of 1".

Targets: batch ≤ 0.1 s per invoice, and ≥ 4× faster than one call per invoice.
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

INVOICES = 200
SAMPLE = 8  # invoices rendered one WeasyPrint call each, per round, for the comparison
ROUNDS = 3  # the figures compared are the medians of the rounds
TARGET_SECONDS = 0.1
TARGET_SPEEDUP = 4.0
NAMES = [
    "中山大学图书馆 Sun Yat-sen University Library",
    "华南理工大学图书馆 South China University of Technology Library",
    "暨南大学图书馆 Jinan University Library",
    "Universidade de Macau Biblioteca · 澳門大學圖書館",
    "Southern Medical University Hospital Library",
    "Pearl River Arts College Library",
]
RESOURCES = [
    ("Atlas Science Citation Index 2026", "Atlas Research Analytics"),
    ("Helix Research Data Navigator 2026", "Helix Data Services"),
    ("Lotus Academic E-books 2026–2028, year 1 of 3", "Lotus Academic Press"),
    ("Meridian Journals Complete 2026", "Meridian Scientific Publishing"),
    ("Northwind Business Source 2026", "Northwind Information"),
    ("Orbis Humanities Archive 2026", "Orbis Digital"),
]


def documents(rng: random.Random) -> list:
    from costshare.invoices.documents import InvoiceDoc, LineDoc, Part, Party

    seller = Party(
        "Pearl River Library Consortium",
        ["135 Xingang West Road", "Guangzhou 510275", "China"],
        "CN-91440101-PRLC",
        "billing@prlc.example.org",
    )
    docs = []
    for n in range(1, INVOICES + 1):
        lines = []
        for position, (title, vendor) in enumerate(RESOURCES, start=1):
            equal = Decimal(rng.randint(1000_00, 4000_00)) / 100
            fte = Decimal(rng.randint(5000_00, 40000_00)) / 100
            amount = equal + fte
            solo = (amount * Decimal("1.18")).quantize(Decimal("0.01"))
            tax = (amount * Decimal("0.06")).quantize(Decimal("0.01"))
            lines.append(
                LineDoc(
                    position=position,
                    kind="share",
                    description=f"{title} — {vendor}: your share",
                    term="2026-01-01 – 2026-12-31",
                    source_amount=amount,
                    net=amount,
                    tax_rate=Decimal("0.06"),
                    tax=tax,
                    gross=amount + tax,
                    formula="90 % FTE, 10 % equal: 90 % by FTE + 10 % equal part; "
                    "cap: no more than the solo price",
                    parts=[
                        Part("By FTE (90 %)", fte, Decimal(rng.randint(2000, 60000)), "FTE"),
                        Part("Equal part (10 %)", equal),
                    ],
                    amount=amount,
                    surcharge=Decimal(0),
                    solo_price=solo,
                    savings=solo - amount,
                    savings_pct=((solo - amount) / solo).quantize(Decimal("0.0001")),
                )
            )
        net = sum((line.net for line in lines), Decimal(0))
        tax = sum((line.tax for line in lines), Decimal(0))
        docs.append(
            InvoiceDoc(
                kind="invoice",
                title="Invoice",
                number=f"CS-2026-{n:04d}",
                draft=False,
                void=False,
                issue_date=dt.date(2026, 1, 15),
                due_date=dt.date(2026, 2, 14),
                year=2026,
                currency="EUR",
                source_currency=None,
                exchange_rate=None,
                exchange_rate_date=None,
                seller=seller,
                buyer=Party(
                    NAMES[n % len(NAMES)],
                    [f"{n} Library Road", f"Guangzhou 5100{n % 100:02d}", "China"],
                    f"12440000{n:08d}X",
                    f"finance{n}@example.org",
                    code=f"M{n:03d}",
                ),
                lines=lines,
                net=net,
                tax=tax,
                gross=net + tax,
                source_total=net,
                tax_notes=[],
                bank_details="Bank of Guangzhou · IBAN CN00 0000 0000 0000 0000 · SWIFT GZCBCNBS",
                logo="logo.svg",
                notes=None,
                tax_rates=[(Decimal("0.06"), net, tax)],
            )
        )
    return docs


def one_call_each(htmls: list[str]) -> float:
    """Seconds per invoice the plain way: one WeasyPrint call (and stylesheet) per invoice."""
    from weasyprint import CSS, HTML

    from costshare.pdf import STYLESHEET, StaticOnlyFetcher, base_url

    start = time.perf_counter()
    for html in htmls:
        HTML(string=html, base_url=base_url(), url_fetcher=StaticOnlyFetcher()).write_pdf(
            stylesheets=[CSS(filename=str(STYLESHEET))]
        )
    return (time.perf_counter() - start) / len(htmls)


def main() -> int:
    from pypdf import PdfReader

    from config import TestConfig
    from costshare import create_app
    from costshare.pdf import html_to_pdfs, render_html

    instance = tempfile.mkdtemp(prefix="bench-invoices-")
    os.environ.setdefault("COSTSHARE_INSTANCE_PATH", instance)
    app = create_app(TestConfig(f"sqlite:///{instance}/bench.db"))
    docs = documents(random.Random(2026))
    load_before = os.getloadavg()[0]
    with app.test_request_context():
        htmls = [render_html("pdf/invoice.html", {"doc": doc}) for doc in docs]
    one_call_each(htmls[:1])  # warm up: imports, fonts

    start = time.perf_counter()
    html_to_pdfs(htmls, workers=1)
    one_core = (time.perf_counter() - start) / INVOICES
    # Rounds alternate the two ways, so a slow spell of a shared machine weighs on both.
    one_calls, batches = [], []
    for round_ in range(ROUNDS):
        one_calls.append(one_call_each(htmls[round_ * SAMPLE : (round_ + 1) * SAMPLE]))
        start = time.perf_counter()
        pdfs = html_to_pdfs(htmls)  # what the app does: both cores for a batch this size
        batches.append((time.perf_counter() - start) / INVOICES)
    one_call, batch = statistics.median(one_calls), statistics.median(batches)
    load_after = os.getloadavg()[0]

    numbering_ok = True
    for index, data in enumerate(pdfs):
        reader = PdfReader(io.BytesIO(data))
        if len(reader.pages) != 1:
            numbering_ok = False
        elif index % 20 == 0:
            text = reader.pages[0].extract_text()
            numbering_ok &= "Page 1 of 1" in text and docs[index].number in text
    speedup = one_call / batch
    ok_time = batch <= TARGET_SECONDS
    ok_speed = speedup >= TARGET_SPEEDUP
    size = sum(len(p) for p in pdfs) / len(pdfs) / 1024
    print(f"invoices in the run              {INVOICES} (6 lines each, logo, one page)")
    print(
        f"cores; load average before/after {os.cpu_count()}; {load_before:.1f} / {load_after:.1f}"
    )
    print(
        f"one WeasyPrint call per invoice  {one_call:.3f} s per invoice "
        f"(median of {ROUNDS} rounds of {SAMPLE}: {', '.join(f'{t:.3f}' for t in one_calls)})"
    )
    gain = one_call / one_core
    print(f"batch on one core                {one_core:.3f} s per invoice ({gain:.1f}×)")
    print(
        f"batch (render_many, all cores)   {batch:.3f} s per invoice   "
        f"target ≤ {TARGET_SECONDS} s   {'ok' if ok_time else 'MISSED'}"
        f"   (rounds: {', '.join(f'{t:.3f}' for t in batches)})"
    )
    print(
        f"speed-up over one call each      {speedup:.1f}×                target ≥ "
        f"{TARGET_SPEEDUP:.0f}×      {'ok' if ok_speed else 'MISSED'}"
    )
    print(
        f"page x of y per invoice          {'intact' if numbering_ok else 'BROKEN'}"
        "                 (every PDF one page, 'Page 1 of 1')"
    )
    print(f"average PDF size                 {size:.0f} KiB")
    return 0 if ok_time and ok_speed and numbering_ok else 1


if __name__ == "__main__":
    sys.exit(main())
