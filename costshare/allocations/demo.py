"""Demo data for the allocations feature (run by costshare.demo.seed_demo).

The presets become saved formulas, plus the consortium's own variants and one
that reads usage; the running deals of 2026 get FINAL allocations (the invoices
step bills them), the deal being negotiated for 2027 a DRAFT, and the e-books'
second year (2027) a DRAFT split half by the usage imported, so a newcomer sees
all three.
"""

from __future__ import annotations

from costshare.allocations.models import Formula
from costshare.allocations.services import finalize, load_offer, save_draft
from costshare.demo import Demo
from costshare.engine import preset
from costshare.formulas.services import create_formula, preset_definition, save_presets

#: The consortium's own formulas, made from the published models.
OWN_FORMULAS = [
    {
        "name": "90 % FTE, 10 % equal, capped at the solo price",
        "description": (
            "The CSU model, with a cap: no member pays more jointly than it would pay alone."
        ),
        "preset": "csu-fte-equal",
        "formula": {"cap": "solo_price"},
    },
    {
        "name": "Orbis Cascade e-books, at most ±5 % a year",
        "description": (
            "30 % equal, 35 % FTE, 35 % materials budget, phased in: a member's share moves "
            "at most 5 % from the year before (from the second year of a term)."
        ),
        "preset": "orbis-cascade-ebooks",
        "formula": {"max_change": "0.05"},
    },
]

#: A formula that reads usage: half by FTE, half by each member's COUNTER requests.
USAGE_FORMULA = {
    "name": "50 % FTE, 50 % usage (last 12 months' Total_Item_Requests)",
    "description": (
        "Half by FTE, half by each member's total item requests in the 12 months before the "
        "billed year (COUNTER master reports over their views). A member without usage stops "
        "the split, naming it: import its usage first."
    ),
    "source": "The consortium's own: usage-based sharing as in the JISC and CAUL models.",
    "definition": {
        "formula": {
            "components": [
                {"kind": "attribute", "attribute": "fte", "weight": "1", "name": "FTE"},
                {"kind": "attribute", "attribute": "usage", "weight": "1", "name": "Usage"},
            ]
        },
        "usage": {
            "attribute": "usage",
            "metric": "Total_Item_Requests",
            "window": {"months": 12, "before_term": False},
            "resource_id": None,
            "missing": "refuse",
        },
    },
}

#: (offer key, term year, formula name, final?)
ALLOCATIONS = [
    ("atlas", 1, "90 % FTE, 10 % equal, capped at the solo price", True),
    ("helix", 1, "Per-FTE price, 700 to 11,000", True),
    ("lotus", 1, "Orbis Cascade e-books, at most ±5 % a year", True),
    ("meridian", 1, "90 % FTE, 10 % equal, capped at the solo price", False),
    # The e-books' second year, 2027, split half by the 2026 usage imported for Lotus.
    ("lotus", 2, USAGE_FORMULA["name"], False),
]


def _own_formulas(demo: Demo, user_id: int | None) -> None:
    for spec in OWN_FORMULAS:
        base = preset(spec["preset"])
        definition = preset_definition(base)
        definition["formula"] = {**definition["formula"], **spec["formula"]}
        create_formula(
            demo.session,
            name=spec["name"],
            definition=definition,
            description=spec["description"],
            source=base["source"],
            preset_key=spec["preset"],
            user_id=user_id,
        )
    create_formula(
        demo.session,
        name=USAGE_FORMULA["name"],
        definition=USAGE_FORMULA["definition"],
        description=USAGE_FORMULA["description"],
        source=USAGE_FORMULA["source"],
        user_id=user_id,
    )


def seed(demo: Demo) -> None:
    """Save the formulas; compute and finalize the 2026 allocations; leave 2027 as a draft."""
    coordinator = demo.users["coordinator"]
    save_presets(demo.session, user_id=coordinator.id)
    _own_formulas(demo, coordinator.id)
    formulas = {f.name: f for f in demo.session.query(Formula)}
    finals = 0
    for key, term_year, name, final in ALLOCATIONS:
        offer = load_offer(demo.session, demo.offers[key].id)
        formula = formulas[name]
        draft = save_draft(
            demo.session,
            offer,
            term_year,
            formula.definition,
            name=formula.name,
            formula=formula,
            user_id=coordinator.id,
        )
        if final:
            finalize(demo.session, draft, coordinator, draft.version)
            finals += 1
    demo.session.flush()
    demo.notes.append(
        f"{len(formulas)} formulas, {finals} final allocations (2026) "
        f"and {len(ALLOCATIONS) - finals} drafts (2027), one split by usage"
    )
