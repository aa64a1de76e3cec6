"""HTML → PDF with WeasyPrint: `render_pdf(template, context) -> bytes`, and many at once.

Templates live in `templates/pdf/` and receive plain data (dataclasses), never
ORM objects. They may load only our own static files (`costshare/static/`):
the URL fetcher refuses every other URL, so a member name or address that
happens to hold markup can never make the server fetch anything.

Speed. One WeasyPrint call per document parses the stylesheet, loads the
fonts, lays the document out, draws it and embeds (subsets) the fonts it
used. `render_many` pays for the fixed part once:

- each process (each thread) keeps one renderer: the parsed stylesheet, one
  font configuration, the image cache, and WeasyPrint's user-agent stylesheet
  without the rules for footnotes, notes and list markers, which our documents
  never use but which cost a computed style for every element (see
  `lean_user_agent_css`; `tests/invoices/test_pdf_renderer.py` fails loudly
  if WeasyPrint's internals this relies on change), and the CSS values computed
  for the documents it laid out: the next document of the same template starts
  from them and computes almost none (`costshare.pdf_styles`);
- the PDF templates are well-formed XHTML, read with expat instead of
  WeasyPrint's HTML parser (written in Python), to the same tree (`read_xhtml`);
- it lays out each document on its own (so "page x of y" counts per
  document), writes all their pages as ONE PDF (fonts subset once) and splits
  that PDF back into one file per document with pypdf;
- a large batch is cut in chunks rendered by a process pool over the cores.
  A process running no other thread forks the workers from itself, warm (the
  fonts and stylesheet already loaded); a threaded one (a web server) must not
  fork and uses a fork server that preloads WeasyPrint instead;
- WeasyPrint's documents are reference cycles that only Python's garbage
  collector frees. A pool worker leaves them to its exit (up to a budget), and
  any other process pauses the collector while a chunk renders.
"""

from __future__ import annotations

import gc
import io
import mimetypes
import os
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from functools import lru_cache
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

from flask import render_template

from costshare.pdf_styles import Shared

STATIC = Path(__file__).resolve().parent / "static"
#: The stylesheet every PDF gets, parsed once per process.
STYLESHEET = Path(__file__).resolve().parent.parent / "templates" / "pdf" / "documents.css"
#: Below this many documents per core, a process pool costs more than it saves.
DOCUMENTS_PER_WORKER = 24
#: The most documents written as one PDF: more cost memory and garbage collection time.
CHUNK = 20
#: The fewest documents a pool worker gets at once. A chunk costs some 7 ms beyond its
#: documents (fonts subset, split, sent back), less than a core idling at the end of a run.
MIN_CHUNK = 1
#: WeasyPrint's user-agent rules our documents never use, yet which cost a computed style
#: for every element (a universal pseudo-element) or a look-up on every page. They are
#: dropped from the user-agent stylesheet of our PDFs; `tests/invoices/test_pdf_renderer.py`
#: fails if WeasyPrint's stylesheet stops having exactly these lines.
UA_DROPPED = (
    "::footnote-call",
    "::footnote-marker",
    "::note-call",
    "::note-marker",
    "::note-callback",
    "@footnote",
    "@note-area",
)
#: `::marker` matters only for list items: `li` is the only list item in WeasyPrint's stylesheet.
UA_SCOPED = {"::marker": "li::marker"}

Progress = Callable[[int, int], None]


