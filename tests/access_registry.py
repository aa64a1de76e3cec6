"""The access registry: every endpoint of the app, with what to try it with.

Core endpoints are listed here; each feature lists its own in
`tests/<feature>/access.py` as `ENTRIES = {endpoint: Entry(...)}`, and may
define `build(session, world)` to create the *other* member's objects it needs
(stored in `world.objects`). `tests/test_access.py` gathers them all and fails
for any endpoint of the app that no registry names.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.factories import World

TESTS = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Entry:
    #: URL arguments built from the world (objects of the *other* member), or None for none.
    args: Callable[[World], dict[str, Any]] | None = None
    #: What a member user of the *own* member gets: "404" (another member's, or staff only)
    #: or "allowed" (its own things: the home page, its account, lists scoped to it).
    member: str = "404"
    #: Form fields (or JSON) to send, so that validation is not what answers.
    data: Callable[[World], dict[str, Any]] | None = None


CORE: dict[str, Entry] = {
    "static": Entry(lambda w: {"filename": "app.css"}, member="allowed"),
    "auth.login": Entry(member="allowed"),
    "auth.logout": Entry(member="allowed"),
    "auth.account": Entry(member="allowed"),
    "auth.change_password": Entry(member="allowed"),
    "auth.create_own_token": Entry(member="allowed"),
    "auth.revoke_own_token": Entry(lambda w: {"token_id": w.objects["other_token_id"]}),
    "home.index": Entry(member="allowed"),
    "home.health": Entry(member="allowed"),
    "members.index": Entry(),
    "members.detail": Entry(lambda w: {"member_id": w.other.id}),
    "api.openapi": Entry(member="allowed"),
    "api.members": Entry(member="allowed"),
    "api.member": Entry(lambda w: {"member_id": w.other.id}),
}


def feature_modules() -> list[Any]:
    return [
        importlib.import_module(f"tests.{path.parent.name}.access")
        for path in sorted(TESTS.glob("*/access.py"))
    ]


def registry() -> dict[str, Entry]:
    """Return every entry: the core ones and each feature's."""
    entries = dict(CORE)
    for module in feature_modules():
        clash = entries.keys() & module.ENTRIES.keys()
        assert not clash, f"{module.__name__} lists endpoints listed elsewhere: {sorted(clash)}"
        entries.update(module.ENTRIES)
    return entries


def build_objects(session: Any, world: World) -> None:
    """Let each feature create the other member's objects its entries refer to."""
    for module in feature_modules():
        build = getattr(module, "build", None)
        if build is not None:
            build(session, world)
    session.flush()
