"""Usage forms: uploading COUNTER files, SUSHI credentials and harvests, the usage filters."""

from __future__ import annotations

from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from costshare.members.fields import BaseForm, choices, text_problem
from costshare.usage.reports import METRICS, metric_label

MONTH_PATTERN = r"^\d{4}-\d{1,2}$"
MONTH_MESSAGE = "Write a month as YYYY-MM, e.g. 2026-01."
#: The reports a harvest can ask for: the masters first, then their standard views.
HARVEST_REPORTS = (
    "TR",
    "DR",
    "PR",
    "IR",
    "TR_J1",
    "TR_J2",
    "TR_J3",
    "TR_J4",
    "TR_B1",
    "TR_B2",
    "TR_B3",
    "DR_D1",
    "DR_D2",
    "PR_P1",
    "IR_A1",
    "IR_M1",
)
METRIC_CHOICES = choices((m, metric_label(m)) for m in METRICS)


class UploadForm(BaseForm):
    # The member is optional: without one it is taken from the file's institution id.
    files = MultipleFileField("COUNTER files")
    member_id = SelectField("Member", coerce=str, default="")
    platform = StringField("Platform", [Optional(), Length(max=255)])
    submit = SubmitField("Import")

    def validate_files(self, field: MultipleFileField) -> None:
        if not [f for f in field.data or [] if getattr(f, "filename", "")]:
            raise ValidationError("Choose one or more COUNTER files.")


class CredentialForm(BaseForm):
    member_id = SelectField("Member", coerce=str, validators=[InputRequired("Choose the member.")])
    vendor_id = SelectField("Vendor", coerce=str, validators=[InputRequired("Choose the vendor.")])
    base_url = StringField(
        "Base URL",
        [InputRequired("Give the SUSHI server's base address."), Length(max=512)],
    )
    customer_id = StringField(
        "Customer id", [InputRequired("Give the customer id."), Length(max=255)]
    )
    requestor_id = StringField("Requestor id", [Optional(), Length(max=255)])
    # A password input: the stored key is never sent back to the browser.
    api_key = PasswordField("API key", [Optional(), Length(max=255)])
    clear_api_key = BooleanField("Remove the stored API key")
    platform = StringField("Platform", [Optional(), Length(max=255)])
    submit = SubmitField("Save credentials")

    def validate_api_key(self, field: PasswordField) -> None:
        # A password input is not cleaned like the text inputs: refuse what cannot be stored
        # (PostgreSQL refuses NUL) or sent in a SUSHI request, rather than change the key.
        problem = text_problem(field.data or "", "API key")
        if problem:
            raise ValidationError(problem)

    def values(self) -> dict:
        return {
            "member_id": _id(self.member_id.data),
            "vendor_id": _id(self.vendor_id.data),
            "base_url": self.base_url.data,
            "customer_id": self.customer_id.data,
            "requestor_id": self.requestor_id.data,
            "api_key": self.api_key.data,
            "clear_api_key": self.clear_api_key.data,
            "platform": self.platform.data,
        }


class HarvestForm(BaseForm):
    report = SelectField("Report", choices=choices((r, r) for r in HARVEST_REPORTS), default="TR")
    begin = StringField(
        "First month", [InputRequired(MONTH_MESSAGE), Regexp(MONTH_PATTERN, message=MONTH_MESSAGE)]
    )
    end = StringField(
        "Last month", [InputRequired(MONTH_MESSAGE), Regexp(MONTH_PATTERN, message=MONTH_MESSAGE)]
    )
    submit = SubmitField("Harvest")


def _id(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None
