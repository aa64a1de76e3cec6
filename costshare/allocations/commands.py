"""Put `costshare calc` (the engine's calculator) in the `costshare` command group."""

from __future__ import annotations

from costshare.allocations.calc_command import calc
from costshare.cli import costshare_cli

costshare_cli.add_command(calc)
