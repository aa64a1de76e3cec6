"""Security headers on every response, and the access check on every request."""

from __future__ import annotations

from flask import Flask, Response, request

from costshare import access
from costshare.errors import ServiceError

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        # Charts are inline SVG with style attributes; no inline script is allowed.
        "style-src 'self' 'unsafe-inline'",
        "script-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    return response


class BadAddress(ServiceError):
    """The query string cannot be read as the user meant it."""

    status = 400


def refuse_nul_in_query() -> None:
    """Refuse a query string holding a NUL character (`%00`), before any view reads it.

    PostgreSQL refuses NUL in any text it is sent, also in a value only searched
    for; no one types it, so the whole address is refused with a sentence.
    """
    if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
        raise BadAddress(
            "The address holds a NUL character (%00), which no search or filter can use: "
            "remove it and try again."
        )


def register(app: Flask) -> None:
    access.register(app)
    app.before_request(refuse_nul_in_query)
    app.after_request(_headers)
    if app.config.get("SESSION_COOKIE_SECURE"):

        @app.after_request
        def _hsts(response: Response) -> Response:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
            return response
