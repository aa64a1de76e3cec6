"""Form pieces the member, vendor, offer and user forms share.

- `BaseForm` / `RowForm`: every text input is stripped and loses NUL characters
  (PostgreSQL refuses them), so no typed text can reach the database raw.
- `NumberField`, `PercentField`, `WholeNumberField`: numbers a person types,
  parsed exactly (`Decimal`), bounded to what the columns hold, with a sentence
  for anything else — never an exception.
- `formdata_from_json` / `read_json` / `form_problems`: the JSON API validates
  with the very same forms, so a rule cannot differ between a page and a script.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import is_currency
from flask import request
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from wtforms import Form, PasswordField, SelectChoice, StringField
from wtforms.utils import unset_value
from wtforms.validators import ValidationError
from wtforms.widgets import DateInput, HiddenInput, ListWidget, Select, TextArea, TextInput

from costshare.errors import ServiceError

#: Money columns are Numeric(18, 4) and facts Numeric(20, 6): both hold less than 10^14.
MAX_AMOUNT = Decimal(10) ** 14
_PLAIN = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
_GROUPED = re.compile(r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$")
NUMBER_HINT = "Write a number such as 1250 or 1250.50."


def clean_text(value: Any) -> Any:
    """Strip a text, drop NUL characters and lone surrogates; leave anything else as it is.

    PostgreSQL refuses NUL in text, and no database can store half a UTF-16 pair
    (which JSON can send as "\\ud800").
    """
    if isinstance(value, str):
        value = value.replace("\x00", "")
        if not value.isascii():
            value = value.encode("utf-8", "replace").decode("utf-8")
        return value.strip()
    return value


#: Characters no stored text may hold: C0/C1 controls (NUL…) and halves of a UTF-16 pair.
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"[\t\n\r]")
_BROKEN = re.compile(r"[\x00\ud800-\udfff]")


def text_problem(value: str, what: str, multiline: bool = False) -> str | None:
    """Return why `value` cannot be kept as the `what` (a sentence), or None.

    Refused: control characters (NUL and the like, which PostgreSQL or a
    spreadsheet cannot take) and half of a Unicode pair (JSON can send "\\ud800");
    tabs and line breaks too unless the text may have several lines.
    """
    found = _UNSTORABLE.search(value) or (not multiline and _LINE_BREAKS.search(value))
    if not found:
        return None
    char = found.group()
    if "\ud800" <= char <= "\udfff":
        return f"The {what} holds half of a Unicode character ({char!a}): send whole characters."
    if char in "\t\n\r":
        return f"The {what} must be one line, without tabs or line breaks."
    return f"The {what} holds the control character {char!a}: remove it."


def has_broken_text(value: Any) -> bool:
    """Whether any text in parsed JSON `value` (keys too) holds NUL or a lone surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _BROKEN.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class _CleanMeta:
    """Text fields get `clean_text` on their data and on their raw input alike.

    The validators that look at the raw input (`InputRequired`) then see what is
    stored: a name of only spaces is no name, and is refused beside its field.
    """

    def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
        cls = unbound_field.field_class
        if issubclass(cls, StringField) and not issubclass(cls, PasswordField):
            filters = [*unbound_field.kwargs.get("filters", ()), clean_text]
            return _clean_raw_data(unbound_field.bind(form=form, filters=filters, **options))
        return unbound_field.bind(form=form, **options)


