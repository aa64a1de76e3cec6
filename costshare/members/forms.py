"""Member forms: the member itself, its facts, and member files to import."""

from __future__ import annotations

import re
from decimal import Decimal

from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional, Regexp

from costshare.members.fields import (
    BaseForm,
    NumberField,
    WholeNumberField,
    choices,
    currency_check,
    upper_text,
)
from costshare.members.models import TAX_TREATMENTS

TAX_LABELS = {
    "standard": "Standard (the consortium's rate)",
    "exempt": "Exempt",
    "reverse_charge": "Reverse charge",
}
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"
CODE_MESSAGE = (
    "Use up to 32 letters, digits, dots, dashes or underscores, starting with a letter or digit."
)
#: Fact names become engine attribute names: lower-case letters, digits and underscores.
FACT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
FACT_NAME_MESSAGE = "Fact names use lower-case letters, digits and underscores, e.g. fte or budget."
#: Attributes the allocation inputs fill in themselves; a fact cannot take these names.
RESERVED_FACTS = frozenset(("solo_price", "previous_share", "sector"))
MIN_YEAR, MAX_YEAR = 1900, 2200
#: Facts are Numeric(20, 6).
FACT_PLACES = 6
#: The fields of a member, in the order files and the API list them.
MEMBER_FIELDS = (
    "code",
    "name",
    "sector",
    "billing_currency",
    "tax_treatment",
    "tax_rate",
    "billing_address",
    "finance_contact_name",
    "finance_contact_email",
    "tax_id",
    "counter_ids",
    "active",
)
BOOLEAN_FALSE = ("false", "0", "no", "n", "off", "")


def fact_name_problem(name: str) -> str | None:
    """Return why `name` cannot name a fact, or None."""
    if not FACT_NAME.match(name):
        return FACT_NAME_MESSAGE
    if name in RESERVED_FACTS:
        return f"'{name}' is filled in by costshare itself and cannot name a fact."
    return None


class MemberForm(BaseForm):
    code = StringField(
        "Code",
        [
            InputRequired("Give the member a short code."),
            Regexp(CODE_PATTERN, message=CODE_MESSAGE),
        ],
    )
    name = StringField("Name", [InputRequired("Give the member's name."), Length(max=255)])
    sector = StringField("Sector or group", [Optional(), Length(max=64)])
    billing_currency = StringField(
        "Billing currency",
        [InputRequired("Give a currency such as EUR."), currency_check],
        filters=[upper_text],
        default="EUR",
    )
    tax_treatment = SelectField(
        "Tax",
        # Mirrors ck_member_tax_treatment_known.
        choices=choices((key, TAX_LABELS[key]) for key in TAX_TREATMENTS),
        default="standard",
        validate_choice=True,
    )
    # Mirrors ck_member_tax_rate_non_negative; a fraction like the other rates.
    tax_rate = NumberField("Tax rate override", [Optional()], maximum=Decimal(1), places=6)
    billing_address = TextAreaField("Billing address", [Optional(), Length(max=2000)])
    finance_contact_name = StringField("Finance contact", [Optional(), Length(max=255)])
    finance_contact_email = EmailField(
        "Finance contact email",
        [
            Optional(),
            Length(max=255),
            Email("This is not an email address.", check_deliverability=False),
        ],
    )
    tax_id = StringField("Tax id", [Optional(), Length(max=64)])
    counter_ids = TextAreaField("COUNTER institution ids", [Optional(), Length(max=2000)])
    active = BooleanField(
        "Active (joins deals and is billed)", default=True, false_values=BOOLEAN_FALSE
    )
    submit = SubmitField("Save member")

    def values(self) -> dict:
        """Return the member's column values from the form."""
        data = {name: self._fields[name].data for name in MEMBER_FIELDS}
        for name in ("sector", "billing_address", "finance_contact_name", "tax_id", "counter_ids"):
            data[name] = data[name] or None
        data["finance_contact_email"] = (data["finance_contact_email"] or "").lower() or None
        return data


class FactForm(BaseForm):
    """One fact typed on its own (the API uses it for each fact it receives)."""

    year = WholeNumberField(
        "Year", [InputRequired("Give the year.")], minimum=MIN_YEAR, maximum=MAX_YEAR
    )
    name = StringField("Fact", [InputRequired("Name the fact."), Length(max=64)])
    value = NumberField("Value", [Optional()], places=FACT_PLACES)

    def validate_name(self, field: StringField) -> None:
        from wtforms.validators import ValidationError

        problem = fact_name_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


class ImportForm(BaseForm):
    file = FileField("Members file (CSV or XLSX)")
    submit = SubmitField("Check the file")


class ConfirmImportForm(BaseForm):
    token = StringField("token", [InputRequired(), Regexp(r"^[A-Za-z0-9_-]{16,64}$")])
    submit = SubmitField("Import")


class GridForm(BaseForm):
    """The CSRF token of a facts grid; the cells are read by `costshare.members.grid`."""

    submit = SubmitField("Save facts")
