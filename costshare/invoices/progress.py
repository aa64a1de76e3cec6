"""Progress of a long request (issuing a run, rendering its PDFs), for the page to show.

The request doing the work writes `{done, total, state}` to a small JSON file in
the instance folder; the page polls `invoices.progress` while it waits. A file
(not the database) because the work's own transaction is not committed until
the end, and every server process sees the same instance folder.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

KEY = re.compile(r"^[a-z0-9-]{1,64}$")
#: A progress file older than this is stale (its request died); it is ignored.
STALE_SECONDS = 3600


class Progress:
    """One long request's progress, kept in `<instance>/progress/<key>.json`."""

    def __init__(self, instance_path: str | Path, key: str) -> None:
        if not KEY.match(key):
            raise ValueError(f"bad progress key {key!r}")
        self.path = Path(instance_path) / "progress" / f"{key}.json"

    def update(self, done: int, total: int, state: str = "working") -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(
            json.dumps({"done": done, "total": total, "state": state, "at": time.time()})
        )
        temporary.replace(self.path)  # atomic: a reader never sees half a file

    def __call__(self, done: int, total: int) -> None:
        self.update(done, total)

    def finish(self, state: str = "done") -> None:
        current = self.read()
        self.update(current.get("total", 0), current.get("total", 0), state)

    def read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {"done": 0, "total": 0, "state": "idle"}
        if time.time() - data.get("at", 0) > STALE_SECONDS:
            return {"done": 0, "total": 0, "state": "idle"}
        return data
