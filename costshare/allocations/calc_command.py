"""`costshare calc`: split a scenario file from the command line, without app or database.

Imports stay light (click and the pure engine) so the command starts fast.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from costshare.engine import (
    AllocationError,
    allocate,
    load_scenario,
    to_csv,
    to_json,
    to_table,
    what_if,
)

_RENDERERS = {"json": to_json, "csv": to_csv, "table": to_table}


def _fail(message: str) -> NoReturn:
    """Print one line on stderr and exit with status 2."""
    click.echo("Error: " + " ".join(message.split()), err=True)
    sys.exit(2)


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as err:
        _fail(f"Cannot read the scenario file {path}: {err.strerror or err}.")


def _codes(drop: str) -> list[str]:
    codes = [code.strip() for code in drop.split(",")]
    if not all(codes):
        _fail(f"--drop takes member codes separated by commas, not {drop!r}.")
    return codes


@click.command("calc")
@click.argument("scenario", metavar="SCENARIO")
@click.option(
    "--format",
    "output",
    type=click.Choice(sorted(_RENDERERS)),
    default="json",
    show_default=True,
    help="Output: the JSON result, one CSV row per member, or an aligned table.",
)
@click.option(
    "--drop",
    metavar="CODE[,CODE…]",
    default=None,
    help="Compare with these members dropped (what-if).",
)
def calc(scenario: str, output: str, drop: str | None) -> None:
    """Split the price of SCENARIO (a JSON file, or - for stdin) among its members."""
    source = _read(scenario)
    try:
        data = load_scenario(source)
        result = allocate(data) if drop is None else what_if(data, _codes(drop))
    except AllocationError as err:
        _fail(err.message)
    click.echo(_RENDERERS[output](result), nl=False)


if __name__ == "__main__":
    calc()
