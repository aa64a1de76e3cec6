"""Configuration read from the environment (and `.env`, when present).

Every variable is listed, with its default, in `.env.example` and the README.
Nothing here is read at import time of the application package: `create_app`
instantiates a config class, and the class reads the environment then.
"""

from __future__ import annotations

import os
import secrets
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _env_bool(name: str, default: bool = False) -> bool:
    value = _env(name)
    if not value:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


def _env_count(name: str, default: int = 0) -> int:
    """Return a whole number of at least 0 from the environment (empty: `default`)."""
    value = _env(name)
    if not value:
        return default
    if not value.isascii() or not value.isdigit():
        raise RuntimeError(f"{name} must be a whole number of at least 0, not {value!r}.")
    return int(value)


def _instance_path() -> Path:
    return Path(_env("COSTSHARE_INSTANCE_PATH") or BASE_DIR / "instance")


def _secret_key(instance: Path, production: bool) -> str:
    """Return SECRET_KEY from the environment, or one generated once into `instance/`."""
    key = _env("SECRET_KEY")
    if key:
        return key
    if production:
        raise RuntimeError("SECRET_KEY must be set when COSTSHARE_ENV=production.")
    key_file = instance / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


class Config:
    """Settings for running the application; each attribute mirrors one variable."""

    TESTING = False

    def __init__(self) -> None:
        try:
            from dotenv import load_dotenv
        except ImportError:  # pragma: no cover - python-dotenv is a runtime dependency
            pass
        else:
            load_dotenv(BASE_DIR / ".env", override=False)

        self.ENV_NAME = _env("COSTSHARE_ENV", "development")
        production = self.ENV_NAME == "production"
        self.INSTANCE_PATH = _instance_path()
        self.INSTANCE_PATH.mkdir(parents=True, exist_ok=True)

        self.DATABASE_URL = (
            _env("DATABASE_URL") or f"sqlite:///{self.INSTANCE_PATH / 'costshare.db'}"
        )
        self.SECRET_KEY = _secret_key(self.INSTANCE_PATH, production)

        # The consortium that issues the invoices.
        self.CONSORTIUM_NAME = _env("CONSORTIUM_NAME", "Pearl River Library Consortium")
        self.CONSORTIUM_ADDRESS = _env(
            "CONSORTIUM_ADDRESS", "135 Xingang West Road\nGuangzhou 510275\nChina"
        )
        self.CONSORTIUM_TAX_ID = _env("CONSORTIUM_TAX_ID", "CN-91440101-PRLC")
        self.CONSORTIUM_EMAIL = _env("CONSORTIUM_EMAIL", "billing@prlc.example.org")
        self.CONSORTIUM_BANK_DETAILS = _env(
            "CONSORTIUM_BANK_DETAILS",
            "Bank of Guangzhou · IBAN CN00 0000 0000 0000 0000 · SWIFT GZCBCNBS",
        )
        self.BASE_CURRENCY = _env("BASE_CURRENCY", "EUR").upper()
        self.LOCALE = _env("COSTSHARE_LOCALE", "en_GB")
        self.PAYMENT_TERMS_DAYS = int(_env("PAYMENT_TERMS_DAYS", "30"))
        self.DEFAULT_TAX_RATE = Decimal(_env("DEFAULT_TAX_RATE", "0"))
        self.INVOICE_PREFIX = _env("INVOICE_PREFIX", "CS-{year}-")

        # Uploads (COUNTER files, member imports) larger than this get a 413 page.
        self.MAX_CONTENT_LENGTH = int(_env("MAX_UPLOAD_MB", "50")) * 1024 * 1024

        # Mail for invoices; when MAIL_SERVER is empty, sending is refused with a sentence.
        self.MAIL_SERVER = _env("MAIL_SERVER")
        self.MAIL_PORT = int(_env("MAIL_PORT", "25"))
        self.MAIL_USERNAME = _env("MAIL_USERNAME")
        self.MAIL_PASSWORD = _env("MAIL_PASSWORD")
        self.MAIL_USE_TLS = _env_bool("MAIL_USE_TLS")
        # Empty counts as unset: mail then comes from the consortium address.
        self.MAIL_SENDER = _env("MAIL_SENDER") or self.CONSORTIUM_EMAIL

        # Login attempts per client address.
        self.LOGIN_RATE_LIMIT = _env("LOGIN_RATE_LIMIT", "10 per minute")
        self.RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
        self.PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - a hash method name, not a password

        # Cookies: secure (HTTPS only) unless explicitly turned off for local HTTP.
        self.SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", production)
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.WTF_CSRF_TIME_LIMIT = None  # a form left open during a meeting still posts

        self.SQL_ECHO = _env_bool("SQL_ECHO")

        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are
        # trusted; 0 trusts none (the client's address is the connection's).
        self.PROXY_HOPS = _env_count("PROXY_HOPS", 0)


class TestConfig(Config):
    """Settings for the test suite: a database named by the tests, fast hashing."""

    __test__ = False  # not a pytest test class, despite its name
    TESTING = True

    def __init__(self, database_url: str | None = None) -> None:
        super().__init__()
        if database_url:
            self.DATABASE_URL = database_url
        self.SECRET_KEY = "test-secret-key"  # noqa: S105 - fixed key for the test suite only
        self.SESSION_COOKIE_SECURE = False
        self.REMEMBER_COOKIE_SECURE = False
        self.LOGIN_RATE_LIMIT = "1000 per minute"
        self.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105 - fast hashing for tests
