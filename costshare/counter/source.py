"""Opening a COUNTER file and telling its format and text encoding from its content."""

from __future__ import annotations

import codecs
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO

from .errors import CounterError, NotCounterError, UnsupportedReportError

#: How much of the file is looked at to tell its format and encoding.
SNIFF_BYTES = 64 * 1024
#: Non-seekable uploads are spooled; up to this size they stay in memory.
SPOOL_BYTES = 32 * 1024 * 1024

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass
class Source:
    """An open COUNTER file: a seekable binary stream and what its content looks like."""

    name: str
    stream: BinaryIO
    owned: bool
    kind: str = ""
    encoding: str = "utf-8"
    delimiter: str = ","
    warnings: list[str] = field(default_factory=list)

    def close(self) -> None:
        """Close the stream if this reader opened it."""
        if self.owned:
            self.stream.close()

    def __del__(self) -> None:
        # A report dropped before its records were read still closes the file it opened.
        self.close()

    def text(self) -> io.TextIOWrapper:
        """Return the content as text, decoded and with line ends kept for the csv module."""
        self.stream.seek(0)
        return io.TextIOWrapper(_Unclosable(self.stream), encoding=self.encoding, newline="")


class _Unclosable(io.RawIOBase):
    """A view of a stream that a TextIOWrapper may close without closing the stream."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def open_source(source: object, filename: str | None = None) -> Source:
    """Open a path, bytes or binary file object and tell what kind of COUNTER file it is."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = filename or path.name
        try:
            stream: BinaryIO = path.open("rb")
        except OSError as exc:
            raise CounterError(f"cannot open the file ({exc.strerror or exc})", file=name) from None
        opened = Source(name, stream, owned=True)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        opened = Source(filename or "<upload>", io.BytesIO(bytes(source)), owned=True)
    elif hasattr(source, "read"):
        opened = _from_file_object(source, filename)
    else:
        raise CounterError(f"expected a path or a binary file, found {type(source).__name__}")
    try:
        _sniff(opened)
    except BaseException:
        opened.close()
        raise
    return opened


def _from_file_object(source: IO, filename: str | None) -> Source:
    name = filename or Path(str(getattr(source, "name", "") or "<upload>")).name
    try:
        probe = source.read(0)
    except (OSError, ValueError) as exc:
        raise CounterError(f"cannot read the file ({exc})", file=name) from None
    if isinstance(probe, str):
        buffer = getattr(source, "buffer", None)
        if buffer is None:
            raise CounterError("expected a file opened in binary mode", file=name)
        source = buffer
    seekable = False
    try:
        seekable = source.seekable() and source.tell() == 0
    except (AttributeError, OSError, ValueError):
        seekable = False
    if seekable:
        return Source(name, source, owned=False)  # type: ignore[arg-type]
    # Detecting the format and reading JSON in two passes both need to go back to the start.
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed by Source
    try:
        while chunk := source.read(1024 * 1024):
            spool.write(chunk)
    except (OSError, ValueError) as exc:
        spool.close()
        raise CounterError(f"cannot read the file ({exc})", file=name) from None
    spool.seek(0)
    return Source(name, spool, owned=True)  # type: ignore[arg-type]


def _sniff(src: Source) -> None:
    head = src.stream.read(SNIFF_BYTES)
    src.stream.seek(0)
    if not head.strip():
        raise NotCounterError("the file is empty", file=src.name)
    if head.startswith(b"PK\x03\x04"):
        src.kind = "xlsx"
        return
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedReportError(
            "an old Excel .xls workbook: save it as .xlsx, CSV or TSV", file=src.name
        )
    src.encoding = _encoding(head, src)
    decoder = codecs.getincrementaldecoder(src.encoding)(errors="replace")
    text = decoder.decode(head, final=len(head) < SNIFF_BYTES)
    start = text.lstrip("\ufeff \t\r\n")
    if start[:1] in ("{", "["):
        src.kind = "json"
        return
    if start[:1] == '"' and start[1:].lstrip()[:1] in ("{", "["):
        src.kind = "json"
        return
    src.kind = "tabular"
    first = next((line for line in start.splitlines() if line.strip()), "")
    if "\t" in first:
        src.delimiter = "\t"
    elif first.count(";") > first.count(","):
        src.delimiter = ";"
    else:
        src.delimiter = ","


def _encoding(head: bytes, src: Source) -> str:
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    sample = head[:4096]
    if len(sample) >= 4 and sample.count(0) * 3 > len(sample):
        # UTF-16 without a byte-order mark: ASCII text leaves every other byte zero.
        return "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < SNIFF_BYTES)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    if any(byte in head for byte in b"\x81\x8d\x8f\x90\x9d"):
        # Bytes Windows-1252 leaves undefined: Latin-1 reads every byte.
        src.warnings.append("the file is not UTF-8 text; it was read as Latin-1")
        return "latin-1"
    src.warnings.append("the file is not UTF-8 text; it was read as Windows-1252")
    return "cp1252"
