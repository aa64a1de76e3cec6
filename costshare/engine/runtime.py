"""Run large splits fast: pause the cycle collector while the engine builds its objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cycle collector for the block, and restore it after.

    Reading a scenario and building a result create tens of thousands of
    dicts and no reference cycles; left running, the collector would walk
    all of them again and again while they are being made. Only the caller
    that paused it switches it back on, so nested or concurrent uses are safe.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
