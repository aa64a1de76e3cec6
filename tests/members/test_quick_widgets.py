"""The quick widgets write exactly the HTML of WTForms' own widgets, only sooner."""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup
from wtforms import DateField, Form, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length
from wtforms.widgets import DateInput, HiddenInput, Select, TextArea, TextInput, html_params

from costshare.members.fields import (
    QuickDateInput,
    QuickHiddenInput,
    QuickSelect,
    QuickTextArea,
    QuickTextInput,
    choices,
    html_attributes,
)

NASTY = 'A & <B> "C" \u7b2c\u4e8c'


class _Row(Form):
    member_id = HiddenField()
    status = SelectField(choices=choices([("", "— remove —"), ("joined", NASTY), ("declined", "")]))
    decided_on = DateField()
    name = StringField(validators=[Length(max=64)])
    code = StringField(validators=[InputRequired()])
    groups = TextAreaField(validators=[Length(max=8000)])
    needed = SelectField(choices=choices([("a", "A")]), validators=[InputRequired()])
    several = SelectField(choices=choices([("a", NASTY), ("b", "B")]))
    marked = SelectField(
        choices=[SelectChoice("x", "X", render_kw={"data_note": NASTY}), SelectChoice(3, "three")]
    )


def test_attributes_are_written_as_wtforms_writes_them() -> None:
    cases = [
        {"id": "rows-0-status", "name": "rows-0-status", "aria_label": NASTY},
        {"class_": "num wide", "data_check_url": "/x?a=1&b=2", "checked": True, "hidden": False},
        {"value": 12, "size": 6, "placeholder": 'tiers: [{"min": 0}]'},
        {},
    ]
    for attributes in cases:
        assert html_attributes(**attributes) == html_params(**attributes)


def test_each_quick_widget_writes_what_its_wtforms_widget_writes() -> None:
    row = _Row(
        data={
            "member_id": "42",
            "status": "joined",
            "decided_on": dt.date(2026, 5, 1),
            "name": NASTY,
            "code": "",
            "groups": '{"shares": {"<a>": 1}}',
            "several": "b",
        }
    )
    pairs = [
        (row.member_id, QuickHiddenInput(), HiddenInput()),
        (row.status, QuickSelect(), Select()),
        (row.decided_on, QuickDateInput(), DateInput()),
        (row.name, QuickTextInput(), TextInput()),  # maxlength from the validator
        (row.code, QuickTextInput(), TextInput()),  # required from the validator
        (row.groups, QuickTextArea(), TextArea()),  # maxlength from the validator
        (row.needed, QuickSelect(), Select()),  # required from the validator
        (row.several, QuickSelect(multiple=True), Select(multiple=True)),
        (row.marked, QuickSelect(), Select()),  # an option with attributes of its own
    ]
    for field, quick, wtforms in pairs:
        for extra in ({}, {"aria_label": f"{field.name} of {NASTY}", "class_": "num"}):
            written = quick(field, **extra)
            assert isinstance(written, Markup)
            assert written == wtforms(field, **extra), field.name
    assert 'maxlength="64"' in QuickTextInput()(row.name)
    assert '<option selected value="joined">A &amp; &lt;B&gt; &#34;C&#34;' in QuickSelect()(
        row.status
    )


def test_a_quick_select_with_option_groups_writes_what_wtforms_writes() -> None:
    class Grouped(Form):
        kind = SelectField(
            choices=[
                SelectChoice("b", "Book", optgroup="Books"),
                SelectChoice("j", "Journal", optgroup=NASTY),
            ]
        )

    field = Grouped(data={"kind": "j"}).kind
    assert QuickSelect()(field) == Select()(field)