def _clean_raw_data(field: Any) -> Any:
    """Make `field` clean its raw input once it has read it, before any validator runs."""
    process = field.process

    def process_clean(formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        process(formdata, data, extra_filters)
        if field.raw_data:
            field.raw_data = [clean_text(value) for value in field.raw_data]

    field.process = process_clean
    return field


class BaseForm(FlaskForm):
    """A page form (CSRF on) whose text inputs arrive clean."""

    class Meta(_CleanMeta):
        pass


class RowForm(Form):
    """A row inside a `FieldList` (the outer form carries the CSRF token)."""

    class Meta(_CleanMeta):
        pass


def plain_number(value: Decimal | int | None) -> str:
    """Write a number without exponent or trailing zeros: 12000.000000 → 12000."""
    if value is None:
        return ""
    value = Decimal(value)
    if value == value.to_integral_value():
        # Not quantize(1): beyond 28 digits (a spreadsheet's 1E+30) it raises.
        return format(value.to_integral_value(), "f")
    return format(value.normalize(), "f")


def parse_number(text: str) -> Decimal:
    """Return the number a person wrote, or raise ValueError with a sentence."""
    compact = text.strip().replace(" ", "").replace("\u00a0", "").replace("_", "")
    if _GROUPED.match(compact):
        compact = compact.replace(",", "")
    if not _PLAIN.match(compact):
        raise ValueError(NUMBER_HINT)
    try:
        return Decimal(compact)
    except InvalidOperation as error:  # pragma: no cover - the pattern admits only decimals
        raise ValueError(NUMBER_HINT) from error


def check_number(
    value: Decimal, minimum: Decimal | None, maximum: Decimal | None, places: int | None
) -> str | None:
    """Return why `value` is out of bounds, or None."""
    if minimum is not None and value < minimum:
        return (
            "Cannot be negative." if minimum == 0 else f"Must be at least {plain_number(minimum)}."
        )
    if maximum is not None and value > maximum:
        return f"Must be at most {plain_number(maximum)}."
    if places is not None and -value.as_tuple().exponent > places:  # type: ignore[operator]
        return f"Use at most {places} decimal places."
    return None


class NumberField(StringField):
    """A decimal number typed by a person: exact, finite, bounded."""

    def __init__(
        self,
        label: str | None = None,
        validators: Iterable[Any] | None = None,
        minimum: Decimal | None = Decimal(0),
        maximum: Decimal | None = MAX_AMOUNT - 1,
        places: int | None = 4,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)
        self.minimum, self.maximum, self.places = minimum, maximum, places

    def to_shown(self, value: Decimal) -> Decimal:
        return value

    def from_typed(self, value: Decimal) -> Decimal:
        return value

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        if not valuelist or not str(valuelist[0]).strip():
            return
        self.data = self.from_typed(parse_number(str(valuelist[0])))

    def process_data(self, value: Any) -> None:
        self.data = None if value in (None, "") else Decimal(str(value))

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else plain_number(self.to_shown(self.data))

    def pre_validate(self, form: Any) -> None:
        if self.data is None:
            return
        problem = check_number(self.to_shown(self.data), self.minimum, self.maximum, self.places)
        if problem:
            raise ValidationError(problem)


class PercentField(NumberField):
    """A fraction typed as a percentage: 10 on the page is 0.10 in the data."""

    def __init__(self, label: str | None = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("maximum", Decimal(100))
        kwargs.setdefault("places", 4)
        super().__init__(label, validators, **kwargs)

    def to_shown(self, value: Decimal) -> Decimal:
        return value * 100

    def from_typed(self, value: Decimal) -> Decimal:
        return (value / 100).normalize() if value else Decimal(0)


class WholeNumberField(StringField):
    """A whole number between `minimum` and `maximum` (years, member counts)."""

    def __init__(
        self,
        label: str | None = None,
        validators: Iterable[Any] | None = None,
        minimum: int = 0,
        maximum: int = 10**9,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "numeric", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        if not valuelist or not str(valuelist[0]).strip():
            return
        text = str(valuelist[0]).strip()
        if not re.fullmatch(r"[+-]?[0-9]{1,12}", text):
            raise ValueError("Write a whole number such as 2026.")
        self.data = int(text)

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else str(self.data)

    def pre_validate(self, form: Any) -> None:
        if self.data is not None and not self.minimum <= self.data <= self.maximum:
            raise ValidationError(f"Must be between {self.minimum} and {self.maximum}.")


def upper_text(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def currency_check(form: Any, field: Any) -> None:
    """Mirror the `*_iso_code` constraints: a known three-letter ISO 4217 code."""
    if field.data and (len(field.data) != 3 or not is_currency(field.data)):
        raise ValidationError("Use a three-letter ISO 4217 currency code such as EUR or CNY.")


def add_error(form: Any, field_name: str | None, message: str) -> None:
    """Show `message` beside the named field, or above the form when there is none."""
    field = form._fields.get(field_name) if field_name else None
    if field is None:
        form.form_errors.append(message)
    else:
        field.errors = [*field.errors, message]


# --- the JSON API goes through the same forms -------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def read_json() -> dict[str, Any]:
    """Return the request's JSON object (numbers as Decimal), or answer 400 with a sentence."""
    try:
        data = json.loads(
            request.get_data(cache=True) or b"null",
            parse_float=Decimal,
            parse_constant=_refuse_constant,
        )
    except (ValueError, RecursionError) as error:
        raise BadRequest("The request body must be valid JSON.") from error
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    return data


def _as_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def formdata_from_json(values: Mapping[str, Any], allowed: Iterable[str]) -> MultiDict:
    """Turn a JSON object into form data for the forms the pages use.

    Unknown keys and values that are objects are refused (422), so a typo in a
    script is not silently ignored.
    """
    allowed = set(allowed)
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ServiceError(
            f"Unknown field(s): {', '.join(unknown)}.",
            details={key: "Unknown field." for key in unknown},
        )
    data = MultiDict()
    for key, value in values.items():
        if value is None or value is False:
            continue
        if value is True:
            data.add(key, "y")
        elif isinstance(value, dict | list):
            raise ServiceError(
                f"'{key}' must be a text, a number or a boolean.",
                field=key,
                details={key: "Must be a text, a number or a boolean."},
            )
        else:
            data.add(key, clean_text(_as_text(value)))
    return data


def form_problems(form: Any) -> dict[str, str]:
    """Return each field's first error (dotted names for rows of a list), and the form's."""
    problems: dict[str, str] = {}

    def walk(prefix: str, errors: Any) -> None:
        if isinstance(errors, dict):
            for key, value in errors.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value)
        elif isinstance(errors, list | tuple) and errors and not isinstance(errors[0], str):
            for index, value in enumerate(errors):
                walk(f"{prefix}[{index}]", value)
        elif errors:
            problems.setdefault(prefix or "form", str(errors[0]))

    for name, field in form._fields.items():
        if name == "csrf_token":
            continue
        walk(name, field.errors)
    if form.form_errors:
        problems["form"] = str(form.form_errors[0])
    return problems


def refuse(form: Any) -> ServiceError:
    """Return the 422 error that lists a form's problems (for the API)."""
    problems = form_problems(form)
    first = next(iter(problems.items()), ("form", "The data is not valid."))
    field = None if first[0] == "form" else first[0]
    label = f"{first[0]}: " if field else ""
    return ServiceError(f"{label}{first[1]}", field=field, details=problems)


def submitted(form: Any) -> bool:
    """Like `validate_on_submit`, and an expired CSRF token is told above the form."""
    if not form.is_submitted():
        return False
    valid = form.validate()
    if not valid and "csrf_token" in form.errors:
        form.form_errors.append(
            "This form has expired or was sent from another page: reload the page and try again."
        )
    return valid


def money_text(value: Decimal | None, currency: str) -> str:
    """Write an amount for an input: the currency's decimals at least (49022.30, not 49022.3)."""
    from babel.numbers import get_currency_precision

    if value is None:
        return ""
    places = max(get_currency_precision(currency), -Decimal(value).normalize().as_tuple().exponent)
    return format(Decimal(value).quantize(Decimal(1).scaleb(-places)), "f")


def html_attributes(**kwargs: Any) -> str:
    """Write HTML attributes exactly as WTForms' `html_params` does, eight times sooner.

    Sorted by name; a trailing `_` dropped (`class_`); `data_`/`aria_` names
    hyphenated; `True` alone, `False` left out; every value escaped. WTForms
    builds each pair with `Markup.format`, which costs ~25 µs a field.
    """
    params = []
    for key in sorted(kwargs):
        value = kwargs[key]
        name = key.rstrip("_")
        if name.startswith(("data_", "aria_")):
            name = name.replace("_", "-")
        if value is True:
            params.append(name)
        elif value is not False:
            params.append(f'{name}="{escape(value)}"')
    return " ".join(params)


class QuickTextInput(TextInput):
    """`TextInput`, the same HTML sooner: for fields repeated on every row of a table."""

    html_params = staticmethod(html_attributes)


class QuickDateInput(DateInput):
    """`DateInput`, the same HTML sooner."""

    html_params = staticmethod(html_attributes)


class QuickHiddenInput(HiddenInput):
    """`HiddenInput`, the same HTML sooner."""

    html_params = staticmethod(html_attributes)


def _validation_attributes(widget: Any, field: Any, kwargs: dict[str, Any]) -> None:
    """Add the field's id and the attributes its validators imply, as WTForms' widgets do."""
    kwargs.setdefault("id", field.id)
    flags = getattr(field, "flags", {})
    for k in dir(flags):
        if k in widget.validation_attrs and k not in kwargs:
            kwargs[k] = getattr(flags, k)


class QuickTextArea(TextArea):
    """`TextArea`, the same HTML sooner."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        _validation_attributes(self, field, kwargs)
        params = html_attributes(name=field.name, **kwargs)
        return Markup(f"<textarea {params}>\r\n{escape(field._value())}</textarea>")  # noqa: S704


class QuickSelect(Select):
    """`Select`, the same HTML sooner: the tag and its options written without `Markup.format`.

    A select with option groups is left to WTForms (none of ours has them).
    """

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        if field.has_groups():
            return super().__call__(field, **kwargs)
        if self.multiple:
            kwargs["multiple"] = True
        _validation_attributes(self, field, kwargs)
        html = [f"<select {html_attributes(name=field.name, **kwargs)}>"]
        html.extend(self.render_option(choice) for choice in field._iter_choices_normalized())
        html.append("</select>")
        return Markup("".join(html))  # noqa: S704

    @classmethod
    def render_option(cls, choice: Any, **kwargs: Any) -> Markup:
        value = choice.value
        if isinstance(value, bool):
            value = str(value)
        label = escape(choice.label or choice.value)
        if not kwargs and not choice.render_kw:  # the usual option: its value, maybe selected
            selected = "selected " if choice.selected else ""
            return Markup(f'<option {selected}value="{escape(value)}">{label}</option>')  # noqa: S704
        options = {"value": value, **(choice.render_kw or {}), **kwargs}
        if choice.selected:
            options["selected"] = True
        return Markup(f"<option {html_attributes(**options)}>{label}</option>")  # noqa: S704


class CheckList(ListWidget):
    """A multiple select as a list of checkboxes, written in one pass.

    The same HTML as `ListWidget(prefix_label=False)` with `CheckboxInput`
    options, but without a field, a label and a widget per choice: inviting
    from 500 members took 100 ms to write that way and takes 2 ms this way.
    """

    def __init__(self) -> None:
        super().__init__(prefix_label=False)

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        listed = field.iter_choices()
        flags = getattr(field, "flags", None)
        if (
            field.render_kw
            or any(c.render_kw for c in listed)
            or (flags is not None and (flags.required or flags.disabled))
        ):
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        name, prefix = escape(field.name), escape(field.id)
        html = [f"<ul {html_attributes(**kwargs)}>"]
        for n, choice in enumerate(listed):
            box_id = f"{prefix}-{n}"
            checked = "checked " if choice.selected else ""
            value = escape(choice.value)
            label = escape(choice.label or choice.value)
            html.append(
                f'<li><input {checked}id="{box_id}" name="{name}" type="checkbox" value="{value}">'
                f' <label for="{box_id}">{label}</label></li>'
            )
        html.append("</ul>")
        return Markup("".join(html))  # noqa: S704 - every value above is escaped


def choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """Return (value, label) pairs as the options of a select (WTForms' SelectChoice)."""
    return [SelectChoice(value, label) for value, label in pairs]


def whole_number(text: str | None, digits: int = 9) -> int | None:
    """Return `text` as a whole number of at most `digits` ASCII digits, else None.

    (`str.isdigit` admits "²", which `int` refuses: never trust it alone.)
    """
    text = (text or "").strip()
    if text.isascii() and text.isdigit() and 0 < len(text) <= digits:
        return int(text)
    return None


def save_form(
    form: Any,
    call: Any,
    message: Any,
    target: Any,
) -> Any:
    """Validate `form`, run one service call, commit once, flash and redirect.

    `call()` runs the service; `message(result)` and `target(result)` give the
    sentence to flash and the URL to go to. Returns the redirect, or None when
    the form is not submitted or is refused (the refusal shown beside the field).
    """
    from flask import flash, redirect

    from costshare.db import get_session

    if not submitted(form):
        return None
    try:
        result = call()
    except ServiceError as error:
        add_error(form, error.field, error.message)
        return None
    get_session().commit()
    flash(message(result), "success")
    return redirect(target(result))


def whole_number_arg(name: str) -> int | None:
    """Return the query-string argument `name` as an id-sized whole number, else None."""
    return whole_number(request.args.get(name))
