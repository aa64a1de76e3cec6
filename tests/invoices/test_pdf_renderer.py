"""The batch PDF renderer: same look as a plain WeasyPrint call, order kept, pages per document.

`costshare.pdf` relies on two WeasyPrint internals to drop user-agent rules our
documents never use: the private `HTML._ua_stylesheets` hook and the text of
`weasyprint.html.UA`, one rule a line. The first tests fail loudly when a
WeasyPrint upgrade changes either; fix `costshare.pdf` before upgrading.
"""

from __future__ import annotations

import io
import itertools
import threading

from pypdf import PdfReader

from costshare import pdf
from tests.invoices.test_pdfs import pdf_text


def test_weasyprint_still_has_the_user_agent_hook_and_rules_the_lean_renderer_edits() -> None:
    from weasyprint import HTML
    from weasyprint.html import UA, UA_FORM_STYLESHEET, UA_STYLESHEET

    html = HTML(string="<p>x</p>")
    assert callable(getattr(HTML, "_ua_stylesheets", None))
    assert html._ua_stylesheets() == [UA_STYLESHEET]
    assert html._ua_stylesheets(forms=True) == [UA_STYLESHEET, UA_FORM_STYLESHEET]
    heads = [line.strip().split("{", 1)[0].strip() for line in UA.splitlines()]
    for head in (*pdf.UA_DROPPED, *pdf.UA_SCOPED):
        assert heads.count(head) == 1, f"WeasyPrint's user-agent stylesheet changed: {head}"
    lean_heads = [
        line.strip().split("{", 1)[0].strip() for line in pdf.lean_user_agent_css(UA).splitlines()
    ]
    assert not set(pdf.UA_DROPPED) & set(lean_heads)
    assert "li::marker" in lean_heads and "::marker" not in lean_heads
    # Nothing else goes but the counter styles (passed on as WeasyPrint read them).
    counter_styles = [head for head in heads if head.startswith("@counter-style")]
    assert counter_styles and not [h for h in lean_heads if h.startswith("@counter-style")]
    assert len(lean_heads) == len(heads) - len(pdf.UA_DROPPED) - len(counter_styles)


def test_rendering_goes_through_the_lean_user_agent_stylesheet() -> None:
    calls = []
    lean_class = pdf.html_class()

    class Spy(lean_class):  # type: ignore[misc, valid-type]
        def _ua_stylesheets(self, forms: bool = False) -> list:
            sheets = super()._ua_stylesheets(forms)
            calls.append(sheets)
            return sheets

    Spy(string="<p>x</p>").render()
    assert calls, "WeasyPrint no longer asks HTML._ua_stylesheets for its stylesheets"
    from weasyprint.html import UA_STYLESHEET

    assert UA_STYLESHEET not in calls[0]


def sample_invoice_html(lines: int) -> str:
    """An invoice of `lines` shares, to a Chinese member, with the logo (needs a request)."""
    import datetime as dt
    from decimal import Decimal

    from costshare.invoices.documents import InvoiceDoc, LineDoc, Part, Party

    share = Decimal("12345.67")
    line = LineDoc(
        position=1,
        kind="share",
        description="Atlas Science Citation Index 2026 — Atlas Research Analytics: your share",
        term="2026-01-01 – 2026-12-31",
        source_amount=share,
        net=share,
        tax_rate=Decimal("0.06"),
        tax=Decimal("740.74"),
        gross=share + Decimal("740.74"),
        formula="90 % FTE, 10 % equal: 90 % by FTE + 10 % equal part",
        parts=[
            Part("By FTE (90 %)", Decimal("11111.10"), Decimal(34932), "FTE"),
            Part("Equal part (10 %)", Decimal("1234.57")),
        ],
        amount=share,
        surcharge=Decimal(0),
        solo_price=Decimal("14567.89"),
        savings=Decimal("2222.22"),
        savings_pct=Decimal("0.1525"),
    )
    net = share * lines
    tax = Decimal("740.74") * lines
    doc = InvoiceDoc(
        kind="invoice",
        title="Invoice",
        number="CS-2026-0042",
        draft=False,
        void=False,
        issue_date=dt.date(2026, 1, 15),
        due_date=dt.date(2026, 2, 14),
        year=2026,
        currency="EUR",
        source_currency=None,
        exchange_rate=None,
        exchange_rate_date=None,
        seller=Party(
            "Pearl River Library Consortium", ["135 Xingang West Road"], "CN-1", "b@x.org"
        ),
        buyer=Party(
            "中山大学图书馆 Sun Yat-sen University Library",
            ["Guangzhou"],
            "12X",
            "f@x.org",
            code="SYSU",
        ),
        lines=[line] * lines,
        net=net,
        tax=tax,
        gross=net + tax,
        source_total=net,
        tax_notes=[],
        bank_details="Bank of Guangzhou · IBAN CN00 0000",
        logo="logo.svg",
        notes=None,
        tax_rates=[(Decimal("0.06"), net, tax)],
    )
    return pdf.render_html("pdf/invoice.html", {"doc": doc})


def boxes(document) -> list[tuple]:
    """Every box of every page: its kind, place and size (rounded to 0.01 px)."""
    found = []

    def walk(box) -> None:
        found.append(
            (
                type(box).__name__,
                getattr(box, "text", None),
                *(
                    round(getattr(box, a), 2)
                    for a in ("position_x", "position_y", "width", "height")
                ),
            )
        )
        for child in getattr(box, "children", []):
            walk(child)

    for page in document.pages:
        walk(page._page_box)
    return found


