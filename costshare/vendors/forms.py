"""Vendor and resource forms, with the COUNTER identifiers that match usage to a resource."""

from __future__ import annotations

import re

from wtforms import EmailField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import URL, Email, InputRequired, Length, Optional, ValidationError

from costshare.members.fields import BaseForm, choices
from costshare.offers.models import RESOURCE_KINDS

MAX_TITLE_IDS = 20000
_ISSN = re.compile(r"^(\d{4})-?(\d{3}[\dX])$")
_ISBN = re.compile(r"^(97[89])?\d{9}[\dX]$")
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_NAMESPACED = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,40}:\S+$")


def normalise_title_id(text: str) -> str | None:
    """Return an ISSN, ISBN, DOI or namespace:value identifier in one spelling, or None."""
    value = text.strip()
    if not value or len(value) > 200:
        return None
    upper = value.upper()
    issn = _ISSN.match(upper)
    if issn:
        return f"{issn.group(1)}-{issn.group(2)}"
    digits = upper.replace("-", "").replace(" ", "")
    if _ISBN.match(digits) and len(digits) in (10, 13):
        return digits
    if _DOI.match(value):
        return value.lower()
    if _NAMESPACED.match(value):
        return value
    return None


def parse_title_ids(text: str) -> tuple[list[str], list[str]]:
    """Return the identifiers (deduplicated, in order) and a sentence per bad line."""
    ids: list[str] = []
    seen: set[str] = set()
    problems: list[str] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        value = normalise_title_id(line)
        if value is None:
            problems.append(
                f"Line {number}, “{line.strip()[:40]}”: not an ISSN, ISBN, DOI or namespace:id."
            )
        elif value not in seen:
            seen.add(value)
            ids.append(value)
    if len(ids) > MAX_TITLE_IDS:
        problems.append(f"At most {MAX_TITLE_IDS} identifiers per resource.")
    return ids, problems


class VendorForm(BaseForm):
    # Mirrors uq_vendor_name (checked by the service, ignoring case).
    name = StringField("Name", [InputRequired("Give the vendor's name."), Length(max=255)])
    website = StringField(
        "Website",
        [Optional(), Length(max=255), URL(message="A web address such as https://example.com.")],
    )
    contact_name = StringField("Contact", [Optional(), Length(max=255)])
    contact_email = EmailField(
        "Contact email",
        [
            Optional(),
            Length(max=255),
            Email("This is not an email address.", check_deliverability=False),
        ],
    )
    notes = TextAreaField("Notes", [Optional(), Length(max=5000)])
    submit = SubmitField("Save vendor")

    def values(self) -> dict:
        return {
            "name": self.name.data,
            "website": self.website.data or None,
            "contact_name": self.contact_name.data or None,
            "contact_email": (self.contact_email.data or "").lower() or None,
            "notes": self.notes.data or None,
        }


class ResourceForm(BaseForm):
    vendor_id = SelectField("Vendor", coerce=int, validate_choice=True)
    # Mirrors uq_resource_vendor_name (checked by the service).
    name = StringField("Name", [InputRequired("Give the resource's name."), Length(max=255)])
    kind = SelectField(
        "Kind",
        choices=choices((k, k.capitalize()) for k in RESOURCE_KINDS),
        default="database",
        validate_choice=True,
    )
    counter_platform = StringField("COUNTER platform", [Optional(), Length(max=255)])
    counter_database = StringField("COUNTER database", [Optional(), Length(max=255)])
    counter_title_ids = TextAreaField("Title identifiers", [Optional(), Length(max=2_000_000)])
    submit = SubmitField("Save resource")

    def validate_counter_title_ids(self, field: TextAreaField) -> None:
        _, problems = parse_title_ids(field.data or "")
        if problems:
            more = f" (and {len(problems) - 3} more lines)" if len(problems) > 3 else ""
            raise ValidationError(" ".join(problems[:3]) + more)

    def values(self) -> dict:
        ids, _ = parse_title_ids(self.counter_title_ids.data or "")
        return {
            "vendor_id": self.vendor_id.data,
            "name": self.name.data,
            "kind": self.kind.data,
            "counter_platform": self.counter_platform.data or None,
            "counter_database": self.counter_database.data or None,
            "counter_title_ids": ids,
        }
