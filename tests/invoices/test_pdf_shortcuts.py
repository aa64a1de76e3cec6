"""Two shortcuts of the batch renderer, and that a reader can see neither.

- Computed CSS values shared between the documents of a renderer (`costshare.pdf_styles`);
- PDF templates read as XHTML with expat instead of WeasyPrint's HTML parser
  (`costshare.pdf.read_xhtml`).

The first tests fail loudly when a WeasyPrint upgrade changes what the shortcuts rely
on; fix `costshare.pdf_styles` or `costshare.pdf` before upgrading. The others check
that every kind of document the app prints, rendered one after another by one renderer
(so later ones start from values earlier ones computed), is byte for byte what
WeasyPrint writes for it alone, and that both parsers read it to the same tree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
from decimal import Decimal

import pytest
from sqlalchemy import select

from costshare import pdf, pdf_styles
from tests.invoices.test_pdf_renderer import sample_invoice_html

#: The constructor parameters `pdf_styles` passes on, as WeasyPrint 70 declares them.
COMPUTED_PARAMETERS = [
    "self",
    "parent_style",
    "cascaded",
    "pseudo_type",
    "root_style",
    "base_url",
    "font_config",
    "initial_page_sizes",
]


def test_weasyprint_still_has_the_style_classes_the_sharing_extends() -> None:
    from weasyprint import css

    pdf_styles.install()
    computed, anonymous = css.ComputedStyle, css.AnonymousStyle
    # WeasyPrint's own classes, after the sharing mixin in the bases.
    base_computed, base_anonymous = computed.__mro__[2], anonymous.__mro__[2]
    assert computed.__mro__[1] is anonymous.__mro__[1] is pdf_styles._Sharing
    assert computed.__name__ == "SharingComputedStyle", "the sharing classes are not installed"
    assert base_computed.__name__ == "ComputedStyle" and issubclass(base_computed, dict)
    assert base_anonymous.__name__ == "AnonymousStyle" and issubclass(base_anonymous, dict)
    assert list(inspect.signature(base_computed.__init__).parameters) == COMPUTED_PARAMETERS
    assert list(inspect.signature(base_anonymous.__init__).parameters) == ["self", "parent_style"]
    for base in (base_computed, base_anonymous):
        assert "__missing__" in vars(base) and "copy" in vars(base)
    # WeasyPrint makes every style through these module names.
    source = inspect.getsource(css)
    assert "ComputedStyle(" in source and "AnonymousStyle(self" in source


@pytest.fixture(scope="module")
def documents(app):
    """HTML of every kind of PDF the app prints, from the demo's issued billing run."""
    from sqlalchemy.orm import Session

    from costshare.db import get_engine
    from costshare.invoices.documents import invoice_document
    from costshare.invoices.models import Invoice
    from costshare.invoices.services import BillingSettings
    from costshare.members.models import Member
    from costshare.statements.services import consortium_report, funder_statement, member_statement
    from tests.invoices.demo_support import seed_billing_demo

    connection = get_engine(app).connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    today = dt.date(2026, 3, 1)
    try:
        with app.test_request_context():
            seed_billing_demo(session)
            settings = BillingSettings.from_config(app.config)
            sysu = session.scalar(select(Member).where(Member.code == "SYSU"))
            invoices = list(session.scalars(select(Invoice).order_by(Invoice.id)))
            docs = [invoice_document(invoice) for invoice in invoices]
            invoice = next(d for d in docs if d.kind == "invoice")
            variants = [
                dataclasses.replace(invoice, draft=True, number=None),
                dataclasses.replace(invoice, void=True),
                dataclasses.replace(
                    invoice,
                    source_currency="USD",
                    exchange_rate=Decimal("0.9213"),
                    exchange_rate_date=dt.date(2026, 1, 10),
                ),
            ]
            pages = [pdf.render_html("pdf/invoice.html", {"doc": doc}) for doc in docs + variants]
            pages.append(sample_invoice_html(lines=14))  # two pages
            pages.append(
                pdf.render_html(
                    "pdf/statement.html",
                    {"doc": member_statement(session, settings, sysu, 2026), "today": today},
                )
            )
            pages.append(
                pdf.render_html(
                    "pdf/consortium.html",
                    {"doc": consortium_report(session, settings, 2026), "today": today},
                )
            )
            pages.append(
                pdf.render_html(
                    "pdf/funder.html",
                    {"doc": funder_statement(session, settings, 2026), "today": today},
                )
            )
    finally:
        session.close()
        outer.rollback()
        connection.close()
    return pages


def tree(element) -> list[tuple]:
    """Every element of a tree in order: tag, attributes, text and tail."""
    found = [(element.tag, sorted(element.attrib.items()), element.text, element.tail)]
    for child in element:
        found += tree(child)
    return found


