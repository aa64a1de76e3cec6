"""Flask extensions, created unbound and attached in `create_app`."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

csrf = CSRFProtect()

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see this page."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"

#: Only routes that ask for a limit get one (the login form); nothing else is throttled.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
