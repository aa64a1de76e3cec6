"""Where the shared COUNTER corpus lies, and skipping (or under CI failing) without it."""

from __future__ import annotations

from pathlib import Path

from tests.resources import require

#: The corpus sits beside the repository: <repo>/../shared/data/counter.
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "counter"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DATA_SUFFIXES = (".tsv", ".csv", ".json", ".xlsx")


def corpus() -> Path:
    """Return the corpus folder; skip the test without it, or fail under COSTSHARE_STRICT=1."""
    require(CORPUS.is_dir(), f"the COUNTER corpus is missing at {CORPUS}")
    return CORPUS


def corpus_file(relative: str) -> Path:
    """Return one corpus file by its path inside the corpus folder."""
    return corpus() / relative


def data_files() -> list[str]:
    """Return the corpus's data files (not its licences or notes), relative, sorted."""
    if not CORPUS.is_dir():
        return []
    return sorted(
        path.relative_to(CORPUS).as_posix()
        for path in CORPUS.rglob("*")
        if path.is_file() and path.suffix in DATA_SUFFIXES
    )
