"""No input can produce a 500: junk posted to every form and API endpoint of members, vendors,
offers and users gets a sentence (beside the field, above the form, or as JSON) and a 4xx.

Junk: missing fields, wrong types, huge and negative numbers, NUL characters, dates that do not
exist, unknown ids, and the ids of another member's things.
"""

from __future__ import annotations

import io
import json

import pytest
from wtforms.fields.core import UnboundField

from costshare.members.forms import MEMBER_FIELDS
from costshare.offers.forms import RoundForm
from costshare.offers.services import OFFER_FIELDS


def _is_field(name: str) -> bool:
    return isinstance(getattr(RoundForm, name, None), UnboundField) and name not in (
        "tiers",
        "table_rows",
        "list_tiers",
        "submit",
    )


#: Values posted into every field of a form, one kind of junk at a time.
JUNK = [
    "",
    "abc",
    "-100",
    "-0.001",
    "9" * 40,
    "1e400",
    "NaN",
    "Infinity",
    "²",
    "１２",
    "\x00",
    "2026-13-45",
    "99999-01-01",
    "<script>alert(1)</script>",
    "x" * 5000,
    str(2**40),
]

MEMBER = list(MEMBER_FIELDS)
OFFER = [*OFFER_FIELDS, "version"]
#: Every input of the pricing editor, one row of each table.
ROUND = [
    *(
        f"{name}-0" if name == "year_totals" else name
        for name in RoundForm.__dict__
        if _is_field(name)
    ),
    "tiers-0-min_members",
    "tiers-0-discount",
    "table_rows-0-category",
    "table_rows-0-price",
    "list_tiers-0-min",
    "list_tiers-0-price",
]
KINDS = ["total", "list_discount", "per_member_table", "per_member_list", "per_unit", "totals"]


def _forms(world) -> list[tuple[str, list[str]]]:
    own, other = world.own, world.other
    offer = world.own_offer
    quote = offer.current_round_id
    vendor = offer.resource.vendor_id
    resource = offer.resource_id
    return [
        ("/members/new", MEMBER),
        (f"/members/{own.id}/edit", MEMBER),
        (f"/members/{own.id}/facts", ["row-0", "row-1", "col-0", "col-1", "cell-0-0", "cell-1-1"]),
        ("/members/facts?fact=fte", ["row-0", "col-0", "cell-0-0"]),
        ("/members/import/confirm", ["token"]),
        ("/vendors/new", ["name", "website", "contact_name", "contact_email", "notes"]),
        (f"/vendors/{vendor}/edit", ["name", "website", "contact_name", "contact_email", "notes"]),
        (
            f"/vendors/{vendor}/resources/new",
            [
                "vendor_id",
                "name",
                "kind",
                "counter_platform",
                "counter_database",
                "counter_title_ids",
            ],
        ),
        (f"/vendors/resources/{resource}/edit", ["vendor_id", "name", "kind", "counter_title_ids"]),
        ("/offers/new", OFFER),
        (f"/offers/{offer.id}/edit", OFFER),
        (f"/offers/{offer.id}/rounds/new", ROUND),
        (f"/offers/{offer.id}/rounds/{quote}/edit", ROUND),
        (f"/offers/{offer.id}/rounds/{quote}/current", ["version"]),
        (
            f"/offers/{offer.id}/rounds/{quote}/solo",
            [f"price-{own.id}", f"price-{other.id}", "price-99999", "price-x", "version"],
        ),
        (f"/offers/{offer.id}/rounds/{quote}/solo/compute", ["version"]),
        (
            f"/offers/{offer.id}/participants",
            [
                "rows-0-member_id",
                "rows-0-status",
                "rows-0-invited_on",
                "rows-0-decided_on",
                "version",
            ],
        ),
        (f"/offers/{offer.id}/invite", ["members", "invited_on", "version"]),
        ("/users/invite", ["email", "name", "role", "member_id"]),
        (f"/users/{world.member_user.id}/reset-password", ["csrf_token"]),
    ]


def _assert_told(response, url: str, data) -> None:
    assert response.status_code < 500, (url, data, response.status_code)
    if response.status_code in (400, 409, 422):
        body = response.get_data(as_text=True)
        assert 'class="error"' in body or "flash-error" in body or "error-page" in body, (url, data)


