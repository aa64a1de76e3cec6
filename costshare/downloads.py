"""The Content-Disposition header of every download: one writer, safe for any file name."""

from __future__ import annotations

import re
from urllib.parse import quote


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """Return a Content-Disposition header for `filename` (a run's name may be any text).

    No line break, control character or "/" gets through; the plain name is ASCII
    without quotes, the UTF-8 one is percent-encoded.
    """
    name = re.sub(r"[\x00-\x1f\x7f/\\]", "_", filename)
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
