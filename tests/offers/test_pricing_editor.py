"""The pricing editor writes a round's pricing in exactly the engine's shape, and reads it back."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from costshare.offers.forms import RoundForm
from costshare.offers.pricing import field_for, form_data, pricing_from_form

SHAPES = [
    (
        1,
        {
            "pricing": {
                "kind": "list_discount",
                "tiers": [
                    {"min_members": 6, "discount": "0.08"},
                    {"min_members": 12, "discount": "0.15"},
                ],
            }
        },
    ),
    (1, {"total": "248000.00", "surcharge": "0.03"}),
    (3, {"total": "168500.00", "term": {"years": 3, "uplift": "0.03"}}),
    (
        1,
        {
            "pricing": {
                "kind": "per_unit",
                "attribute": "fte",
                "rate": "0.34",
                "floor": "700.00",
                "cap": "11000.00",
            }
        },
    ),
    (
        1,
        {
            "pricing": {
                "kind": "per_member",
                "attribute": "sector",
                "price_table": {"university": "14500.00", "college": "3900.00"},
                "tiers": [{"min_members": 8, "discount": "0.12"}],
            }
        },
    ),
    (
        1,
        {
            "pricing": {
                "kind": "per_member",
                "price_list": {
                    "attribute": "fte",
                    "tiers": [{"min": "0", "price": "600.00"}, {"min": "2001", "price": "900.00"}],
                    "block": {"above": "10000", "size": "5000", "price": "50.00", "round": "up"},
                },
            }
        },
    ),
    (3, {"term": {"totals": ["250000.00", "257500.00", "265225.00"]}, "subsidy": "80000.00"}),
    (
        1,
        {
            "pricing": {"kind": "list_discount", "tiers": [{"min_members": 5, "discount": "0.1"}]},
            "price_list": {
                "attribute": "fte",
                "tiers": [{"min": "0", "price": "600.00"}, {"min": "4001", "price": "1250.00"}],
            },
        },
    ),
]


def _posted(data: dict) -> MultiDict:
    """Turn the editor's data into what the browser posts (rows as name-index-field)."""
    posted = MultiDict()
    form = RoundForm(formdata=None, data=data, meta={"csrf": False})
    for field in form:
        if field.type == "FieldList":
            for entry in field.entries:
                if hasattr(entry, "form"):
                    for sub in entry.form:
                        posted.add(
                            sub.name, sub._value() if sub.type != "SelectField" else sub.data or ""
                        )
                else:
                    posted.add(entry.name, entry._value())
        elif field.type == "SelectField":
            posted.add(field.name, field.data or "")
        elif field.type not in ("SubmitField", "BooleanField", "HiddenField"):
            posted.add(field.name, field._value() if hasattr(field, "_value") else "")
    return posted


@pytest.mark.parametrize(("years", "pricing"), SHAPES)
def test_every_pricing_kind_reads_into_the_editor_and_writes_back_the_same(
    app, years, pricing
) -> None:
    with app.test_request_context():
        form = RoundForm(formdata=_posted(form_data(pricing, years)), meta={"csrf": False})
        assert form.validate(), form.errors
        assert pricing_from_form(form, years, "EUR").pricing == pricing


def test_typed_percentages_become_fractions_and_blank_rows_are_skipped(app) -> None:
    posted = MultiDict(
        {
            "kind": "list_discount",
            "tiers-0-min_members": "",
            "tiers-0-discount": "",
            "tiers-1-min_members": "5",
            "tiers-1-discount": "12.5",
            "surcharge": "2",
        }
    )
    with app.test_request_context():
        form = RoundForm(formdata=posted, meta={"csrf": False})
        assert form.validate(), form.errors
        written = pricing_from_form(form, 1, "EUR")
    # 12.5 % is the fraction 0.125; 2 % is 0.02.
    assert written.pricing == {
        "pricing": {"kind": "list_discount", "tiers": [{"min_members": 5, "discount": "0.125"}]},
        "surcharge": "0.02",
    }
    assert written.rows["pricing.tiers"] == [1]
    # The engine's index 0 is the editor's row 1.
    assert field_for("pricing.tiers[0].discount", written, "list_discount") == "tiers-1-discount"


def test_engine_paths_name_the_editor_inputs(app) -> None:
    with app.test_request_context():
        written = pricing_from_form(
            RoundForm(
                formdata=MultiDict(
                    {
                        "kind": "per_member_table",
                        "table_rows-0-category": "university",
                        "table_rows-0-price": "10",
                        "table_rows-1-category": "college",
                        "table_rows-1-price": "5",
                    }
                ),
                meta={"csrf": False},
            ),
            1,
            "EUR",
        )
    assert field_for("pricing.price_table.college", written, "per_member_table") == (
        "table_rows-1-price"
    )
    assert field_for("pricing.attribute", written, "per_member_table") == "table_attribute"
    assert field_for("total", written, "total") == "total"
    assert field_for("price_list.block.size", written, "list_discount") == "block_size"
    assert field_for("term.totals[2]", written, "totals") == "year_totals-2"
    assert field_for("formula.components", written, "total") is None
