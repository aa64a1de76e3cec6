"""HTML → PDF with WeasyPrint: `render_pdf(template, context) -> bytes`, and many at once.

Templates live in `templates/pdf/` and receive plain data (dataclasses), never
ORM objects. They may load only our own static files (`costshare/static/`):
the URL fetcher refuses every other URL, so a member name or address that
happens to hold markup can never make the server fetch anything.

Speed. Most of one WeasyPrint call is spent writing the PDF — embedding and
subsetting the fonts — once per document. `render_many` therefore lays out
each document on its own (so "page x of y" counts per document), writes all
their pages as ONE PDF (fonts subset once for the batch), and splits that PDF
back into one file per document with pypdf. A large batch is cut in chunks
rendered by a process pool over the machine's cores.
"""

from __future__ import annotations

import io
import mimetypes
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import render_template

STATIC = Path(__file__).resolve().parent / "static"
#: The stylesheet every PDF gets, parsed once per process.
STYLESHEET = Path(__file__).resolve().parent.parent / "templates" / "pdf" / "documents.css"
#: Below this many documents per core, a process pool costs more than it saves.
DOCUMENTS_PER_WORKER = 24

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
    """Turn HTML documents into one PDF each (layout each, write once, split)."""
    total = len(pages)
    if total == 0:
        return []
    if workers is None:
        workers = min(os.cpu_count() or 1, total // DOCUMENTS_PER_WORKER)
    if workers < 2:
        return _batch(list(pages), progress, 0, total)
    # Chunks of a few dozen documents, so progress moves while the pool works.
    size = max(DOCUMENTS_PER_WORKER // 2, -(-total // (workers * 4)))
    chunks = [list(pages[i : i + size]) for i in range(0, total, size)]
    results: list[bytes] = []
    done = 0
    with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()) as pool:
        for chunk_result in pool.map(_batch, chunks):
            results.extend(chunk_result)
            done += len(chunk_result)
            if progress:
                progress(done, total)
    return results


def _pool_context() -> Any:
    """Return the process start method for render workers: a fork server that preloads WeasyPrint.

    The server starts once per process (single-threaded, so forking it is safe even
    from a threaded web server) with WeasyPrint imported; each worker is then a
    cheap fork of it rather than a fresh interpreter importing everything again.
    """
    context = get_context("forkserver")
    context.set_forkserver_preload(["costshare.pdf", "weasyprint", "pypdf"])
    return context


def _batch(
    pages: list[str], progress: Progress | None = None, offset: int = 0, total: int = 0
) -> list[bytes]:
    from pypdf import PdfReader, PdfWriter
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    fetcher = StaticOnlyFetcher()
    fonts = FontConfiguration()
    images: dict[str, Any] = {}
    css = stylesheet()
    documents = []
    for index, page in enumerate(pages, start=1):
        html = HTML(string=page, base_url=base_url(), url_fetcher=fetcher)
        documents.append(html.render(font_config=fonts, stylesheets=[css], cache=images))
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
