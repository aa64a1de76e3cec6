"""The allocation workspace and allocation pages, checked against numbers worked by hand.

The small consortium (helpers.py): A, B, C with FTE 6000 / 3000 / 1000, the
members owe 10,000.00 + 5 % = 10,500.00. Half equal, half FTE:
    A = 1,750.00 + 3,150.00 = 4,900.00
    B = 1,750.00 + 1,575.00 = 3,325.00
    C = 1,750.00 +   525.00 = 2,275.00
An equal split: 10,500 ÷ 3 = 3,500.00 each.
"""

from __future__ import annotations

import re
from decimal import Decimal
from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import select

from costshare.allocations import services
from costshare.allocations.models import Allocation
from costshare.formulas.services import create_formula
from tests.allocations.helpers import CAPPED, HALF_FTE_HALF_EQUAL, rows, small_consortium
from tests.factories import QueryCounter, create_member, create_offer


def _url(offer, term_year: int = 1, **query: str) -> str:
    args = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/allocations/offers/{offer.id}/{term_year}" + (f"?{args}" if args else "")


def test_the_workspace_shows_the_split_worked_by_hand(as_coordinator, session) -> None:
    small = small_consortium(session)
    formula = create_formula(session, name="Half and half", definition=HALF_FTE_HALF_EQUAL)
    response = as_coordinator.get(_url(small.offer, choice=f"formula:{formula.id}"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    split = rows(html)
    assert {code: row["amount"] for code, row in split.items()} == {
        "A": Decimal("4900.00"),
        "B": Decimal("3325.00"),
        "C": Decimal("2275.00"),
    }
    # Parts: equal and fte (no bound held and no cent rounded: those columns are left out,
    # and said so) — and they add up to each amount.
    assert split["A"]["parts"] == [Decimal("1750.00"), Decimal("3150.00")]
    assert "not shown: bound adjustment, rounding." in html
    for row in split.values():
        assert sum(row["parts"]) == row["amount"]
    # What a person reads: the formatted amounts, the savings and the percentage.
    assert "€4,900.00" in split["A"]["cells"][1]
    assert split["B"]["cells"][-2] == "€675.00" and split["B"]["cells"][-1] == "16.9 %"
    # The totals reconcile: price + surcharge − subsidy = total = Σ amounts.
    assert re.search(r'id="recon-price">€10,000.00<', html)
    assert re.search(r'id="recon-surcharge">€500.00<', html)
    assert re.search(r'id="recon-total">€10,500.00<', html)
    assert re.search(r'id="recon-sum">€10,500.00<', html)
    assert "✓ adds up" in html
    # Which year's facts were used: 2026 for the billed year 2027.
    assert re.search(r'id="facts-years">\s*2026\s*<', html)
    assert "<svg" in html  # the stacked explanation bars


def test_a_preset_and_a_custom_formula_preview_without_saving(as_coordinator, session) -> None:
    small = small_consortium(session)
    html = as_coordinator.get(_url(small.offer, choice="preset:equal")).get_data(as_text=True)
    assert {row["amount"] for row in rows(html).values()} == {Decimal("3500.00")}
    # A custom formula from the panel: half equal, half FTE, capped at the solo price.
    response = as_coordinator.post_form(
        _url(small.offer),
        {
            "action": "preview",
            "choice": "preset:equal",
            "method": "formula",
            "components-0-kind": "equal",
            "components-0-weight": "1",
            "components-1-kind": "attribute",
            "components-1-attribute": "fte",
            "components-1-weight": "1",
        },
    )
    assert response.status_code == 200
    assert rows(response.get_data(as_text=True))["A"]["amount"] == Decimal("4900.00")
    assert (
        session.scalar(select(Allocation.id).where(Allocation.offer_id == small.offer.id)) is None
    )


def test_errors_are_shown_beside_the_formula_field(as_coordinator, session) -> None:
    small = small_consortium(session)
    response = as_coordinator.post_form(
        _url(small.offer),
        {
            "action": "preview",
            "method": "formula",
            "components-0-kind": "equal",
            "components-0-weight": "1",
            "components-1-kind": "",
            "components-2-kind": "attribute",
            "components-2-attribute": "budget",
            "components-2-weight": "abc",
            "cap": "-5",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    # The engine names the second *used* component; the form shows it on the third row.
    assert re.search(
        r'id="components-2-weight-error"[^>]*>The weight of component 2 must be a number', html
    )
    response = as_coordinator.post_form(
        _url(small.offer),
        {
            "action": "preview",
            "components-0-kind": "attribute",
            "components-0-attribute": "budget",
            "cap": "solo_price",
            "floor": "library_size",
        },
    )
    html = response.get_data(as_text=True)
    # Every missing fact named at once, beside its field, before anything is computed.
    assert re.search(
        r'id="components-0-attribute-error"[^>]*>Members A, B and C have no attribute &#39;budget',
        html,
    )
    assert re.search(
        r'id="floor-error"[^>]*>Members A, B and C have no attribute &#39;library_size', html
    )
    assert 'id="split-table"' not in html


def test_save_draft_then_finalize_with_a_confirmation_stating_the_total(
    as_coordinator, session, world
) -> None:
    small = small_consortium(session)
    formula = create_formula(session, name="Half and half", definition=HALF_FTE_HALF_EQUAL)
    response = as_coordinator.post_form(
        _url(small.offer),
        {
            "action": "save",
            "choice": f"formula:{formula.id}",
            "components-0-kind": "equal",
            "components-0-weight": "1",
            "components-1-kind": "attribute",
            "components-1-attribute": "fte",
            "components-1-weight": "1",
        },
    )
    assert response.status_code == 302
    draft = services.find(session, small.offer.id, 1, "draft")
    assert draft.formula_id == formula.id and draft.formula_name == "Half and half"
    page = as_coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert "Draft saved with &#39;Half and half&#39;: the members owe €10,500.00." in page
    confirm = as_coordinator.get(f"/allocations/{draft.id}/finalize").get_data(as_text=True)
    assert re.search(r'id="finalize-total">€10,500.00<', confirm)
    response = as_coordinator.post_form(
        f"/allocations/{draft.id}/finalize", {"version": str(draft.version)}
    )
    assert response.status_code == 302
    detail = as_coordinator.get(f"/allocations/{draft.id}").get_data(as_text=True)
    assert 'id="allocation-status">final<' in detail
    assert 'id="read-only"' in detail
    assert "Finalize…" not in detail
    workspace = as_coordinator.get(_url(small.offer)).get_data(as_text=True)
    assert 'id="final-panel"' in workspace and 'id="save-draft"' not in workspace


def test_an_edited_formula_is_saved_as_adjusted(as_coordinator, session) -> None:
    small = small_consortium(session)
    formula = create_formula(session, name="Half and half", definition=HALF_FTE_HALF_EQUAL)
    as_coordinator.post_form(
        _url(small.offer),
        {
            "action": "save",
            "choice": f"formula:{formula.id}",
            "components-0-kind": "equal",
            "components-0-weight": "1",
            "components-1-kind": "attribute",
            "components-1-attribute": "fte",
            "components-1-weight": "3",
        },
    )
    draft = services.find(session, small.offer.id, 1, "draft")
    assert draft.formula_id is None and draft.formula_name == "Half and half (adjusted)"


def test_compare_three_formulas_with_differences_coloured(as_coordinator, session) -> None:
    small = small_consortium(session, solo_c="2000.00")
    half = create_formula(session, name="Half and half", definition=HALF_FTE_HALF_EQUAL)
    capped = create_formula(session, name="Capped", definition=CAPPED)
    url = (
        f"{_url(small.offer)}?compare=formula:{half.id}&compare=formula:{capped.id}"
        "&compare=preset:equal"
    )
    html = as_coordinator.get(url).get_data(as_text=True)
    table = html[
        html.index('id="compare-table"') : html.index("</table>", html.index("compare-table"))
    ]
    row_c = re.search(r'<tr data-code="C">(.*?)</tr>', table, re.S).group(1)
    cells = re.findall(r'<td class="num ?([^"]*)">(.*?)</td>', row_c, re.S)
    # C: solo 2,000.00 | half-half 2,275.00 | capped 2,000.00 (−275.00) | equal 3,500.00 (+1,225.00)
    texts = [re.sub(r"<[^>]+>|\s+", " ", text).strip() for _, text in cells]
    assert texts[0] == "€2,000.00"
    assert texts[1] == "€2,275.00"
    assert texts[2].startswith("€2,000.00") and "cap" in texts[2]
    assert texts[3] == "-€275.00"
    assert texts[4] == "€3,500.00" and texts[5] == "+€1,225.00"
    classes = [cls for cls, _ in cells]
    assert classes[1] == "" and classes[2] == "diff better" and classes[4] == "diff worse"
    assert "3 of 3 members pay differently" in html


def test_query_counts_do_not_grow_with_members(app, as_coordinator, session, world) -> None:
    def build(count: int, prefix: str):
        members = [
            create_member(session, code=f"{prefix}{n:03d}", facts={(2026, "fte"): 100 + n})
            for n in range(count)
        ]
        offer = create_offer(
            session,
            pricing={"total": "50000.00"},
            joined=members,
            solo=dict.fromkeys(members, "9000"),
        )
        draft = services.save_draft(session, offer, 1, HALF_FTE_HALF_EQUAL, name="Half")
        return offer, draft

    def count(url: str) -> int:
        session.expire_all()
        with QueryCounter(app) as counter:
            assert as_coordinator.get(url).status_code == 200
        return counter.count

    few_offer, few_draft = build(3, "F")
    many_offer, many_draft = build(40, "G")
    compare = "?compare=draft&compare=preset:equal&compare=preset:csu-fte-equal"
    for few_url, many_url in (
        (_url(few_offer), _url(many_offer)),
        (_url(few_offer) + compare, _url(many_offer) + compare),
        (_url(few_offer, choice="preset:equal"), _url(many_offer, choice="preset:equal")),
        (f"/allocations/{few_draft.id}", f"/allocations/{many_draft.id}"),
        (f"/allocations/{few_draft.id}/finalize", f"/allocations/{many_draft.id}/finalize"),
    ):
        assert count(few_url) == count(many_url), few_url
    assert count("/allocations/") == count("/allocations/?status=draft")


def test_a_member_user_sees_only_its_own_line_of_a_final_allocation(client, session, world) -> None:
    equal = {"formula": {"components": [{"kind": "equal", "weight": 1}]}}
    offer = services.load_offer(session, world.own_offer.id)
    draft = services.save_draft(session, offer, 1, equal, name="Equal")
    client.login(world.member_user.email)
    assert client.get(f"/allocations/{draft.id}").status_code == 404  # drafts: staff only
    services.finalize(session, draft, world.coordinator, draft.version)
    html = client.get(f"/allocations/{draft.id}").get_data(as_text=True)
    # 10,000.00 ÷ 2 = 5,000.00 each; OWN sees its line and not OTHER's.
    assert re.search(r'id="own-amount">€5,000.00<', html)
    assert "OTHER" not in html and world.other.name not in html
    assert client.get(f"/allocations/{draft.id}/finalize").status_code == 404
    assert client.get(_url(offer)).status_code == 404
    # Its spreadsheet holds its own line only.
    book = load_workbook(BytesIO(client.get(f"/allocations/{draft.id}.xlsx").data))
    codes = [row[0] for row in book["Split"].iter_rows(min_row=4, values_only=True)]
    assert codes == ["OWN", "Total"]


def test_the_allocation_exports_to_xlsx_with_numbers_that_add_up(as_coordinator, session) -> None:
    small = small_consortium(session)
    draft = services.save_draft(session, small.offer, 1, HALF_FTE_HALF_EQUAL, name="Half")
    response = as_coordinator.get(f"/allocations/{draft.id}.xlsx")
    assert response.status_code == 200
    book = load_workbook(BytesIO(response.data))
    rows = list(book["Split"].iter_rows(min_row=3, values_only=True))
    header, body = rows[0], rows[1:]
    assert header[:5] == ("Member", "Name", "Amount", "Equal", "fte")
    # Numbers, not text: A 4,900 = 1,750 + 3,150; the totals row 10,500.
    assert [r[:5] for r in body] == [
        ("A", "Alpha University", 4900, 1750, 3150),
        ("B", "Beta College", 3325, 1750, 1575),
        ("C", "Gamma Institute", 2275, 1750, 525),
        ("Total", "3 members", 10500, 5250, 5250),
    ]
    facts = list(book["Facts used"].values)
    assert facts[0] == ("Member", "fte", "fte: year")
    assert facts[1] == ("A", 6000, 2026)
