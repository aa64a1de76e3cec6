"""Offer, quote round (the pricing editor), solo price and participation forms."""

from __future__ import annotations

import re
from decimal import Decimal

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput

from costshare.members.fields import (
    BaseForm,
    CheckList,
    NumberField,
    PercentField,
    QuickDateInput,
    QuickHiddenInput,
    QuickSelect,
    RowForm,
    WholeNumberField,
    choices,
    currency_check,
    upper_text,
    whole_number,
)
from costshare.offers.models import OFFER_STATUSES, PARTICIPATION_STATUSES

ATTRIBUTE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
ATTRIBUTE_MESSAGE = "A member fact such as fte or budget, or sector."
#: The pricing kinds of the editor and how they read; each maps onto spec section 6 or 7.
PRICING_KINDS = {
    "total": "Fixed total",
    "list_discount": "List price with participation discounts",
    "per_member_table": "Per-member price table (by a category such as sector)",
    "per_member_list": "Per-member price list (by a number such as FTE)",
    "per_unit": "Per-unit rate with floor and cap",
    "totals": "An explicit total for each year of the term",
}
BLOCK_ROUNDING = [
    ("nearest", "to the nearest block"),
    ("up", "up to a whole block"),
    ("down", "down to a whole block"),
]
MAX_ROWS = 200


def attribute_check(form: object, field: StringField) -> None:
    if field.data and not ATTRIBUTE.match(field.data):
        raise ValidationError(ATTRIBUTE_MESSAGE)


class OfferForm(BaseForm):
    resource_id = SelectField("Resource", coerce=int, validate_choice=True)
    title = StringField("Title", [InputRequired("Give the offer a title."), Length(max=255)])
    term_start = DateField("Term starts", [InputRequired("Give the first day of the term.")])
    term_end = DateField("Term ends", [InputRequired("Give the last day of the term.")])
    currency = StringField(
        "Currency",
        [InputRequired("Give the currency of the offer."), currency_check],
        filters=[upper_text],
    )
    status = SelectField(
        "Status", choices=choices((s, s.capitalize()) for s in OFFER_STATUSES), default="draft"
    )
    deadline = DateField("Answer due", [Optional()])
    notes = TextAreaField("Notes", [Optional(), Length(max=5000)])
    version = HiddenField()
    submit = SubmitField("Save offer")

    def validate_term_end(self, field: DateField) -> None:
        # Mirrors ck_offer_term_ends_after_start.
        if field.data and self.term_start.data and field.data <= self.term_start.data:
            raise ValidationError("The term must end after it starts.")
        if field.data and self.term_start.data and (field.data - self.term_start.data).days > 3660:
            raise ValidationError("A term longer than ten years is surely a typo.")

    def values(self) -> dict:
        return {
            "resource_id": self.resource_id.data,
            "title": self.title.data,
            "term_start": self.term_start.data,
            "term_end": self.term_end.data,
            "currency": self.currency.data,
            "status": self.status.data,
            "deadline": self.deadline.data,
            "notes": self.notes.data or None,
        }


def version_of(field: HiddenField) -> int | None:
    """Return the version a form carried (None when it carried none or junk)."""
    return whole_number(field.data)


class DiscountTierForm(RowForm):
    min_members = WholeNumberField("From members", minimum=1, maximum=100000)
    discount = PercentField("Discount (%)")


class TableRowForm(RowForm):
    category = StringField("Category", [Optional(), Length(max=64)])
    price = NumberField("Price")


class ListTierForm(RowForm):
    min = NumberField("From", places=6)
    price = NumberField("Price")


class RoundForm(BaseForm):
    """A quote round: its label, and its pricing in the engine's terms (the pricing editor)."""

    label = StringField("Label", [Optional(), Length(max=255)])
    received_on = DateField("Received on", [Optional()])
    notes = TextAreaField("Notes", [Optional(), Length(max=5000)])
    kind = SelectField("Pricing", choices=choices(PRICING_KINDS.items()), default="total")
    total = NumberField("Total for the year")
    tiers = FieldList(FormField(DiscountTierForm), max_entries=MAX_ROWS)
    table_attribute = StringField(
        "Category attribute", [Optional(), attribute_check], default="sector"
    )
    table_rows = FieldList(FormField(TableRowForm), max_entries=MAX_ROWS)
    list_attribute = StringField(
        "Price-list attribute", [Optional(), attribute_check], default="fte"
    )
    list_tiers = FieldList(FormField(ListTierForm), max_entries=MAX_ROWS)
    block_above = NumberField("Blocks above", places=6)
    block_size = NumberField("Block size", places=6)
    block_price = NumberField("Price per block")
    block_round = SelectField(
        "Round the attribute", choices=choices(BLOCK_ROUNDING), default="nearest"
    )
    unit_attribute = StringField("Unit attribute", [Optional(), attribute_check], default="fte")
    rate = NumberField("Rate per unit", places=6)
    unit_floor = NumberField("Floor (least a member pays)")
    unit_cap = NumberField("Cap (most a member pays)")
    uplift = PercentField("Yearly uplift (%)", minimum=Decimal(-99), maximum=Decimal(100))
    year_totals = FieldList(NumberField("Year total"), max_entries=11)
    surcharge = PercentField("Consortium surcharge (%)")
    subsidy = NumberField("Subsidy (paid by a third party)")
    make_current = BooleanField("Make this the current round", default=True)
    version = HiddenField()
    submit = SubmitField("Save round")


class SoloImportForm(BaseForm):
    file = FileField("Solo prices (XLSX or CSV with code and amount columns)")
    version = HiddenField()
    submit = SubmitField("Import solo prices")


class VersionForm(BaseForm):
    """A button that posts with the version of what it changes."""

    version = HiddenField()
    submit = SubmitField("Confirm")


class ParticipantRowForm(RowForm):
    """One member's row of the participants table (written by the quick widgets: same HTML)."""

    member_id = HiddenField(widget=QuickHiddenInput())
    status = SelectField(
        "Status",
        choices=choices(
            [("", "— remove —"), *((s, s.capitalize()) for s in PARTICIPATION_STATUSES)]
        ),
        widget=QuickSelect(),
    )
    invited_on = DateField("Invited on", [Optional()], widget=QuickDateInput())
    decided_on = DateField("Decided on", [Optional()], widget=QuickDateInput())

    def validate_decided_on(self, field: DateField) -> None:
        if field.data and self.invited_on.data and field.data < self.invited_on.data:
            raise ValidationError("A member cannot decide before it is invited.")
        if field.data and self.status.data == "invited":
            raise ValidationError("An invited member has not decided yet: clear this date.")


class ParticipantsForm(BaseForm):
    rows = FieldList(FormField(ParticipantRowForm), max_entries=5000)
    version = HiddenField()
    submit = SubmitField("Save participation")


class InviteForm(BaseForm):
    members = SelectMultipleField(
        "Members to invite",
        coerce=int,
        widget=CheckList(),
        option_widget=CheckboxInput(),
    )
    invited_on = DateField("Invited on", [Optional()])
    version = HiddenField()
    submit = SubmitField("Invite")

    def validate_members(self, field: SelectMultipleField) -> None:
        if not field.data:
            raise ValidationError("Tick at least one member to invite.")
