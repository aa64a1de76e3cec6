"""The invoices API (the shapes scripts rely on, its OpenAPI document) and `invoices render`."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.invoices.support import issued_run


@pytest.fixture
def issued(session, world, app):
    with app.test_request_context():
        billing = issued_run(session, world)
    return billing


def _get(client, url, token):
    return client.get(url, headers={"Authorization": f"Bearer {token}"})


def test_the_list_carries_what_scripts_rely_on(client, world, issued) -> None:
    data = _get(client, "/api/v1/invoices?year=2027", world.tokens["coordinator"]).get_json()
    assert (data["count"], data["page"], data["per_page"]) == (2, 1, 50)
    own = next(item for item in data["items"] if item["member_code"] == "OWN")
    assert {
        k: own[k] for k in ("number", "status", "currency", "total", "issue_date", "due_date")
    } == {
        "number": "CS-2027-0002",
        "status": "issued",
        "currency": "EUR",
        "total": "7986.64",  # gross: 7,534.57 + 452.07
        "issue_date": "2027-01-15",
        "due_date": "2027-02-14",
    }
    assert isinstance(own["id"], int)


def test_one_invoice_with_its_lines_and_its_pdf(client, world, issued) -> None:
    invoice = issued.invoice_of(world.own)
    token = world.tokens["coordinator"]
    data = _get(client, f"/api/v1/invoices/{invoice.id}", token).get_json()
    assert [(line["kind"], line["net"]) for line in data["lines"]] == [
        ("share", "6000.00"),
        ("surcharge", "300.00"),
        ("share", "1234.57"),
    ]
    pdf = _get(client, f"/api/v1/invoices/{invoice.id}.pdf", token)
    assert pdf.mimetype == "application/pdf" and pdf.data == invoice.pdf


def test_a_member_token_sees_only_its_own_issued_invoices(client, world, issued) -> None:
    token = world.tokens["member"]
    data = _get(client, "/api/v1/invoices", token).get_json()
    assert [item["member_code"] for item in data["items"]] == ["OWN"]
    other = issued.invoice_of(world.other)
    for url in (f"/api/v1/invoices/{other.id}", f"/api/v1/invoices/{other.id}.pdf"):
        response = _get(client, url, token)
        assert response.status_code == 404 and response.get_json()["error"]
    assert _get(client, "/api/v1/billing-runs", token).status_code == 404


def test_the_invoices_api_keeps_its_document(app, world, issued) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {world.tokens['coordinator']}"}
    operations = [
        op
        for op in (result.ok() for result in schema.get_all_operations())
        if op.path.startswith(("/api/v1/invoices", "/api/v1/billing-runs"))
    ]
    assert len(operations) == 4

    for operation in operations:

        @settings(
            max_examples=10,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(case=operation.as_strategy())
        def exercise(case) -> None:
            case.call_and_validate(headers=headers)

        exercise()


def test_render_writes_every_pdf_of_a_run(runner, world, issued, tmp_path) -> None:
    result = runner.invoke(
        args=[
            "costshare",
            "invoices",
            "render",
            str(issued.run.id),
            "--out",
            str(tmp_path / "pdfs"),
        ]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "pdfs").iterdir())
    assert names == ["CS-2027-0001_OTHER.pdf", "CS-2027-0002_OWN.pdf"]
    assert (tmp_path / "pdfs" / "CS-2027-0002_OWN.pdf").read_bytes() == issued.invoice_of(
        world.own
    ).pdf
    # Not on a terminal: one summary line, no progress bar.
    assert result.output.count("\n") == 1
    assert result.output.startswith("Wrote 2 PDFs of billing run")


def test_render_of_a_draft_run_previews_its_invoices(runner, session, world, tmp_path) -> None:
    from tests.invoices.support import draft_run

    billing = draft_run(session, world)
    result = runner.invoke(
        args=["costshare", "invoices", "render", str(billing.run.id), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "0 stored, 2 draft previews" in result.output
    assert all(p.read_bytes().startswith(b"%PDF") for p in tmp_path.iterdir())


def test_render_refuses_an_unknown_run_in_one_line(runner, world, tmp_path) -> None:
    result = runner.invoke(args=["costshare", "invoices", "render", "999", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip() == "Error: there is no billing run 999"
