"""The formula editor: components with weights, method, bounds and rounding, as form fields.

`FormulaFields.definition()` turns the fields into the engine's definition;
`load()` does the reverse; `show_errors()` puts each engine error beside the
field it names (the engine says `formula.components[1].attribute`, the form
shows it under the second used component row's attribute).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from costshare.engine import AllocationError
from costshare.members.fields import QuickSelect, QuickTextArea, QuickTextInput, whole_number


def choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    """Return (value, label) pairs as the choices of a SelectField."""
    return [SelectChoice(value, label) for value, label in pairs]


METHODS = choices(
    [
        ("formula", "Weighted components"),
        ("shapley", "Shapley value (each member's average marginal cost)"),
        ("equal_savings", "Equal savings (every member saves the same amount)"),
        ("proportional_savings", "Proportional savings (every member saves the same fraction)"),
    ]
)
KINDS = choices(
    [
        ("", "—"),
        ("equal", "Equal"),
        ("attribute", "Attribute"),
        ("tiers", "Tiers"),
        ("table", "Categories"),
    ]
)
TRANSFORMS = choices([("none", "—"), ("sqrt", "√x"), ("log1p", "log(1+x)")])
USAGE_WINDOWS = choices(
    [
        ("before_term", "Months before the term starts"),
        ("before_year", "Months before the billed year"),
        ("between", "From one month to another"),
    ]
)
USAGE_MISSING = choices(
    [
        ("", "— choose —"),
        ("zero", "Counts as zero"),
        ("refuse", "Stops the split, naming it"),
    ]
)
#: The usage metric select's first choice: the formula reads no usage.
NO_USAGE = ("", "— no usage —")
#: The stand-in resource select's first choice: the offer's own resource.
OWN_RESOURCE = ("", "The offer's own resource")
COMPONENT_ROWS = 5
MAX_COMPONENTS = 12
#: Engine fields of a component → the form field that shows their errors.
COMPONENT_FIELDS = {
    "kind": "kind",
    "attribute": "attribute",
    "weight": "weight",
    "transform": "transform",
    "name": "name",
    "tiers": "options",
    "weights": "options",
}
#: Engine fields of the formula → form fields.
FORMULA_FIELDS = {
    "formula.method": "method",
    "formula.fixed_fee": "fixed_fee",
    "formula.floor": "floor",
    "formula.cap": "cap",
    "formula.max_change": "max_change",
    "formula.rounding": "rounding_unit",
    "derived": "derived",
    "groups": "groups",
    # The usage settings (costshare.usage.services.clean_usage_spec); the longer paths first.
    "usage.attribute": "usage_attribute",
    "usage.metric": "usage_metric",
    "usage.window.months": "usage_months",
    "usage.window.begin": "usage_begin",
    "usage.window.end": "usage_end",
    "usage.window": "usage_window",
    "usage.resource_id": "usage_resource",
    "usage.missing": "usage_missing",
    "usage": "usage_metric",
}
#: The usage settings' fields (the "Usage" fieldset opens when one shows an error).
USAGE_FIELDS = (
    "usage_metric",
    "usage_attribute",
    "usage_window",
    "usage_months",
    "usage_begin",
    "usage_end",
    "usage_resource",
    "usage_missing",
)
_COMPONENT_PATH = re.compile(r"^formula\.components\[(\d+)\](?:\.(\w+))?")


def _optional_text(label: str, max_length: int, **kwargs: Any) -> StringField:
    """An optional one-line text field, written by the quick widget."""
    return StringField(
        label, validators=[Optional(), Length(max=max_length)], widget=QuickTextInput(), **kwargs
    )


def _optional_json(label: str) -> TextAreaField:
    """An optional JSON text area (up to 8,000 characters), written by the quick widget."""
    return TextAreaField(label, validators=[Optional(), Length(max=8000)], widget=QuickTextArea())


class ComponentForm(Form):
    """One component row (a plain Form: the enclosing FlaskForm carries the CSRF token).

    Its fields are written by the quick widgets (the same HTML): the editor shows five rows.
    """

    kind = SelectField("Kind", choices=KINDS, default="", widget=QuickSelect())
    attribute = _optional_text("Attribute", 64)
    weight = _optional_text("Weight", 40)
    transform = SelectField("Transform", choices=TRANSFORMS, default="none", widget=QuickSelect())
    name = _optional_text("Name", 64)
    options = _optional_text("Tiers or weights (JSON)", 4000)


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text, parse_float=str)
    except ValueError:
        raise ValueError(f"The {what} are not valid JSON.") from None


def _plain_number(value: Any) -> str:
    """Write a stored number for a text field (Decimal text kept as is)."""
    return "" if value is None else str(value)


class FormulaFields(FlaskForm):
    """The formula itself: what the workspace and the formula pages both edit."""

    method = SelectField("Method", choices=METHODS, default="formula", widget=QuickSelect())
    components = FieldList(
        FormField(ComponentForm), min_entries=COMPONENT_ROWS, max_entries=MAX_COMPONENTS
    )
    fixed_fee = _optional_text("Fixed fee per member", 40)
    floor = _optional_text("Floor", 64)
    cap = _optional_text("Cap", 64)
    max_change = _optional_text("Largest change from last year (%)", 20)
    rounding_unit = _optional_text("Rounding unit", 20)
    derived = _optional_json("Derived attributes (JSON)")
    groups = _optional_json("Groups (JSON)")
    # Usage as a formula input: choices are the metrics imported and the resources
    # (`set_usage_choices`); the usage service checks every value (`clean_usage_spec`).
    usage_metric = SelectField(
        "Usage metric",
        choices=choices([NO_USAGE]),
        default="",
        validate_choice=False,
        widget=QuickSelect(),
    )
    usage_attribute = _optional_text("Attribute name", 64, default="usage")
    usage_window = SelectField(
        "Usage window",
        choices=USAGE_WINDOWS,
        default="before_term",
        validate_choice=False,
        widget=QuickSelect(),
    )
    usage_months = _optional_text("Months", 20, default="12")
    usage_begin = _optional_text("First month", 20)
    usage_end = _optional_text("Last month", 20)
    usage_resource = SelectField(
        "Take usage from",
        choices=choices([OWN_RESOURCE]),
        default="",
        validate_choice=False,
        widget=QuickSelect(),
    )
    usage_missing = SelectField(
        "A member without usage",
        choices=USAGE_MISSING,
        default="",
        validate_choice=False,
        widget=QuickSelect(),
    )

    #: Component index in the definition → row of the form (empty rows are skipped).
    _rows: list[int]

    def has_errors(self) -> bool:
        """Return True when any field or the form itself shows an error (never cached)."""

        def fields(form: Any):
            for field in form:
                if isinstance(field, FieldList):
                    for entry in field.entries:
                        yield from fields(entry.form)
                else:
                    yield field

        return bool(self.form_errors) or any(field.errors for field in fields(self))

    def definition(self) -> dict[str, Any] | None:
        """Return the engine definition the fields describe, or None (errors set on fields)."""
        self._rows = []
        formula: dict[str, Any] = {}
        ok = True
        method = self.method.data or "formula"
        if method != "formula":
            formula["method"] = method
        components = []
        for row, entry in enumerate(self.components.entries):
            if method != "formula":
                break
            fields = entry.form
            kind = (fields.kind.data or "").strip()
            if not kind:
                continue
            item: dict[str, Any] = {"kind": kind}
            if fields.weight.data and fields.weight.data.strip():
                item["weight"] = fields.weight.data.strip()
            if kind != "equal":
                item["attribute"] = (fields.attribute.data or "").strip()
            if kind == "attribute" and fields.transform.data not in (None, "", "none"):
                item["transform"] = fields.transform.data
            if fields.name.data and fields.name.data.strip():
                item["name"] = fields.name.data.strip()
            if kind in ("tiers", "table"):
                key = "tiers" if kind == "tiers" else "weights"
                text = (fields.options.data or "").strip()
                if not text:
                    example = (
                        '[{"min": 0, "weight": 1}, {"min": 5000, "weight": 2}]'
                        if kind == "tiers"
                        else '{"university": 3, "college": 1}'
                    )
                    fields.options.errors = [f"Give the {key} as JSON, e.g. {example}."]
                    ok = False
                    continue
                try:
                    item[key] = _json(text, key)
                except ValueError as error:
                    fields.options.errors = [str(error)]
                    ok = False
                    continue
            components.append(item)
            self._rows.append(row)
        if method == "formula":
            formula["components"] = components
        else:
            # The other methods split by solo prices or marginal costs: the component rows
            # (hidden by the page's script) do not apply and are left out.
            self._rows = []
        for name in ("fixed_fee", "floor", "cap"):
            value = (getattr(self, name).data or "").strip()
            if value:
                formula[name] = value
        change = (self.max_change.data or "").strip().rstrip("%").strip()
        if change:
            try:
                percent = Decimal(change)
                if not percent.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                self.max_change.errors = ["Enter a percentage such as 5 (for ±5 % a year)."]
                ok = False
            else:
                formula["max_change"] = format((percent / 100).normalize(), "f")
        unit = (self.rounding_unit.data or "").strip()
        if unit:
            formula["rounding"] = {"unit": unit}
        definition: dict[str, Any] = {"formula": formula}
        for name in ("derived", "groups"):
            text = (getattr(self, name).data or "").strip()
            if not text:
                continue
            try:
                value = _json(text, name.replace("_", " "))
            except ValueError as error:
                getattr(self, name).errors = [str(error)]
                ok = False
                continue
            if not isinstance(value, dict):
                getattr(self, name).errors = ["Give a JSON object, e.g. {…}."]
                ok = False
                continue
            definition[name] = value
        usage = self._usage()
        if usage is None:
            ok = False
        elif usage:
            definition["usage"] = usage
        return definition if ok else None

    def uses_usage(self) -> bool:
        """Return True when the usage settings are filled in (or wrong): the fieldset opens."""
        return bool(
            (self.usage_metric.data or "").strip()
            or any(getattr(self, name).errors for name in USAGE_FIELDS)
        )

    def _usage(self) -> dict[str, Any] | None:
        """Return the usage settings ({} when none), or None with an error beside a field.

        Only the shape is read here; `clean_usage_spec` checks the values and names the
        field it refuses (a metric it does not know, a window out of range, no choice for
        members without usage — that choice is never made for the user).
        """
        metric = (self.usage_metric.data or "").strip()
        if not metric:
            return {}  # "— no usage —": the other usage fields mean nothing then
        usage: dict[str, Any] = {
            "attribute": (self.usage_attribute.data or "").strip() or "usage",
            "metric": metric,
        }
        kind = self.usage_window.data or "before_term"
        if kind == "between":
            usage["window"] = {
                "begin": (self.usage_begin.data or "").strip(),
                "end": (self.usage_end.data or "").strip(),
            }
        else:
            months = whole_number(self.usage_months.data, 3)
            if months is None:
                self.usage_months.errors = ["Enter a whole number of months, such as 12."]
                return None
            usage["window"] = {"months": months, "before_term": kind != "before_year"}
        resource = (self.usage_resource.data or "").strip()
        if resource:
            resource_id = whole_number(resource)
            if resource_id is None:
                self.usage_resource.errors = ["Choose a resource from the list."]
                return None
            usage["resource_id"] = resource_id
        else:
            usage["resource_id"] = None
        usage["missing"] = self.usage_missing.data or None
        return usage

    def set_usage_choices(
        self, metrics: list[tuple[str, str]], resources: list[tuple[str, str]]
    ) -> None:
        """Offer these metrics and stand-in resources, keeping the values the fields hold."""
        metric_pairs = [NO_USAGE, *metrics]
        resource_pairs = [OWN_RESOURCE, *resources]
        for field, pairs in (
            (self.usage_metric, metric_pairs),
            (self.usage_resource, resource_pairs),
        ):
            value = field.data or ""
            if value and value not in {v for v, _ in pairs}:
                pairs.append((value, value))
            field.choices = choices(pairs)

    def load(self, definition: dict[str, Any]) -> None:
        """Fill the fields from a stored definition."""
        formula = definition.get("formula", {}) if isinstance(definition, dict) else {}
        self.method.data = formula.get("method", "formula")
        items = formula.get("components", []) or []
        while len(self.components.entries) < min(len(items), MAX_COMPONENTS):
            self.components.append_entry()
        for entry, item in zip(self.components.entries, items, strict=False):
            fields = entry.form
            fields.kind.data = item.get("kind", "")
            fields.attribute.data = item.get("attribute", "")
            fields.weight.data = _plain_number(item.get("weight"))
            fields.transform.data = item.get("transform", "none")
            fields.name.data = item.get("name", "")
            options = item.get("tiers", item.get("weights"))
            fields.options.data = json.dumps(options, ensure_ascii=False) if options else ""
        for entry in self.components.entries[len(items) :]:
            fields = entry.form
            fields.kind.data, fields.attribute.data, fields.weight.data = "", "", ""
            fields.transform.data, fields.name.data, fields.options.data = "none", "", ""
        self.fixed_fee.data = _plain_number(formula.get("fixed_fee"))
        self.floor.data = _plain_number(formula.get("floor"))
        self.cap.data = _plain_number(formula.get("cap"))
        change = formula.get("max_change")
        self.max_change.data = (
            format((Decimal(str(change)) * 100).normalize(), "f") if change is not None else ""
        )
        self.rounding_unit.data = _plain_number((formula.get("rounding") or {}).get("unit"))
        for name in ("derived", "groups"):
            value = definition.get(name) if isinstance(definition, dict) else None
            getattr(self, name).data = (
                json.dumps(value, ensure_ascii=False, indent=1) if value else ""
            )
        self._load_usage(definition.get("usage") if isinstance(definition, dict) else None)

    def _load_usage(self, usage: Any) -> None:
        usage = usage if isinstance(usage, dict) else {}
        window = usage.get("window") if isinstance(usage.get("window"), dict) else {}
        self.usage_metric.data = str(usage.get("metric") or "")
        self.usage_attribute.data = str(usage.get("attribute") or "usage")
        if "begin" in window or "end" in window:
            self.usage_window.data = "between"
            self.usage_months.data = "12"
        else:
            self.usage_window.data = (
                "before_year" if window.get("before_term", True) is False else "before_term"
            )
            self.usage_months.data = _plain_number(window.get("months", 12))
        self.usage_begin.data = str(window.get("begin") or "")
        self.usage_end.data = str(window.get("end") or "")
        resource = usage.get("resource_id")
        self.usage_resource.data = str(resource) if resource is not None else ""
        self.usage_missing.data = str(usage.get("missing") or "")

    def field_for(self, path: str | None) -> Any:
        """Return the form field an engine field path names, or None (a form-level error)."""
        if not path:
            return None
        match = _COMPONENT_PATH.match(path)
        if match:
            index = int(match.group(1))
            rows = getattr(self, "_rows", [])
            if index >= len(rows):
                return None
            entry = self.components.entries[rows[index]].form
            return getattr(entry, COMPONENT_FIELDS.get(match.group(2) or "kind", "kind"))
        if path == "formula.components":
            return self.components.entries[0].form.kind if self.components.entries else None
        if path == "usage.window":
            # A window the service cannot read: its months, or its first month.
            return self.usage_begin if self.usage_window.data == "between" else self.usage_months
        for prefix, name in FORMULA_FIELDS.items():
            if path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "["):
                return getattr(self, name)
        return None

    def show_errors(self, errors: list[AllocationError] | tuple[AllocationError, ...]) -> list[str]:
        """Put each error beside its field; return the ones no field of the formula owns."""
        unplaced = []
        for error in errors:
            field = self.field_for(error.field)
            if field is None:
                unplaced.append(error.message)
                continue
            if error.message not in field.errors:
                field.errors = [*field.errors, error.message]
        return unplaced

    def field_problems(self, errors: list[AllocationError]) -> list[dict[str, Any]]:
        """Return the errors as JSON for the editor's script: the field id and the sentence."""
        problems = []
        for error in errors:
            field = self.field_for(error.field)
            problems.append(
                {
                    "field": field.id if field is not None else None,
                    "message": error.message,
                    "members": list(error.members),
                    "attribute": error.attribute,
                }
            )
        return problems


class WorkspaceForm(FormulaFields):
    """The workspace's formula panel: the formula and which choice it started from."""

    choice = HiddenField()
    version = HiddenField()


class FormulaForm(FormulaFields):
    """A saved formula: a name, where it comes from, and the formula."""

    name = StringField("Name", validators=[DataRequired(), Length(max=255)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=4000)])
    source = TextAreaField(
        "Source (consortium, document, URL)", validators=[Optional(), Length(max=4000)]
    )
    check_offer = SelectField(
        "Check against the members of", choices=[], default="", widget=QuickSelect()
    )
