"""The what-if form (members in and out, formula, uplift, phase-in) and the save-scenario form."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    DecimalField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from costshare.negotiation.services import NAME_MAX, NOTE_MAX, Context, WhatIf

HUNDRED = Decimal(100)


class MemberToggles(SelectMultipleField):
    """One checkbox per member listed on the offer."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WhatIfForm(FlaskForm):
    """Who is in, which formula; the service checks the choices against the offer."""

    # The service checks membership and choices (and words the errors); WTForms only reads.
    members = MemberToggles("Members in the deal", choices=[], validate_choice=False)
    formula = SelectField("Formula", choices=[], validate_choice=False)
    uplift = DecimalField("Yearly uplift, %", places=None, validators=[Optional()])
    max_change = DecimalField("Phase-in limit, % a year", places=None, validators=[Optional()])
    #: Marks a submitted what-if, so that "no member ticked" differs from "not asked".
    whatif = HiddenField()
    submit = SubmitField("Recompute")

    def setup(self, ctx: Context) -> WhatIfForm:
        """Fill in the offer's members and the formula choices."""
        self.members.choices = [(p.member.code, p.member.code) for p in ctx.participations]
        groups: dict[str, list[tuple[str, str]]] = {}
        for choice in ctx.choices:
            groups.setdefault(choice.group, []).append((choice.key, choice.label))
        self.formula.choices = groups
        return self

    def show(self, ctx: Context, state: WhatIf) -> WhatIfForm:
        """Show `state` in the fields (for a page opened on a what-if or a saved scenario)."""
        self.members.data = list(state.codes(ctx))
        self.formula.data = state.formula or ctx.default_formula
        self.uplift.data = state.uplift * HUNDRED if state.uplift is not None else None
        self.max_change.data = state.max_change * HUNDRED if state.max_change is not None else None
        return self

    def submitted(self) -> bool:
        return self.whatif.data == "1" and not self.uplift.errors and not self.max_change.errors

    def data_for_service(self) -> dict[str, Any]:
        """Return the what-if as `resolve` reads it (percentages as fractions)."""
        return {
            "members": list(self.members.data or []),
            "formula": self.formula.data or None,
            "uplift": self.uplift.data / HUNDRED if self.uplift.data is not None else None,
            "max_change": (
                self.max_change.data / HUNDRED if self.max_change.data is not None else None
            ),
        }


class ScenarioForm(WhatIfForm):
    """Save the what-if shown under a name, with a note for colleagues."""

    name = StringField("Scenario name", validators=[DataRequired(), Length(max=NAME_MAX)])
    note = TextAreaField("Note", validators=[Length(max=NOTE_MAX)])
    submit = SubmitField("Save scenario")
