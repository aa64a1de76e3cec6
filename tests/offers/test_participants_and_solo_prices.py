"""Participation (invite, joined, declined, dates) and solo prices (typed, computed, imported)."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

from sqlalchemy import select

from costshare.offers.models import Participation, SoloPrice
from tests.factories import create_member, create_offer, xlsx_bytes


def _participations(session, offer) -> dict[str, tuple]:
    session.expire_all()
    rows = session.scalars(select(Participation).where(Participation.offer_id == offer.id))
    return {p.member.code: (p.status, p.invited_on, p.decided_on) for p in rows}


def test_invite_then_record_who_joined_and_declined(as_coordinator, session) -> None:
    members = [create_member(session, code=f"P{n}") for n in range(3)]
    offer = create_offer(session)
    response = as_coordinator.post_form(
        f"/offers/{offer.id}/invite",
        {
            "members": [str(m.id) for m in members],
            "invited_on": "2026-10-01",
            "version": str(offer.version),
        },
    )
    assert response.status_code == 302
    assert _participations(session, offer) == {
        f"P{n}": ("invited", dt.date(2026, 10, 1), None) for n in range(3)
    }
    page = as_coordinator.get(f"/offers/{offer.id}/participants").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    ids = re.findall(r'name="rows-(\d+)-member_id"[^>]*value="(\d+)"', page)
    by_id = {str(m.id): m.code for m in members}
    data = {"version": version}
    for index, member_id in ids:
        code = by_id[member_id]
        data[f"rows-{index}-member_id"] = member_id
        data[f"rows-{index}-invited_on"] = "2026-10-01"
        data[f"rows-{index}-status"] = {"P0": "joined", "P1": "declined", "P2": ""}[code]
        data[f"rows-{index}-decided_on"] = "2026-11-02" if code == "P0" else ""
    response = as_coordinator.post_form(f"/offers/{offer.id}/participants", data)
    assert response.status_code == 302
    today = dt.datetime.now(dt.UTC).date()
    assert _participations(session, offer) == {
        "P0": ("joined", dt.date(2026, 10, 1), dt.date(2026, 11, 2)),
        "P1": ("declined", dt.date(2026, 10, 1), today),  # no date given: today
    }
    history = as_coordinator.get(f"/offers/{offer.id}/history").get_data(as_text=True)
    assert "Changed participation of 3 member(s)" in history and "(1 joined)" in history


def test_a_decision_before_the_invitation_and_a_stale_form_are_refused(
    as_coordinator, world, session
) -> None:
    offer = world.own_offer
    before = _participations(session, offer)
    page = as_coordinator.get(f"/offers/{offer.id}/participants").get_data(as_text=True)
    ids = re.findall(r'name="rows-(\d+)-member_id"[^>]*value="(\d+)"', page)
    data = {"version": str(offer.version)}
    for index, member_id in ids:
        data.update(
            {
                f"rows-{index}-member_id": member_id,
                f"rows-{index}-status": "joined",
                f"rows-{index}-invited_on": "2026-10-05",
                f"rows-{index}-decided_on": "2026-10-01",
            }
        )
    response = as_coordinator.post_form(f"/offers/{offer.id}/participants", data)
    assert response.status_code == 422
    assert "A member cannot decide before it is invited." in response.get_data(as_text=True)
    data.update({f"rows-{i}-decided_on": "2026-10-06" for i, _ in ids})
    data["version"] = str(offer.version - 1 if offer.version > 1 else 999)
    response = as_coordinator.post_form(f"/offers/{offer.id}/participants", data)
    assert response.status_code == 409
    assert _participations(session, offer) == before


def test_typed_solo_prices_and_a_hand_override_of_a_computed_one(as_coordinator, session) -> None:
    a = create_member(session, code="SA", facts={(2026, "fte"): 26735})
    b = create_member(session, code="SB", facts={(2026, "fte"): 1500})
    price_list = {
        "attribute": "fte",
        "tiers": [
            {"min": 0, "price": "600"},
            {"min": 2001, "price": "900"},
            {"min": 4001, "price": "1250"},
            {"min": 6001, "price": "1800"},
        ],
        "block": {"above": 10000, "size": 5000, "price": "50", "round": "nearest"},
    }
    offer = create_offer(
        session,
        pricing={"pricing": {"kind": "list_discount", "tiers": []}, "price_list": price_list},
        joined=[a, b],
    )
    quote = offer.current_round
    url = f"/offers/{offer.id}/rounds/{quote.id}/solo"
    response = as_coordinator.post_form(f"{url}/compute", {"version": str(quote.version)})
    assert response.status_code == 302
    session.expire_all()
    prices = {
        p.member.code: p
        for p in session.scalars(select(SoloPrice).where(SoloPrice.round_id == quote.id))
    }
    # EOLSS: 26,735 FTE rounds to 25,000; 1,800 + 3 whole blocks × 50 = 1,950. 1,500 FTE: 600.
    assert {c: p.amount for c, p in prices.items()} == {"SA": Decimal("1950"), "SB": Decimal("600")}
    assert {p.source for p in prices.values()} == {"computed"}

    page = as_coordinator.get(url).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    response = as_coordinator.post_form(
        url, {f"price-{a.id}": "1,900.00", f"price-{b.id}": "600.00", "version": version}
    )
    assert response.status_code == 302
    session.expire_all()
    prices = {
        p.member.code: p
        for p in session.scalars(select(SoloPrice).where(SoloPrice.round_id == quote.id))
    }
    assert (prices["SA"].amount, prices["SA"].source, prices["SA"].overridden) == (
        Decimal("1900"),
        "typed",
        True,
    )
    assert (prices["SB"].source, prices["SB"].overridden) == ("computed", False)  # unchanged

    # A recompute keeps the hand override.
    page = as_coordinator.get(url).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    as_coordinator.post_form(f"{url}/compute", {"version": version})
    session.expire_all()
    assert session.scalar(
        select(SoloPrice.amount).where(SoloPrice.round_id == quote.id, SoloPrice.member_id == a.id)
    ) == Decimal("1900")
    assert "override" in as_coordinator.get(url).get_data(as_text=True)


def test_bad_typed_prices_are_marked_and_nothing_is_saved(as_coordinator, world, session) -> None:
    offer = world.own_offer
    quote = offer.current_round
    url = f"/offers/{offer.id}/rounds/{quote.id}/solo"
    response = as_coordinator.post_form(
        url,
        {
            f"price-{world.own.id}": "-5",
            f"price-{world.other.id}": "12e3",
            "version": str(quote.version),
        },
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Cannot be negative." in body and "Write a number such as 1250 or 1250.50." in body
    assert session.scalar(select(SoloPrice).where(SoloPrice.round_id == quote.id)) is None


def test_solo_prices_import_from_xlsx_all_or_nothing(as_coordinator, world, session) -> None:
    offer = world.own_offer
    quote = offer.current_round
    url = f"/offers/{offer.id}/rounds/{quote.id}/solo/import"
    bad = xlsx_bytes(
        [["Code", "Amount"], ["OWN", 1000], ["NOPE", 5], ["OTHER", "lots"], ["own", 7]]
    )
    response = as_coordinator.post_form(
        url,
        {"file": (io.BytesIO(bad), "solo.xlsx"), "version": str(quote.version)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    problems = re.findall(
        r"<tr><td class=\"num\">(\d+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>",
        response.get_data(as_text=True),
    )
    assert [(r, c) for r, c, _ in problems] == [("3", "code"), ("4", "amount"), ("5", "code")]
    assert session.scalar(select(SoloPrice).where(SoloPrice.round_id == quote.id)) is None

    good = xlsx_bytes([["code", "amount"], ["OWN", 31000.5], ["other", "12000"]])
    response = as_coordinator.post_form(
        url,
        {"file": (io.BytesIO(good), "solo.xlsx"), "version": str(quote.version)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    session.expire_all()
    prices = {
        p.member_id: (p.amount, p.source)
        for p in session.scalars(select(SoloPrice).where(SoloPrice.round_id == quote.id))
    }
    assert prices == {
        world.own.id: (Decimal("31000.5"), "imported"),
        world.other.id: (Decimal("12000"), "imported"),
    }


def test_computing_needs_a_price_list(as_coordinator, world) -> None:
    offer = world.own_offer  # a plain total
    quote = offer.current_round
    response = as_coordinator.post_form(
        f"/offers/{offer.id}/rounds/{quote.id}/solo/compute", {"version": str(quote.version)}
    )
    page = as_coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert "no price list or per-member pricing to compute solo prices from" in page


def test_the_invite_list_is_the_checkbox_list_wtforms_writes(app, as_coordinator, session) -> None:
    # The list is written in one pass (500 members to invite); it must stay the HTML WTForms'
    # own list of checkboxes gives: ids, names, values, labels escaped, ticked ones checked.
    from wtforms.widgets import ListWidget

    from costshare.members.fields import choices
    from costshare.offers.forms import InviteForm

    with app.test_request_context():
        form = InviteForm(formdata=None, meta={"csrf": False})
        form.members.choices = choices([(1, 'A & <B> "C"'), (2, "第二图书馆"), (3, "")])
        form.members.data = [2]
        written = form.members()
        assert written == ListWidget(prefix_label=False)(form.members)
        assert '<input checked id="members-1" name="members" type="checkbox" value="2">' in written
        assert "A &amp; &lt;B&gt; &#34;C&#34;" in written
    offer = create_offer(session)
    members = [create_member(session, code=f"INV{n}") for n in range(3)]
    page = as_coordinator.get(f"/offers/{offer.id}/participants").get_data(as_text=True)
    for member in members:
        assert f'value="{member.id}"> <label for="members-' in page
