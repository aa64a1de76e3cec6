"""Forms of the allocation pages (the formula panel is costshare.formulas.forms.WorkspaceForm)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField


class VersionForm(FlaskForm):
    """A button that posts the version of the allocation the user saw (no lost update)."""

    version = HiddenField()

    def version_number(self) -> int:
        """Return the posted version; junk gives -1, which never matches (a conflict, not a 500)."""
        text = (self.version.data or "").strip()
        return int(text) if text.isdigit() and len(text) < 10 else -1
