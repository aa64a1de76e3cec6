"""The demo consortium: believable members, facts, vendors, offers, usage and users.

`seed_demo(session)` builds it in steps; each feature adds its own step at the
end of `STEPS` (formulas, allocations, billing …) so a newcomer sees every
part of the product filled in on first run. Numbers are fixed (seeded), so the
demo is the same on every machine.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy.orm import Session

from costshare.auth.models import User
from costshare.auth.services import hash_password
from costshare.members.models import Member, MemberFact
from costshare.offers.models import Offer, Participation, QuoteRound, Resource, SoloPrice, Vendor

DEMO_PASSWORD = "costshare-demo"  # noqa: S105 - the published password of the demo accounts
DEMO_LOGINS = {
    "password": DEMO_PASSWORD,
    "users": [
        ("coordinator@demo.costshare.org", "coordinator"),
        ("negotiator@demo.costshare.org", "negotiator"),
        ("finance@sysu.demo.costshare.org", "member (SYSU)"),
        ("finance@gzcc.demo.costshare.org", "member (GZCC)"),
    ],
}
FACT_YEARS = (2024, 2025, 2026)


@dataclass
class DemoMember:
    code: str
    name: str
    sector: str
    fte: int
    currency: str = "EUR"
    address: str = ""
    tax_id: str = ""
    tax_treatment: str = "standard"


MEMBERS = [
    DemoMember(
        "SYSU",
        "中山大学图书馆 Sun Yat-sen University Library",
        "university",
        56200,
        address="135 Xingang West Road\nHaizhu District, Guangzhou 510275\nChina",
        tax_id="12100000455416107D",
    ),
    DemoMember(
        "SCUT",
        "华南理工大学图书馆 South China University of Technology Library",
        "university",
        47800,
        address="381 Wushan Road\nTianhe District, Guangzhou 510641\nChina",
        tax_id="12100000455418125A",
    ),
    DemoMember(
        "JNU",
        "暨南大学图书馆 Jinan University Library",
        "university",
        41500,
        currency="CNY",
        address="601 Huangpu Avenue West\nGuangzhou 510632\nChina",
        tax_id="12440000455859321K",
    ),
    DemoMember(
        "SZU",
        "深圳大学图书馆 Shenzhen University Library",
        "university",
        38900,
        address="3688 Nanhai Avenue\nNanshan District, Shenzhen 518060\nChina",
        tax_id="12440300455755617W",
    ),
    DemoMember(
        "GDUT",
        "广东工业大学图书馆 Guangdong University of Technology Library",
        "university",
        33400,
        address="100 Waihuan West Road\nPanyu District, Guangzhou 510006\nChina",
        tax_id="12440000455859428D",
    ),
    DemoMember(
        "GZHU",
        "广州大学图书馆 Guangzhou University Library",
        "university",
        29100,
        currency="CNY",
        address="230 Waihuan West Road\nPanyu District, Guangzhou 510006\nChina",
        tax_id="12440100455354137C",
    ),
    DemoMember(
        "SCNU",
        "华南师范大学图书馆 South China Normal University Library",
        "university",
        27300,
        address="55 Zhongshan Avenue West\nTianhe District, Guangzhou 510631\nChina",
        tax_id="12440000455859500H",
    ),
    DemoMember(
        "GDUFS",
        "广东外语外贸大学图书馆 Guangdong University of Foreign Studies Library",
        "university",
        21800,
        address="2 Baiyun Avenue North\nGuangzhou 510420\nChina",
        tax_id="12440000455860067B",
    ),
    DemoMember(
        "MACAU",
        "Universidade de Macau Biblioteca · 澳門大學圖書館",
        "university",
        11200,
        currency="HKD",
        address="Avenida da Universidade\nTaipa, Macau",
        tax_id="MO-8000457",
        tax_treatment="reverse_charge",
    ),
    DemoMember(
        "GZMU",
        "广州医科大学图书馆 Guangzhou Medical University Library",
        "health",
        14600,
        address="1 Xinzao Road\nPanyu District, Guangzhou 511436\nChina",
        tax_id="12440000455860131E",
    ),
    DemoMember(
        "SMUH",
        "Southern Medical University Hospital Library",
        "health",
        4300,
        address="1838 Guangzhou Avenue North\nGuangzhou 510515\nChina",
        tax_id="12440000MB2C52733P",
        tax_treatment="exempt",
    ),
    DemoMember(
        "GZCC",
        "广州城市职业学院图书馆 Guangzhou City Polytechnic Library",
        "college",
        9800,
        address="248 Guangyuan Middle Road\nGuangzhou 510405\nChina",
        tax_id="12440100MB2A01877U",
    ),
    DemoMember(
        "SWIC",
        "South-West Institute of Chemistry Library",
        "research",
        1200,
        currency="CNY",
        address="7 Kehua Street\nTianhe District, Guangzhou 510650\nChina",
        tax_id="12100000MB0341283T",
    ),
    DemoMember(
        "PRAC",
        "Pearl River Arts College Library",
        "college",
        2600,
        address="18 Jiangnan Avenue\nHaizhu District, Guangzhou 510220\nChina",
        tax_id="12440100MB1D93020X",
    ),
]


@dataclass
class Demo:
    """What the steps have created so far, for the steps that follow."""

    session: Session
    rng: random.Random
    members: dict[str, Member] = field(default_factory=dict)
    vendors: dict[str, Vendor] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    offers: dict[str, Offer] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def money(value: Decimal | float | int, unit: str = "0.01") -> Decimal:
    return Decimal(str(value)).quantize(Decimal(unit), rounding=ROUND_HALF_EVEN)


def seed_members(demo: Demo) -> None:
    """Add the member libraries and three years of their facts."""
    rng = demo.rng
    for spec in MEMBERS:
        member = Member(
            code=spec.code,
            name=spec.name,
            sector=spec.sector,
            billing_address=spec.address,
            finance_contact_name="Finance office",
            finance_contact_email=f"finance@{spec.code.lower()}.demo.costshare.org",
            tax_id=spec.tax_id,
            billing_currency=spec.currency,
            tax_treatment=spec.tax_treatment,
        )
        demo.session.add(member)
        demo.members[spec.code] = member
        for index, year in enumerate(FACT_YEARS):
            growth = Decimal(1) + Decimal(index) * Decimal("0.021")
            fte = int(spec.fte * growth)
            research = int(fte * rng.uniform(0.04, 0.09)) if spec.sector != "college" else 0
            postgrad = int(fte * rng.uniform(0.12, 0.25)) if spec.sector != "college" else 0
            undergrad = fte - research - postgrad
            budget = money(fte * rng.uniform(38, 52) * float(growth), "1")
            income = money(fte * rng.uniform(5200, 7400), "1000")
            facts = {
                "fte": fte,
                "headcount": int(fte * rng.uniform(1.08, 1.22)),
                "student_fte": undergrad + postgrad,
                "fte_research": research,
                "fte_postgrad": postgrad,
                "fte_undergrad": undergrad,
                "budget": budget,
                "materials_budget": money(budget * Decimal("0.62"), "1"),
                "income": income,
                "research_income": money(income * Decimal(str(rng.uniform(0.05, 0.3))), "1000"),
                "articles": int(research * rng.uniform(0.8, 2.4)) + 3,
            }
            for name, value in facts.items():
                member.facts.append(MemberFact(year=year, name=name, value=Decimal(value)))
    demo.session.flush()
    demo.notes.append(f"{len(MEMBERS)} members with facts for {FACT_YEARS[0]}–{FACT_YEARS[-1]}")


VENDORS = [
    (
        "Meridian Scientific Publishing",
        "https://meridian.example.com",
        [
            ("Meridian Journals Complete", "journals", "Meridian Online"),
            ("Meridian Nursing & Health Collection", "journals", "Meridian Online"),
        ],
    ),
    (
        "Atlas Research Analytics",
        "https://atlas.example.com",
        [
            ("Atlas Science Citation Index", "database", "Atlas Platform"),
        ],
    ),
    (
        "Lotus Academic Press",
        "https://lotus.example.com",
        [
            ("Lotus Academic E-books", "ebooks", "Lotus Books Online"),
        ],
    ),
    (
        "Helix Data Services",
        "https://helix.example.com",
        [
            ("Helix Research Data Navigator", "database", "HelixNav"),
        ],
    ),
    (
        "Northwind Information",
        "https://northwind.example.com",
        [
            ("Northwind Business Source", "database", "Northwind Host"),
            ("Northwind Humanities Index", "database", "Northwind Host"),
        ],
    ),
]


def seed_vendors(demo: Demo) -> None:
    """Add vendors and the resources they sell, with their COUNTER platform names."""
    for name, website, resources in VENDORS:
        vendor = Vendor(
            name=name,
            website=website,
            contact_name="Consortia sales",
            contact_email=f"consortia@{website.split('//')[1]}",
        )
        demo.session.add(vendor)
        demo.vendors[name] = vendor
        for resource_name, kind, platform in resources:
            resource = Resource(
                vendor=vendor,
                name=resource_name,
                kind=kind,
                counter_platform=platform,
                counter_database=resource_name if kind == "database" else None,
            )
            demo.session.add(resource)
            demo.resources[resource_name] = resource
    demo.session.flush()
    demo.notes.append(f"{len(demo.vendors)} vendors, {len(demo.resources)} resources")


def _offer(
    demo: Demo,
    key: str,
    resource: str,
    title: str,
    start: dt.date,
    end: dt.date,
    currency: str,
    status: str,
    deadline: dt.date | None = None,
) -> Offer:
    offer = Offer(
        resource=demo.resources[resource],
        title=title,
        term_start=start,
        term_end=end,
        currency=currency,
        status=status,
        deadline=deadline,
    )
    demo.session.add(offer)
    demo.offers[key] = offer
    return offer


def _round(
    demo: Demo,
    offer: Offer,
    number: int,
    label: str,
    received: dt.date,
    pricing: dict[str, Any],
    solo: dict[str, Decimal] | None = None,
    source: str = "typed",
) -> QuoteRound:
    quote = QuoteRound(number=number, label=label, received_on=received, pricing=pricing)
    offer.rounds.append(quote)
    for member_code, amount in (solo or {}).items():
        quote.solo_prices.append(
            SoloPrice(member=demo.members[member_code], amount=amount, source=source)
        )
    return quote


def _participate(
    demo: Demo,
    offer: Offer,
    joined: list[str],
    declined: list[str] = (),
    invited: list[str] = (),
    on: dt.date | None = None,
) -> None:
    invited_on = on - dt.timedelta(days=40) if on else None
    for status, codes in (("joined", joined), ("declined", declined), ("invited", invited)):
        for code in codes:
            offer.participations.append(
                Participation(
                    member=demo.members[code],
                    status=status,
                    invited_on=invited_on,
                    decided_on=on if status != "invited" else None,
                )
            )


def _solo_from_fte(
    demo: Demo, codes: list[str], per_fte: float, base: int, year: int = 2026, unit: str = "0.01"
) -> dict[str, Decimal]:
    prices = {}
    for code in codes:
        fte = _fact(demo, code, "fte", year)
        prices[code] = money(base + float(fte) * per_fte, unit)
    return prices


def _fact(demo: Demo, code: str, name: str, year: int) -> Decimal:
    for fact in demo.members[code].facts:
        if fact.name == name and fact.year == year:
            return fact.value
    raise KeyError((code, name, year))


def seed_offers(demo: Demo) -> None:
    """Add offers of every pricing kind, with quote rounds, solo prices and participation."""
    everyone = list(demo.members)
    big = [
        "SYSU",
        "SCUT",
        "JNU",
        "SZU",
        "GDUT",
        "GZHU",
        "SCNU",
        "GDUFS",
        "MACAU",
        "GZMU",
        "SMUH",
        "GZCC",
    ]

    # 1. List price with participation discounts: the negotiators' main case.
    offer = _offer(
        demo,
        "meridian",
        "Meridian Journals Complete",
        "Meridian Journals Complete 2027",
        dt.date(2027, 1, 1),
        dt.date(2027, 12, 31),
        "EUR",
        "negotiating",
        deadline=dt.date(2026, 12, 15),
    )
    solo = _solo_from_fte(demo, big, 1.15, 9000)
    first = _round(
        demo,
        offer,
        1,
        "Vendor's first quote",
        dt.date(2026, 9, 14),
        {
            "pricing": {
                "kind": "list_discount",
                "tiers": [
                    {"min_members": 6, "discount": "0.08"},
                    {"min_members": 12, "discount": "0.15"},
                ],
            },
        },
        solo,
    )
    second = _round(
        demo,
        offer,
        2,
        "After the October meeting",
        dt.date(2026, 10, 28),
        {
            "pricing": {
                "kind": "list_discount",
                "tiers": [
                    {"min_members": 6, "discount": "0.10"},
                    {"min_members": 12, "discount": "0.18"},
                ],
            },
            "surcharge": "0.02",
        },
        solo,
    )
    demo.session.flush()
    offer.current_round = second
    del first
    _participate(
        demo, offer, joined=big, declined=["SWIC"], invited=["PRAC"], on=dt.date(2026, 11, 2)
    )

    # 2. A fixed total for a citation index, accepted and running this year.
    offer = _offer(
        demo,
        "atlas",
        "Atlas Science Citation Index",
        "Atlas Science Citation Index 2026",
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 31),
        "EUR",
        "accepted",
    )
    joined = ["SYSU", "SCUT", "JNU", "SZU", "GDUT", "GZHU", "SCNU", "GZMU", "MACAU", "GZCC"]
    current = _round(
        demo,
        offer,
        1,
        "Final offer",
        dt.date(2025, 10, 20),
        {"total": "248000.00", "surcharge": "0.03"},
        _solo_from_fte(demo, joined, 0.85, 6500, 2025),
    )
    demo.session.flush()
    offer.current_round = current
    _participate(demo, offer, joined=joined, declined=["GDUFS", "SMUH"], on=dt.date(2025, 11, 18))

    # 3. Multi-year e-books with a yearly uplift, negotiated in two rounds.
    offer = _offer(
        demo,
        "lotus",
        "Lotus Academic E-books",
        "Lotus Academic E-books 2026–2028",
        dt.date(2026, 1, 1),
        dt.date(2028, 12, 31),
        "EUR",
        "accepted",
    )
    joined = ["SYSU", "SCUT", "SZU", "GDUT", "SCNU", "GDUFS", "GZHU", "MACAU", "PRAC"]
    solo = _solo_from_fte(demo, joined, 0.55, 4000, 2025)
    _round(
        demo,
        offer,
        1,
        "Opening quote",
        dt.date(2025, 9, 1),
        {"total": "182000.00", "term": {"years": 3, "uplift": "0.05"}},
        solo,
    )
    current = _round(
        demo,
        offer,
        2,
        "Agreed three-year deal",
        dt.date(2025, 10, 30),
        {"total": "168500.00", "term": {"years": 3, "uplift": "0.03"}},
        solo,
    )
    demo.session.flush()
    offer.current_round = current
    _participate(demo, offer, joined=joined, declined=["GZMU"], on=dt.date(2025, 11, 20))

    # 4. Per-FTE pricing with a floor and a cap (the eHLbc model).
    offer = _offer(
        demo,
        "helix",
        "Helix Research Data Navigator",
        "Helix Research Data Navigator 2026",
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 31),
        "EUR",
        "accepted",
    )
    joined = ["SYSU", "SCUT", "GZMU", "SMUH", "SWIC", "GZCC", "PRAC"]
    current = _round(
        demo,
        offer,
        1,
        "Per-FTE price list",
        dt.date(2025, 11, 5),
        {
            "pricing": {
                "kind": "per_unit",
                "attribute": "fte",
                "rate": "0.34",
                "floor": "700",
                "cap": "11000",
            },
        },
    )
    demo.session.flush()
    offer.current_round = current
    _participate(demo, offer, joined=joined, on=dt.date(2025, 12, 1))

    # 5. Per-member prices by kind of institution, in US dollars, still a draft.
    offer = _offer(
        demo,
        "northwind",
        "Northwind Business Source",
        "Northwind Business Source 2027",
        dt.date(2027, 1, 1),
        dt.date(2027, 12, 31),
        "USD",
        "draft",
        deadline=dt.date(2027, 1, 20),
    )
    current = _round(
        demo,
        offer,
        1,
        "Price table by kind of institution",
        dt.date(2026, 11, 10),
        {
            "pricing": {
                "kind": "per_member",
                "attribute": "sector",
                "price_table": {
                    "university": "14500.00",
                    "health": "9200.00",
                    "research": "5200.00",
                    "college": "3900.00",
                },
                "tiers": [{"min_members": 8, "discount": "0.12"}],
            },
        },
    )
    demo.session.flush()
    offer.current_round = current
    _participate(demo, offer, joined=[], invited=everyone[:10])

    # 6. A declined offer, kept for the record.
    offer = _offer(
        demo,
        "nursing",
        "Meridian Nursing & Health Collection",
        "Meridian Nursing & Health Collection 2026",
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 31),
        "EUR",
        "declined",
    )
    current = _round(demo, offer, 1, "Only offer", dt.date(2025, 8, 12), {"total": "96000.00"})
    demo.session.flush()
    offer.current_round = current
    _participate(demo, offer, joined=[], declined=["GZMU", "SMUH", "SYSU"], on=dt.date(2025, 9, 30))

    demo.session.flush()
    demo.notes.append(f"{len(demo.offers)} offers with quote rounds and participation")


def seed_usage(demo: Demo) -> None:
    """Import generated COUNTER reports for the running deals (`costshare.usage.demo`)."""
    from costshare.usage.demo import seed

    seed(demo)


def seed_users(demo: Demo) -> None:
    """Add the demo logins: a coordinator, a negotiator and two members' finance staff."""
    password_hash = hash_password(DEMO_PASSWORD)
    accounts = [
        ("coordinator@demo.costshare.org", "Chen Jing (coordinator)", "coordinator", None),
        ("negotiator@demo.costshare.org", "Li Wei (negotiator)", "negotiator", None),
        ("finance@sysu.demo.costshare.org", "Finance office, SYSU", "member", "SYSU"),
        ("finance@gzcc.demo.costshare.org", "Finance office, GZCC", "member", "GZCC"),
    ]
    for email, name, role, code in accounts:
        user = User(
            email=email,
            name=name,
            role=role,
            password_hash=password_hash,
            member=demo.members[code] if code else None,
        )
        demo.session.add(user)
        demo.users[code or role] = user
    demo.session.flush()
    demo.notes.append(f"{len(accounts)} users")


def seed_features(demo: Demo) -> None:
    """Run each feature's own step, in order: allocations, invoices, negotiation."""
    from costshare.allocations.demo import seed as allocations
    from costshare.invoices.demo import seed as invoices
    from costshare.negotiation.demo import seed as negotiation

    for step in (allocations, invoices, negotiation):
        step(demo)


#: The steps in order; features append theirs (formulas, allocations, billing, …).
STEPS: list[Callable[[Demo], None]] = [
    seed_members,
    seed_vendors,
    seed_offers,
    seed_usage,
    seed_users,
    seed_features,
]


def seed_demo(session: Session, seed: int = 2026) -> str:
    """Load the whole demo consortium; return a one-line summary."""
    demo = Demo(session=session, rng=random.Random(seed))
    for step in STEPS:
        step(demo)
    session.flush()
    return "Demo consortium loaded: " + "; ".join(demo.notes) + "."
