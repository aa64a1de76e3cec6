"""Invoices by email through a local SMTP server the test starts; each send is recorded."""

from __future__ import annotations

import email
import email.policy
import socketserver
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from costshare.audit.models import AuditEvent
from costshare.errors import ServiceError
from costshare.invoices import services
from costshare.mail import sender
from tests.invoices.support import issued_run, settings


class SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greet, accept one message per DATA, keep it."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 test SMTP ready")
        envelope: dict = {"to": []}
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 test")
            elif verb == "MAIL":
                envelope = {"from": command[10:].strip("<> "), "to": []}
                self.reply("250 OK")
            elif verb == "RCPT":
                envelope["to"].append(command[8:].strip("<> "))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                envelope["data"] = data
                self.server.messages.append(envelope)
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


@pytest.fixture
def smtp(app, monkeypatch) -> Iterator[list]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SMTPHandler)
    server.daemon_threads = True
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.server_address[1])
    try:
        yield server.messages
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def issued(session, world, app):
    with app.test_request_context():
        billing = issued_run(session, world)
    return billing


def test_an_invoice_is_emailed_to_the_finance_contact_with_its_pdf(
    as_coordinator, session, world, issued, smtp
) -> None:
    invoice = issued.invoice_of(world.own)
    response = as_coordinator.post_form(f"/billing/invoices/{invoice.id}/email")
    assert response.status_code == 302
    [message] = smtp
    assert message["to"] == [world.own.finance_contact_email]
    parsed = email.message_from_bytes(message["data"], policy=email.policy.default)
    assert parsed["Subject"] == "Invoice CS-2027-0002 from Pearl River Library Consortium"
    body = parsed.get_body(("plain",)).get_content()
    assert "for €7,986.64" in body and "It is due on 14 Feb 2027." in body
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == "CS-2027-0002_OWN.pdf"
    assert attachment.get_content() == invoice.pdf  # the stored PDF, byte for byte
    session.refresh(invoice)
    assert invoice.emailed_to == world.own.finance_contact_email
    assert invoice.emailed_at is not None
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "invoice.email"))


def test_a_run_is_emailed_once_per_invoice(as_coordinator, issued, smtp) -> None:
    as_coordinator.post_form(f"/billing/runs/{issued.run.id}/email")
    assert len(smtp) == 2
    as_coordinator.post_form(f"/billing/runs/{issued.run.id}/email")
    assert len(smtp) == 2  # already emailed: not sent again


def test_without_mail_settings_sending_is_refused_with_a_sentence(session, world, app, issued):
    app_config = dict(app.config, MAIL_SERVER="")
    with pytest.raises(ServiceError, match="Email is not set up"):
        services.send_invoice(session, settings(), issued.invoice_of(world.own), sender(app_config))
    assert issued.invoice_of(world.own).emailed_at is None


def test_a_member_without_a_finance_contact_is_named(session, world, app, issued, smtp) -> None:
    world.own.finance_contact_email = None
    with pytest.raises(ServiceError, match="OWN has no finance contact email"):
        services.send_invoice(session, settings(), issued.invoice_of(world.own), sender(app.config))
    assert smtp == []