def test_the_lean_renderer_lays_out_an_invoice_exactly_as_plain_weasyprint(app) -> None:
    from weasyprint import HTML

    with app.test_request_context():
        page = sample_invoice_html(lines=14)  # two pages
    plain = HTML(string=page, base_url=pdf.base_url(), url_fetcher=pdf.StaticOnlyFetcher())
    expected = plain.render(stylesheets=[pdf.stylesheet()])
    got = pdf._renderer().render(page)
    assert len(got.pages) == len(expected.pages) == 2
    assert boxes(got) == boxes(expected)


def test_a_pool_keeps_the_order_and_numbers_pages_per_document(app) -> None:
    long = "<p>" + "word " * 4000 + "</p>"
    pages = [f"<p>document {n}</p>" if n != 3 else long for n in range(8)]
    with app.test_request_context():
        pdfs = pdf.html_to_pdfs(pages, workers=2)
    assert len(pdfs) == 8
    for n, data in enumerate(pdfs):
        text = pdf_text(data)
        count = len(PdfReader(io.BytesIO(data)).pages)
        if n == 3:
            assert count >= 2 and f"Page 2 of {count}" in text
        else:
            assert count == 1 and f"document {n}" in text and "Page 1 of 1" in text


def test_a_threaded_process_renders_through_the_fork_server(app) -> None:
    """A web server runs threads: its workers come from the fork server, not a fork of it."""
    result: dict = {}

    def work() -> None:
        result["context"] = pdf._pool_context().get_start_method()
        result["pdfs"] = pdf.html_to_pdfs(
            [f"<p>from a thread {n}</p>" for n in range(4)], workers=2
        )

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert result["context"] == "forkserver"
    assert [f"from a thread {n}" in pdf_text(data) for n, data in enumerate(result["pdfs"])] == [
        True
    ] * 4


def test_chunks_cover_every_document_once_in_order_and_shrink_towards_the_end() -> None:
    for total, workers in [(1, 1), (19, 1), (45, 1), (200, 2), (49, 2), (1000, 8)]:
        bounds = pdf.chunk_bounds(total, workers)
        assert bounds[0][0] == 0 and bounds[-1][1] == total
        assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
        sizes = [stop - start for start, stop in bounds]
        assert max(sizes) <= pdf.CHUNK
        if workers > 1:
            assert sizes == sorted(sizes, reverse=True)
            assert min(sizes[:-1], default=pdf.MIN_CHUNK) >= pdf.MIN_CHUNK
            assert sizes[-1] == 1  # the cores finish within one document of each other


def test_a_batch_leaves_the_garbage_collector_as_it_found_it(app) -> None:
    import gc

    with app.test_request_context():
        assert gc.isenabled()
        pdf.html_to_pdfs(["<p>one</p>", "<p>two</p>"])
        assert gc.isenabled()
        gc.disable()
        try:
            pdf.html_to_pdfs(["<p>one</p>"])
            assert not gc.isenabled()
        finally:
            gc.enable()


def test_a_threaded_process_keeps_its_garbage_collector_while_rendering(app) -> None:
    """Other threads of a web worker must not lose the collector while a PDF renders."""
    import gc
    import threading

    seen = []
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    original = pdf._write_split

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return original(*args, **kwargs)

    try:
        pdf._write_split = watched
        with app.test_request_context():
            pdf.html_to_pdfs(["<p>one</p>"])
    finally:
        pdf._write_split = original
        stop.set()
        other.join()
    assert seen == [True]


def test_the_lean_stylesheet_is_read_without_a_warning(caplog) -> None:
    """WeasyPrint's counter styles come with it, not read again from its stylesheet."""
    import logging

    from weasyprint import CSS
    from weasyprint.html import UA, UA_COUNTER_STYLE

    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        CSS(string=pdf.lean_user_agent_css(UA), counter_style=UA_COUNTER_STYLE)
    assert caplog.records == []
    assert {"disc", "decimal", "lower-alpha"} <= set(UA_COUNTER_STYLE)


def test_a_pool_worker_collects_garbage_only_past_its_budget(app, monkeypatch) -> None:
    """A worker leaves its chunks' reference cycles to its exit, up to a bounded number."""
    import gc

    collections = []
    monkeypatch.setattr(pdf.gc, "collect", lambda: collections.append(1) or 0)
    gc.disable()
    try:
        pdf._worker.documents = 0
        with app.test_request_context():
            pdf._batch(["<p>one</p>", "<p>two</p>"])
            assert not gc.isenabled() and collections == []
            assert pdf._worker.documents == 2
            pdf._worker.documents = pdf.WORKER_GARBAGE_DOCUMENTS - 1
            pdf._batch(["<p>one</p>", "<p>two</p>"])
        assert collections == [1] and pdf._worker.documents == 2
        assert not gc.isenabled()
    finally:
        pdf._worker.documents = None
        gc.enable()


def test_a_pool_worker_starts_without_walking_what_it_inherited(monkeypatch) -> None:
    """A forked worker freezes the parent's objects instead of collecting them (some 0.1 s)."""
    import gc

    collections = []
    monkeypatch.setattr(pdf.gc, "collect", lambda: collections.append(1) or 0)
    try:
        pdf._worker_started()
        assert collections == []
        assert gc.get_freeze_count() > 0 and not gc.isenabled()
        assert pdf._worker.documents == 0
    finally:
        pdf._worker.documents = None
        gc.unfreeze()
        gc.enable()
