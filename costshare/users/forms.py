"""Forms to invite users (coordinators manage every account)."""

from __future__ import annotations

from wtforms import EmailField, SelectField, StringField, SubmitField
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from costshare.auth.models import ROLES
from costshare.members.fields import BaseForm, choices

ROLE_LABELS = {
    "coordinator": "Coordinator: manages everything",
    "negotiator": "Negotiator: reads everything, scenarios and draft allocations",
    "member": "Member finance staff: sees only its own member",
}


class InviteUserForm(BaseForm):
    email = EmailField(
        "Email",
        [
            InputRequired("Give the person's email address."),
            Length(max=255),
            Email("This is not an email address.", check_deliverability=False),
        ],
    )
    name = StringField("Name", [Optional(), Length(max=255)])
    role = SelectField(
        "Role", choices=choices((r, ROLE_LABELS[r]) for r in ROLES), default="member"
    )
    member_id = SelectField("Member (for member finance staff)", coerce=int, default=0)
    submit = SubmitField("Invite")

    def validate_member_id(self, field: SelectField) -> None:
        # Mirrors ck_app_user_member_role_has_member.
        if self.role.data == "member" and not field.data:
            raise ValidationError("A member user belongs to one member: choose it.")
        if self.role.data != "member" and field.data:
            raise ValidationError("Only member users belong to a member: leave this empty.")
