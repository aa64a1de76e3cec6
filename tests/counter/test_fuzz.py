"""Damaged versions of the real files: the reader reads them or says CounterError, nothing else.

A CounterInternalError is the reader's safety net for failures it did not foresee: the net
keeps tracebacks from users, and this test fails when the net is ever needed.
"""

from __future__ import annotations

import io
import zipfile
from collections import deque
from functools import cache
from pathlib import Path, PurePosixPath
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from costshare.counter import CounterError, CounterInternalError, read_report
from tests.counter.corpus import CORPUS, corpus, data_files

#: Files small enough to fuzz quickly (all but the 1.2 MB full TR).
SMALL = [f for f in data_files() if (CORPUS / f).stat().st_size < 120_000]
ENCODINGS = ["utf-16", "utf-16-le", "utf-16-be", "latin-1", "cp1252", "utf-8-sig", "ascii"]
GARBAGE = "x-.,'\"eE+ \t\n;{}[]0"


@cache
def _original(relative: str) -> bytes:
    return (CORPUS / relative).read_bytes()


class Damaged(NamedTuple):
    """A damaged copy of a corpus file; its repr stays short (the bytes can be large)."""

    relative: str
    kind: str
    data: bytes

    def __repr__(self) -> str:
        return f"Damaged({self.relative!r}, {self.kind!r}, {len(self.data)} bytes)"


@st.composite
def damaged(draw: st.DrawFn) -> Damaged:
    """Draw a corpus file and damage it in one of several ways."""
    relative = draw(st.sampled_from(SMALL or ["(corpus missing)"]))
    if relative not in SMALL:
        return Damaged(relative, "none", b"")
    kind, data = _damage(draw, relative, _original(relative))
    return Damaged(relative, kind, data)


def _damage(draw: st.DrawFn, relative: str, data: bytes) -> tuple[str, bytes]:
    xlsx = relative.endswith(".xlsx")
    kinds = ["truncate", "insert", "replace"] + (
        ["workbook xml"] if xlsx else ["encode", "shuffle", "garble numbers"]
    )
    kind = draw(st.sampled_from(kinds))
    if kind == "truncate":
        return kind, data[: draw(st.integers(0, len(data)))]
    if kind == "insert":
        at = draw(st.integers(0, len(data)))
        return kind, data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
    if kind == "replace":
        damaged_data = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            damaged_data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return kind, bytes(damaged_data)
    if kind == "workbook xml":
        return kind, _damage_workbook(draw, data)
    text = data.decode("utf-8-sig")
    if kind == "encode":
        return kind, text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
    if kind == "shuffle":
        return kind, _shuffle_columns(draw, text).encode()
    return kind, _garble_numbers(draw, text).encode()


def _damage_workbook(draw: st.DrawFn, data: bytes) -> bytes:
    """Rewrite one XML part of the workbook with a few characters changed."""
    source = zipfile.ZipFile(io.BytesIO(data))
    names = source.namelist()
    victim = draw(st.sampled_from(names))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in names:
            content = source.read(name)
            if name == victim and content:
                text = bytearray(content)
                for _ in range(draw(st.integers(1, 6))):
                    at = draw(st.integers(0, len(text) - 1))
                    text[at] = ord(draw(st.sampled_from(GARBAGE + "<>/=")))
                content = bytes(text)
            target.writestr(name, content)
    return out.getvalue()


def _shuffle_columns(draw: st.DrawFn, text: str) -> str:
    """Put the cells of every row from some line on into one new column order."""
    delimiter = "\t" if "\t" in text.split("\n", 1)[0] else ","
    lines = text.split("\n")
    start = draw(st.integers(0, len(lines) - 1))
    width = max(len(line.split(delimiter)) for line in lines)
    order = draw(st.permutations(range(width)))
    shuffled = []
    for line in lines[start:]:
        cells = line.split(delimiter)
        cells += [""] * (width - len(cells))
        shuffled.append(delimiter.join(cells[i] for i in order))
    return "\n".join(lines[:start] + shuffled)


def _garble_numbers(draw: st.DrawFn, text: str) -> str:
    """Replace some digits with other characters."""
    digits = [i for i, char in enumerate(text) if char.isdigit()]
    if not digits:
        return text
    chars = list(text)
    for _ in range(draw(st.integers(1, 10))):
        chars[draw(st.sampled_from(digits))] = draw(st.sampled_from(GARBAGE))
    return "".join(chars)


@settings(
    max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", "400")),
    deadline=None,
    derandomize=__import__("os").environ.get("FUZZ_RANDOM") != "1",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(damaged())
def test_damaged_files_read_or_raise_counter_error_only(case: Damaged) -> None:
    corpus()
    relative, _, data = case
    name = PurePosixPath(relative).name
    event(f"damage: {case.kind}")
    try:
        report = read_report(data, name)
        deque(report.records(), maxlen=0)
        event("read")
    except CounterInternalError as exc:
        pytest.fail(f"{relative}: the reader failed in a way it did not foresee: {exc}")
    except CounterError as exc:
        event(f"refused: {type(exc).__name__}")
        message = str(exc)
        assert message.startswith(name), message
        assert "\n" not in message


def test_the_fuzzed_files_are_the_corpus_minus_the_largest() -> None:
    corpus()
    assert len(SMALL) == 59
    assert all(Path(CORPUS / f).is_file() for f in SMALL)