class StaticOnlyFetcher:
    """Serve `file:` URLs inside costshare/static; refuse everything else."""

    _fail_on_errors = False  # WeasyPrint reads this: a refused URL is skipped, not fatal

    def __call__(self, url: str) -> Any:
        from weasyprint.urls import URLFetcherResponse

        path = static_path(url)
        if path is None:
            raise ValueError(f"PDFs may load only costshare's own static files, not {url!r}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})


def static_path(url: str) -> Path | None:
    """Return the static file a URL names, or None when it names anything else."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = Path(unquote(parts.path)).resolve()
    if not path.is_relative_to(STATIC) or not path.is_file():
        return None
    return path


def base_url() -> str:
    """Return the URL relative links in PDF templates resolve against (the static folder)."""
    return STATIC.as_uri() + "/"


@lru_cache(maxsize=4)
def _stylesheet(mtime: float) -> Any:
    from weasyprint import CSS

    return CSS(filename=str(STYLESHEET), url_fetcher=StaticOnlyFetcher())


def stylesheet() -> Any:
    return _stylesheet(STYLESHEET.stat().st_mtime)


def lean_user_agent_css(ua: str) -> str:
    """Return WeasyPrint's user-agent stylesheet without the rules in `UA_DROPPED`.

    Works line by line: WeasyPrint's stylesheet has each of these rules on a line of its own.
    Its @counter-style rules go too: WeasyPrint has read them into the counter styles the
    lean stylesheet is given, and reading `disc` or `decimal` again is refused with a warning.
    """
    lines = []
    for line in ua.splitlines():
        head = line.strip().split("{", 1)[0].strip()
        if head in UA_DROPPED or head.startswith("@counter-style"):
            continue
        if head in UA_SCOPED:
            line = line.replace(head, UA_SCOPED[head], 1)
        lines.append(line)
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=1)
def html_class() -> type:
    """Return WeasyPrint's `HTML` with the lean user-agent stylesheet (same look, less work)."""
    import cssselect2
    from weasyprint import CSS, HTML
    from weasyprint.html import UA, UA_COUNTER_STYLE

    lean = CSS(string=lean_user_agent_css(UA), counter_style=UA_COUNTER_STYLE)

    class LeanHTML(HTML):
        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            return [lean, *super()._ua_stylesheets(forms)[1:]]

        @classmethod
        def from_tree(cls, root: Any, base_url: str, url_fetcher: Any) -> LeanHTML:
            """Return the document of an element tree already read (see `read_xhtml`).

            Sets what `HTML.__init__` sets once it has parsed its source;
            `tests/invoices/test_pdf_shortcuts.py` fails if WeasyPrint's list changes.
            """
            html = cls.__new__(cls)
            html.base_url = base_url
            html.url_fetcher = url_fetcher
            html.media_type = "print"
            html.wrapper_element = cssselect2.ElementWrapper.from_html_root(
                root, content_language=None
            )
            html.etree_element = html.wrapper_element.etree_element
            return html

    return LeanHTML


#: What `read_xhtml` leaves to the HTML parser: comments (the HTML parser keeps them), foreign
#: content (it puts SVG charts in their namespace), a base URL of the document's own, and
#: entity declarations (which only XML expands, and which no template writes).
NOT_XHTML = re.compile(r"<svg|<base|<math|<!--|<!ENTITY", re.IGNORECASE)
#: An attribute value holding a line break or tab: XML reads it as a space, HTML keeps it.
BROKEN_ATTRIBUTE = re.compile(r'="[^"]*[\n\r\t][^"]*"')


def read_xhtml(page: str) -> Any | None:
    """Return the element tree of `page`, read as XML; None when the HTML parser must read it.

    The PDF templates are well-formed XHTML, which the expat parser reads ~40 times
    faster than WeasyPrint's HTML parser (written in Python) reads the same text, to
    the same tree once two things are moved where the HTML parser puts them: the
    whitespace between `<html>` and `<head>` (dropped) and after `</body>` (in the
    body). Anything else — text that is not well-formed XML, an SVG chart — goes to
    the HTML parser. `tests/invoices/test_pdf_shortcuts.py` checks that both read every
    PDF template to the same tree.
    """
    if NOT_XHTML.search(page) or BROKEN_ATTRIBUTE.search(page):
        return None
    try:
        # Our template's output (every value escaped, no entity declared): nothing to defuse.
        root = ElementTree.fromstring(page)  # noqa: S314
    except ElementTree.ParseError:
        return None
    children = list(root)
    if root.tag != "html" or [child.tag for child in children] != ["head", "body"]:
        return None
    root.text = None
    body = children[1]
    if body.tail:
        last = body[-1] if len(body) else None
        if last is None:
            body.text = (body.text or "") + body.tail
        else:
            last.tail = (last.tail or "") + body.tail
        body.tail = None
    return root


class _Renderer:
    """What the documents a thread renders share: fonts, images, HTML class, computed values."""

    def __init__(self) -> None:
        from weasyprint.text.fonts import FontConfiguration

        self.html = html_class()
        self.fonts = FontConfiguration()
        self.styles = Shared()
        self.fetcher = StaticOnlyFetcher()
        self.images: dict[str, Any] = {}  # our static files only (the fetcher sees to it)
        self.warm = False

    def render(self, page: str) -> Any:
        root = read_xhtml(page)
        if root is None:
            html = self.html(string=page, base_url=base_url(), url_fetcher=self.fetcher)
        else:
            html = self.html.from_tree(root, base_url(), self.fetcher)
        with self.styles.active():
            return html.render(
                font_config=self.fonts, stylesheets=[stylesheet()], cache=self.images
            )


_local = threading.local()


def _renderer() -> _Renderer:
    """Return this thread's renderer (WeasyPrint's font configuration is not for sharing)."""
    renderer = getattr(_local, "renderer", None)
    if renderer is None:
        renderer = _local.renderer = _Renderer()
    return renderer


def warm_up() -> None:
    """Load the stylesheet, the fonts and the logo once, before the documents come."""
    renderer = _renderer()
    if not renderer.warm:
        renderer.render('<p>Warm <b>up</b> 中文</p><img src="logo.svg" alt="">').write_pdf()
        renderer.warm = True


def render_html(template: str, context: dict[str, Any]) -> str:
    """Render a `templates/pdf/` template to HTML (needs an app context for the filters)."""
    return render_template(template, **context)


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    """Render one document to PDF bytes."""
    return render_many(template, [context])[0]


def render_many(
    template: str,
    contexts: Sequence[dict[str, Any]],
    progress: Progress | None = None,
    workers: int | None = None,
) -> list[bytes]:
    """Render one PDF per context, in order, much faster than one call each."""
    pages = [render_html(template, context) for context in contexts]
    return html_to_pdfs(pages, progress, workers)


def html_to_pdfs(
    pages: Sequence[str], progress: Progress | None = None, workers: int | None = None
) -> list[bytes]:
    """Turn HTML documents into one PDF each (layout each, write a chunk at once, split)."""
    total = len(pages)
    if total == 0:
        return []
    if workers is None:
        workers = min(os.cpu_count() or 1, total // DOCUMENTS_PER_WORKER)
    if workers < 2:
        results: list[bytes] = []
        for start, stop in chunk_bounds(total, 1):
            results.extend(_batch(list(pages[start:stop]), progress, start, total))
        return results
    slots: list[bytes] = []
    done = 0
    context = _pool_context()
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_started) as pool:
        futures = {
            pool.submit(_batch, list(pages[start:stop])): start
            for start, stop in chunk_bounds(total, workers)
        }
        chunks: dict[int, list[bytes]] = {}
        for future in as_completed(futures):
            pdfs = future.result()
            chunks[futures[future]] = pdfs
            done += len(pdfs)
            if progress:
                progress(done, total)
    for start in sorted(chunks):
        slots.extend(chunks[start])
    return slots


def chunk_bounds(total: int, workers: int) -> list[tuple[int, int]]:
    """Cut `total` documents into chunks: (start, stop) pairs, in order.

    A chunk is written as one PDF (fonts subset once) and its documents stay in memory
    until then, so chunks hold at most `CHUNK` documents. Over several workers they
    shrink towards the end (a share of what is left, never below `MIN_CHUNK`), so the
    cores finish together.
    """
    bounds = []
    start = 0
    while start < total:
        left = total - start
        size = CHUNK if workers < 2 else max(MIN_CHUNK, min(CHUNK, -(-left // (2 * workers))))
        bounds.append((start, min(total, start + size)))
        start += size
    return bounds


def _pool_context() -> Any:
    """Return how render workers start.

    A process running no other thread forks them from itself, after warming up its
    renderer: they start with the stylesheet parsed and the fonts loaded. A threaded
    process (a web server) must not fork; a fork server (single-threaded, started once
    per process with WeasyPrint imported) forks them instead, and each warms up.
    """
    if threading.active_count() == 1 and "fork" in get_all_start_methods():
        warm_up()
        return get_context("fork")
    context = get_context("forkserver")
    context.set_forkserver_preload(["costshare.pdf", "weasyprint", "pypdf"])
    return context


#: A pool worker collects garbage only once its documents since the last collection
#: reach this many (WeasyPrint leaves about 1.3 MB of reference cycles per invoice).
WORKER_GARBAGE_DOCUMENTS = 120
#: In a pool worker: documents rendered since its last collection (None in any other process).
_worker = SimpleNamespace(documents=None)


def _worker_started() -> None:
    """Warm up a pool worker (if it is not a warm fork); keep the garbage collector off.

    The worker lives for one batch and ends with `os._exit`, which hands its memory back
    without walking it; collecting each chunk's reference cycles would cost some 4 % of
    its time. It collects only past `WORKER_GARBAGE_DOCUMENTS` documents, so memory stays
    bounded in a large run.
    """
    warm_up()
    gc.freeze()  # what the worker inherited is never walked, not even once (forked: not copied)
    gc.disable()
    _worker.documents = 0


@contextmanager
def _garbage_collection_paused() -> Any:
    """Pause Python's cyclic garbage collector while a chunk is laid out and written.

    WeasyPrint makes hundreds of thousands of short-lived objects per document, freed by
    reference counting; the collector would walk them (and all the live boxes of the
    chunk) again and again. It resumes afterwards, as it was.

    Only in a process running no other thread (a pool worker, the CLI, a sync web
    worker): the switch is process-wide, and other threads must keep their collector.
    """
    if threading.active_count() > 1:
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _batch(
    pages: list[str], progress: Progress | None = None, offset: int = 0, total: int = 0
) -> list[bytes]:
    documents = _worker.documents
    if documents is None:
        with _garbage_collection_paused():
            return _write_split(pages, progress, offset, total)
    if documents + len(pages) > WORKER_GARBAGE_DOCUMENTS:
        gc.collect()
        documents = 0
    _worker.documents = documents + len(pages)
    return _write_split(pages, progress, offset, total)


def _write_split(
    pages: list[str], progress: Progress | None, offset: int, total: int
) -> list[bytes]:
    from pypdf import PdfReader, PdfWriter

    renderer = _renderer()
    documents = []
    for index, page in enumerate(pages, start=1):
        documents.append(renderer.render(page))
        if progress:
            progress(offset + index, total or len(pages))
    every_page = [p for document in documents for p in document.pages]
    combined = documents[0].copy(every_page).write_pdf()
    if len(documents) == 1:
        return [combined]
    reader = PdfReader(io.BytesIO(combined))
    results = []
    start = 0
    for document in documents:
        writer = PdfWriter()
        for number in range(start, start + len(document.pages)):
            writer.add_page(reader.pages[number])
        start += len(document.pages)
        metadata = document.metadata
        writer.add_metadata(
            {
                "/Title": metadata.title or "",
                "/Producer": "costshare (WeasyPrint, pypdf)",
                "/Creator": "costshare",
            }
        )
        out = io.BytesIO()
        writer.write(out)
        results.append(out.getvalue())
    return results