def test_junk_in_every_form_gets_a_sentence_never_a_500(as_coordinator, world) -> None:
    client = as_coordinator
    for url, fields in _forms(world):
        _assert_told(client.post_form(url, {}), url, {})
        for junk in JUNK:
            data = {field: junk for field in fields if field != "csrf_token"}
            _assert_told(client.post_form(url, data), url, junk)
        if "kind" in fields:
            for kind in KINDS:
                for junk in ("abc", "-5", "9" * 30, ""):
                    data = {field: junk for field in fields}
                    data["kind"] = kind
                    _assert_told(client.post_form(url, data), url, (kind, junk))
    # The CSRF token itself is junk: refused with a sentence, not an error.
    response = client.post("/members/new", data={"code": "X", "name": "Y", "csrf_token": "junk"})
    _assert_told(response, "/members/new", "bad csrf")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00\x01\x02",
        b"PK\x03\x04garbage",
        b"code\n\x00\n",
        b"code,name\n" + b"a," * 50000,
    ],
)
def test_junk_files_are_refused_with_a_sentence(as_coordinator, world, content) -> None:
    offer = world.own_offer
    quote = offer.current_round_id
    for url, name in (
        ("/members/import", "junk.csv"),
        ("/members/import", "junk.xlsx"),
        (f"/offers/{offer.id}/rounds/{quote}/solo/import", "junk.xlsx"),
        (f"/offers/{offer.id}/rounds/{quote}/solo/import", "junk.csv"),
    ):
        response = as_coordinator.post_form(
            url, {"file": (io.BytesIO(content), name)}, content_type="multipart/form-data"
        )
        _assert_told(response, url, name)


JSON_JUNK = [
    None,
    True,
    "abc",
    "",
    -100,
    -0.5,
    10**40,
    "1e400",
    "\x00",
    "\ud800",
    [],
    [1, 2],
    {},
    {"a": {"b": [None]}},
    "2026-02-30",
    2**40,
]


def _api_routes(world) -> list[tuple[str, str, list[str]]]:
    offer = world.own_offer
    quote = offer.current_round_id
    own = world.own.id
    return [
        ("POST", "/api/v1/members", MEMBER),
        ("PATCH", f"/api/v1/members/{own}", MEMBER),
        ("PUT", f"/api/v1/members/{own}/facts", ["facts"]),
        ("POST", "/api/v1/vendors", ["name", "website", "contact_email"]),
        ("PATCH", f"/api/v1/vendors/{offer.resource.vendor_id}", ["name", "website"]),
        ("POST", "/api/v1/resources", ["vendor_id", "name", "kind", "counter_title_ids"]),
        ("PATCH", f"/api/v1/resources/{offer.resource_id}", ["vendor_id", "counter_title_ids"]),
        ("POST", "/api/v1/offers", OFFER),
        ("PATCH", f"/api/v1/offers/{offer.id}", OFFER),
        (
            "POST",
            f"/api/v1/offers/{offer.id}/rounds",
            ["pricing", "label", "current", "solo_prices", "version"],
        ),
        (
            "PATCH",
            f"/api/v1/offers/{offer.id}/rounds/{quote}",
            ["pricing", "label", "current", "solo_prices", "version"],
        ),
        (
            "POST",
            f"/api/v1/offers/{offer.id}/participations",
            ["member_id", "member_code", "status", "invited_on", "decided_on", "version"],
        ),
    ]


def test_junk_in_every_api_body_answers_a_json_4xx(client, world) -> None:
    headers = {"Authorization": f"Bearer {world.tokens['coordinator']}"}

    def send(method: str, url: str, body: str):
        response = client.open(
            url, method=method, data=body, content_type="application/json", headers=headers
        )
        assert response.status_code < 500, (method, url, body[:200], response.status_code)
        if response.status_code >= 400:
            assert response.is_json and response.get_json()["error"], (method, url, body[:200])
        return response

    for method, url, fields in _api_routes(world):
        for raw in ("", "null", "[]", "42", '"text"', "{", "NaN", '{"a": NaN}', "[" * 5000):
            send(method, url, raw)
        for junk in JSON_JUNK:
            send(method, url, json.dumps({field: junk for field in fields}))
            for field in fields:
                send(method, url, json.dumps({field: junk}))
        # Pricing junk inside an otherwise fine round.
        if url.endswith("rounds") or "/rounds/" in url:
            for pricing in (
                {"pricing": {"kind": "bogus"}},
                {"pricing": {"kind": "list_discount", "tiers": [{"min_members": "x"}]}},
                {"total": "-5"},
                {"total": "1e30"},
                {"term": {"years": 10**9, "uplift": "5"}},
                {"price_list": {"attribute": "fte", "tiers": [], "block": {"size": 0}}},
                {"subsidy": "99999999999999999999"},
            ):
                send(method, url, json.dumps({"pricing": pricing}))


def test_ids_out_of_any_range_are_not_found(as_coordinator, world) -> None:
    huge = 10**25
    for url in (
        f"/members/{huge}",
        f"/members/{huge}/edit",
        f"/vendors/{huge}",
        f"/vendors/resources/{huge}",
        f"/offers/{huge}",
        f"/offers/{world.own_offer.id}/rounds/{huge}/solo",
        f"/offers/{world.other_offer.id}/rounds/{world.own_offer.current_round_id}/solo",
    ):
        assert as_coordinator.get(url).status_code == 404, url
    headers = {"Authorization": f"Bearer {world.tokens['coordinator']}"}
    for url in (
        f"/api/v1/members/{huge}",
        f"/api/v1/offers/{huge}/rounds",
        f"/api/v1/vendors/{huge}",
    ):
        assert as_coordinator.get(url, headers=headers).status_code == 404, url
