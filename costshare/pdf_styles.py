"""Computed CSS values shared between the documents one renderer lays out.

WeasyPrint computes each element's style property by property, lazily (a dict whose
`__missing__` computes a value), and every document starts from nothing. An invoice
run lays out the same template again and again: the same elements match the same
rules, so every document computes the same values again, some 7,000 per invoice.

WeasyPrint already shares one style between the elements of a document whose inputs
are the same (the same parent style, the same matching rules). `Shared` does the same
across documents, one step more carefully: it shares the *values*, not the style.
Each document still gets style objects of its own, which it may change as it likes
(WeasyPrint does, for tables and their wrappers); a new style starts with the values
an earlier style of the same key computed, and computes only what is new. The key of
a style is what its values are computed from: its parent's key, its pseudo-element and
its cascaded declarations (values compared by type and equality where they can be
hashed, by identity otherwise; the entry keeps them alive). The renderer's font
configuration and base URL do not change between its documents. A copy of a style,
which WeasyPrint makes to change it (first lines, first letters), never shares.

Sharing happens only inside `Shared.active()`, on the thread that entered it: the
process's other WeasyPrint calls work exactly as WeasyPrint's own. It relies on two
names of WeasyPrint's `css` module (`ComputedStyle`, `AnonymousStyle`) and their
constructors; `tests/invoices/test_pdf_shortcuts.py` fails if they change, and checks
that documents rendered with shared values are byte for byte those rendered without.

One input is not in the key: the size of the first page, which only viewport units
(`vw`, `vh`) read. Every document of a renderer uses the same stylesheet and page size.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: The most keys a renderer keeps; past it, it starts afresh (a template has ~100).
LIMIT = 10_000

_state = threading.local()


class Entry:
    """The values computed so far for one key, and what keeps the key's objects alive."""

    __slots__ = ("alive", "specified", "values")

    def __init__(self, alive: Any) -> None:
        self.values: dict[str, Any] = {}
        self.specified: dict[str, Any] = {}
        self.alive = alive


class Shared:
    """One renderer's shared values: key → Entry."""

    def __init__(self) -> None:
        install()
        self.entries: dict[tuple, Entry] = {}
        #: id(value) → (value, its key part): a stylesheet's values are the same objects
        #: in every document, and their key parts are worked out once.
        self.frozen: dict[int, tuple[Any, Any]] = {}

    def entry(self, key: tuple, alive: Any) -> Entry:
        entry = self.entries.get(key)
        if entry is None:
            if len(self.entries) >= LIMIT:
                self.entries.clear()
            entry = self.entries[key] = Entry(alive)
        return entry

    def cascaded_key(self, cascaded: dict[str, Any]) -> tuple:
        """Return a style's cascaded declarations (name → (value, weight)) as a key part."""
        frozen = self.frozen
        parts = []
        for name, (value, weight) in cascaded.items():
            known = frozen.get(id(value))
            if known is None or known[0] is not value:
                if len(frozen) >= LIMIT:
                    frozen.clear()
                known = frozen[id(value)] = (value, _frozen(value))
            parts.append((name, known[1], _weight(weight)))
        parts.sort()
        return tuple(parts)

    @contextmanager
    def active(self) -> Iterator[None]:
        """Share values between the styles this thread creates until the block ends."""
        previous = getattr(_state, "shared", None)
        _state.shared = self
        try:
            yield
        finally:
            _state.shared = previous


def _frozen(value: Any) -> Any:
    """Return `value` as a key part that equals another only for an equal value of one type.

    Lists and tuples part by part (1 and 1.0 are equal in Python, not here), other values
    by equality when they can be hashed, by identity otherwise.
    """
    if isinstance(value, list | tuple):
        return (type(value), tuple(_frozen(item) for item in value))
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return (type(value), value)


def _weight(weight: Any) -> Any:
    """Return a declaration's weight (precedence, layer, specificity) as a key part.

    Weights are only ever compared, so equal numbers of another type do not matter here.
    """
    try:
        precedence, layer, specificity = weight
        return (precedence, layer, tuple(specificity))
    except (TypeError, ValueError):
        return _frozen(weight)


class _Sharing:
    """What both sharing style classes add to WeasyPrint's: join an entry, record, detach copies.

    Put before WeasyPrint's class in the bases. `SPECIFIED` says whether the style keeps
    specified values of its own (a computed style does; an anonymous style's are itself).
    """

    SPECIFIED = True
    _shared_key: tuple | None = None
    _shared: Entry | None = None

    def _join(self, parent_key: tuple | None, key_part: tuple, alive: Any) -> None:
        """Start from the values an earlier style of the same key computed (while sharing)."""
        shared = getattr(_state, "shared", None)
        if shared is None or parent_key is None:
            return
        key = (parent_key, *key_part)
        entry = shared.entry(key, alive)
        self._shared_key, self._shared = key, entry
        self.update(entry.values)  # type: ignore[attr-defined]
        if self.SPECIFIED:
            self.specified.update(entry.specified)  # type: ignore[attr-defined]

    def __missing__(self, key: str) -> Any:
        value = super().__missing__(key)  # type: ignore[misc]
        entry = self._shared
        if entry is not None and key in self:  # type: ignore[operator]
            entry.values[key] = dict.__getitem__(self, key)  # type: ignore[arg-type]
            if self.SPECIFIED:
                entry.specified.update(self.specified)  # type: ignore[attr-defined]
        return value

    def copy(self) -> Any:
        copy = super().copy()  # type: ignore[misc]
        copy._shared_key = copy._shared = None
        return copy


_installed = False
_install_lock = threading.Lock()


def install() -> None:
    """Give WeasyPrint's `css` module the style classes that can share (once per process)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        from weasyprint import css

        class SharingComputedStyle(_Sharing, css.ComputedStyle):
            def __init__(
                self,
                parent_style: Any,
                cascaded: dict[str, Any],
                pseudo_type: str | None,
                root_style: Any,
                base_url: str | None,
                font_config: Any,
                initial_page_sizes: dict[str, Any],
            ) -> None:
                super().__init__(
                    parent_style,
                    cascaded,
                    pseudo_type,
                    root_style,
                    base_url,
                    font_config,
                    initial_page_sizes,
                )
                shared = getattr(_state, "shared", None)
                if shared is None:
                    return
                if parent_style is None:
                    parent_key: tuple | None = ("root", base_url)
                else:
                    parent_key = getattr(parent_style, "_shared_key", None)
                if parent_key is not None:
                    key_part = (pseudo_type, shared.cascaded_key(cascaded))
                    self._join(parent_key, key_part, cascaded)

        class SharingAnonymousStyle(_Sharing, css.AnonymousStyle):
            SPECIFIED = False

            def __init__(self, parent_style: Any) -> None:
                super().__init__(parent_style)
                self._join(getattr(parent_style, "_shared_key", None), ("anonymous",), None)

        css.ComputedStyle = SharingComputedStyle
        css.AnonymousStyle = SharingAnonymousStyle
        _installed = True
