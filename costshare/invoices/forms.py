"""Forms of the billing pages: a run, a payment, voiding, a draft's note."""

from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from costshare.db import today
from costshare.invoices.models import RUN_MODES
from costshare.members.fields import BaseForm

MODE_LABELS = {
    "per_member": "One per member, a line per resource",
    "per_member_resource": "One per member and resource",
}


def rate_field(source: str, target: str) -> str:
    """Name the form field of the rate from `source` to `target` (the service's `field`)."""
    return f"rate_{source}_{target}"


class RunForm(BaseForm):
    """Draft a billing run. Exchange-rate fields are added per currency pair (see `run_form`)."""

    year = SelectField("Year billed", coerce=int, validators=[InputRequired()])
    mode = SelectField(
        "Invoices",
        choices=[SelectChoice(m, MODE_LABELS[m]) for m in RUN_MODES],
        default="per_member",
    )
    name = StringField("Name", [Optional(), Length(max=255)])
    issue_date = DateField("Issue date", [Optional()])
    due_date = DateField("Due date", [Optional()])
    #: Mirrors ck_billing_run_tax_rate_non_negative; entered in percent.
    tax_percent = DecimalField(
        "Tax rate (%)",
        [InputRequired("Give the tax rate, 0 for none."), NumberRange(min=0, max=99.99)],
        places=None,
    )

    def validate_due_date(self, field: DateField) -> None:
        if field.data and self.issue_date.data and field.data < self.issue_date.data:
            raise ValueError("The due date cannot be before the issue date.")


def run_form(pairs: list[tuple[str, str]], **kwargs) -> RunForm:
    """Return a RunForm with a rate and a rate date field for each currency pair."""

    class Form(RunForm):
        pass

    for source, target in pairs:
        name = rate_field(source, target)
        setattr(
            Form,
            name,
            DecimalField(
                f"1 {source} = … {target}",
                [
                    InputRequired(f"Enter the rate from {source} to {target}."),
                    NumberRange(min=Decimal("0.000001"), message="The rate must be positive."),
                ],
                places=None,
            ),
        )
        setattr(
            Form,
            f"{name}_date",
            DateField(
                f"Date of the {source}→{target} rate",
                [InputRequired("Give the date of this rate.")],
            ),
        )
    return Form(**kwargs)


class PaymentForm(BaseForm):
    #: Mirrors ck_payment_amount_positive.
    amount = DecimalField(
        "Amount received",
        [
            InputRequired("Give the amount."),
            NumberRange(min=Decimal("0.0001"), message="More than 0."),
        ],
        places=None,
    )
    paid_on = DateField("Received on", [InputRequired("Give the date.")], default=today)
    reference = StringField("Reference", [Optional(), Length(max=255)])


class VoidForm(BaseForm):
    reason = TextAreaField(
        "Reason", [InputRequired("Say why the invoice is voided."), Length(max=2000)]
    )
    reissue = BooleanField("Draft a corrected invoice for the same shares", default=True)


class NotesForm(BaseForm):
    notes = TextAreaField("Note printed on the invoice", [Optional(), Length(max=2000)])


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token."""
