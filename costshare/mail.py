"""Send email over SMTP with the app's MAIL_* settings (invoices to members' finance contacts)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable, Mapping
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from costshare.errors import ServiceError

Attachment = tuple[str, bytes, str]


def build_message(
    config: Mapping[str, Any],
    *,
    to: str,
    subject: str,
    body: str,
    attachments: Iterable[Attachment] = (),
) -> EmailMessage:
    """Return the message: from the configured sender, in the consortium's name."""
    message = EmailMessage()
    message["From"] = formataddr((config["CONSORTIUM_NAME"], config["MAIL_SENDER"]))
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=config["MAIL_SENDER"].rpartition("@")[2] or None)
    message.set_content(body)
    for filename, data, mimetype in attachments:
        maintype, _, subtype = mimetype.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


def send_mail(
    config: Mapping[str, Any],
    *,
    to: str,
    subject: str,
    body: str,
    attachments: Iterable[Attachment] = (),
) -> None:
    """Send one message; refuse with a sentence when mail is not set up or the server says no."""
    server = config.get("MAIL_SERVER")
    if not server:
        raise ServiceError(
            "Email is not set up: set MAIL_SERVER (and MAIL_PORT, MAIL_USERNAME, "
            "MAIL_PASSWORD, MAIL_USE_TLS) to send invoices."
        )
    message = build_message(config, to=to, subject=subject, body=body, attachments=attachments)
    try:
        with smtplib.SMTP(server, int(config.get("MAIL_PORT") or 25), timeout=30) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise ServiceError(
            f"The mail server {server} did not accept the message to {to}: {error}"
        ) from error


def sender(config: Mapping[str, Any]):
    """Return a `send(to=…, subject=…, body=…, attachments=…)` bound to these settings."""

    def send(**message: Any) -> None:
        send_mail(config, **message)

    return send