def test_a_document_read_as_xhtml_holds_what_weasyprint_sets_when_it_parses(app) -> None:
    from weasyprint import HTML

    with app.test_request_context():
        page = sample_invoice_html(lines=1)
    root = pdf.read_xhtml(page)
    assert root is not None
    fetcher = pdf.StaticOnlyFetcher()
    parsed = HTML(string=page, base_url=pdf.base_url(), url_fetcher=fetcher)
    built = pdf.html_class().from_tree(root, pdf.base_url(), fetcher)
    assert sorted(vars(built)) == sorted(vars(parsed)), "HTML.__init__ sets other attributes now"
    assert (built.base_url, built.media_type) == (parsed.base_url, parsed.media_type)
    assert tree(built.etree_element) == tree(parsed.etree_element)


def test_both_parsers_read_every_pdf_template_to_the_same_tree(documents) -> None:
    import tinyhtml5

    read = 0
    for page in documents:
        root = pdf.read_xhtml(page)
        if root is None:
            assert "<svg" in page, "a PDF template is not well-formed XHTML any more"
            continue
        read += 1
        assert tree(root) == tree(tinyhtml5.parse(page, namespace_html_elements=False))
    assert read >= 7  # every invoice and credit note; statements hold SVG charts


def test_what_xhtml_cannot_say_goes_to_the_html_parser() -> None:
    body = "<body><p>x</p></body></html>"
    head = "<!DOCTYPE html><html><head><title>t</title></head>"
    assert pdf.read_xhtml(head + body) is not None
    for page in (
        head + "<body><p>x<br></p></body></html>",  # not well-formed XML
        head + "<body><p>&nbsp;</p></body></html>",  # an HTML entity
        head + "<body><svg><rect/></svg></body></html>",  # foreign content
        head + "<body><!-- note --><p>x</p></body></html>",  # a comment
        head + '<body><p title="two\nlines">x</p></body></html>',  # a line break in a value
        "<!DOCTYPE html><html><body><p>x</p></body></html>",  # no head
        head + "<body><p>\x0c</p></body></html>",  # a character XML does not allow
    ):
        assert pdf.read_xhtml(page) is None, page


def unshared(page: str, fonts) -> bytes:
    """The PDF WeasyPrint writes for `page` on its own, every value computed afresh."""
    html = pdf.html_class()(
        string=page, base_url=pdf.base_url(), url_fetcher=pdf.StaticOnlyFetcher()
    )
    return html.render(font_config=fonts, stylesheets=[pdf.stylesheet()]).write_pdf()


def test_every_document_is_byte_for_byte_what_weasyprint_writes_without_sharing(
    documents,
) -> None:
    assert len(documents) >= 10
    renderer = pdf._Renderer()
    expected = [unshared(page, renderer.fonts) for page in documents]
    assert not renderer.styles.entries, "a render outside the renderer shared its values"
    # Twice over, the second time backwards: each document meets values computed by others.
    counts = []
    for order in (documents, documents[::-1]):
        for page in order:
            got = renderer.render(page).write_pdf()
            assert got == expected[documents.index(page)]
        counts.append(len(renderer.styles.entries))
    # The second pass found every key it needed: a document's keys do not grow the cache.
    assert counts[0] > 0 and counts[1] == counts[0]


def test_documents_of_one_template_reuse_the_same_keys(app) -> None:
    renderer = pdf._Renderer()
    with app.test_request_context():
        first, second = sample_invoice_html(lines=2), sample_invoice_html(lines=5)
    renderer.render(first)
    keys = set(renderer.styles.entries)
    renderer.render(second)
    assert set(renderer.styles.entries) == keys, "a document's keys differ between documents"
    assert len(keys) > 50


def test_a_copied_style_never_shares(app) -> None:
    renderer = pdf._Renderer()
    with app.test_request_context():
        page = sample_invoice_html(lines=1)
    document = renderer.render(page)
    style = document.pages[0]._page_box.children[0].style
    assert style._shared is not None
    copy = style.copy()
    assert copy._shared is None and copy._shared_key is None
    assert copy.anonymous_style._shared is None


def test_the_entries_are_bounded(monkeypatch) -> None:
    monkeypatch.setattr(pdf_styles, "LIMIT", 3)
    shared = pdf_styles.Shared()
    for n in range(10):
        shared.entry(("key", n), None)
        shared.cascaded_key({"width": ([n], (1, None, [0, 0, 0]))})
    assert len(shared.entries) <= 3 and len(shared.frozen) <= 3


def test_a_key_tells_values_apart_by_type_and_keeps_what_it_names_by_identity() -> None:
    shared = pdf_styles.Shared()
    weight = (2, float("inf"), (0, 1, 0))
    one, one_float = (
        shared.cascaded_key({"x": (1, weight)}),
        shared.cascaded_key({"x": (1.0, weight)}),
    )
    assert one != one_float
    assert shared.cascaded_key({"x": ((1, "a"), weight)}) == shared.cascaded_key(
        {"x": ((1, "a"), weight)}
    )
    unhashable = [{"a": 1}]
    key = shared.cascaded_key({"x": (unhashable, weight)})
    assert key == shared.cascaded_key({"x": (unhashable, weight)})
    assert key != shared.cascaded_key({"x": ([{"a": 1}], weight)})  # another object
    assert any(value is unhashable for value, _ in shared.frozen.values())  # kept alive
