"""Demo data for the negotiation feature (run by costshare.demo.seed_demo)."""

from __future__ import annotations

from costshare.demo import Demo
from costshare.negotiation.services import WhatIf, context, save_scenario

NOTE = (
    "SYSU and SCUT are reviewing their budgets. If both leave, the 12-member tier "
    "(18 %) is lost and everyone else pays more: take these figures to the vendor and ask "
    "for the 18 % to hold from 10 members."
)


def seed(demo: Demo) -> None:
    """Save one what-if on the Meridian offer: the two largest members drop out."""
    offer = demo.offers["meridian"]
    ctx = context(demo.session, offer)
    stay = tuple(code for code in ctx.joined_codes if code not in ("SYSU", "SCUT"))
    save_scenario(
        demo.session,
        ctx,
        WhatIf(members=stay),
        "Without SYSU and SCUT",
        NOTE,
        demo.users.get("negotiator"),
    )
    demo.notes.append("1 saved negotiation scenario")
