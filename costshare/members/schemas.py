"""JSON Schema pieces for the API documents of members, vendors, resources and offers.

They say what the forms accept, as closely as JSON Schema can: a script that
follows the document is refused only for what no schema can say (a code
already taken, a term that ends before it starts, a pricing the engine cannot
price).
"""

from __future__ import annotations

from typing import Any

from babel.numbers import is_currency, list_currencies

from costshare.members.forms import CODE_PATTERN, MAX_YEAR, MIN_YEAR, RESERVED_FACTS

#: A text with at least one visible character (texts are stripped; NUL is dropped).
TEXT_PATTERN = r"[^\s\x00]"
EMAIL_PATTERN = (
    r"^[a-z0-9]{1,20}([._+-][a-z0-9]{1,20}){0,3}@([a-z0-9]{1,20}(-[a-z0-9]{1,20}){0,2}\.){1,4}"
    r"[a-z]{2,24}$"
)
WEBSITE_PATTERN = r"^https?://([a-z0-9]{1,20}(-[a-z0-9]{1,20}){0,2}\.){1,4}[a-z]{2,20}(/[A-Za-z0-9._~/-]{0,100})?$"
MONEY_PATTERN = r"^[0-9]{1,14}(\.[0-9]{1,4})?$"
FACT_VALUE_PATTERN = r"^[0-9]{1,14}(\.[0-9]{1,6})?$"
FRACTION_PATTERN = r"^(0(\.[0-9]{1,6})?|1(\.0{1,6})?)$"
TITLE_ID_PATTERN = (
    r"^([0-9]{4}-?[0-9]{3}[0-9X]|(97[89])?[0-9]{9}[0-9X]|10\.[0-9]{4,9}/[!-~]{1,100}"
    r"|[A-Za-z][A-Za-z0-9_.-]{0,40}:[!-~]{1,100})$"
)


def text(max_length: int, required: bool = False) -> dict[str, Any]:
    """A text field: required ones need a visible character; optional ones may be null."""
    if required:
        return {"type": "string", "maxLength": max_length, "pattern": TEXT_PATTERN}
    return {"type": "string", "maxLength": max_length, "nullable": True}


def currencies() -> list[str]:
    return sorted(c for c in list_currencies() if len(c) == 3 and is_currency(c))


CURRENCY = {"type": "string", "enum": currencies()}
EMAIL = {"type": "string", "maxLength": 254, "pattern": EMAIL_PATTERN, "nullable": True}
DATE = {"type": "string", "format": "date"}
DATE_OR_NULL = {"type": "string", "format": "date", "nullable": True}
ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
MEMBER_CODE = {"type": "string", "pattern": CODE_PATTERN}
FACT_NAME = {
    "type": "string",
    "pattern": r"^[a-z][a-z0-9_]{0,63}$",
    "not": {"enum": sorted(RESERVED_FACTS)},
}
YEAR = {"type": "integer", "minimum": MIN_YEAR, "maximum": MAX_YEAR}
