"""Billing: runs, invoices, credit notes and payments (the "Billing" screen)."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from costshare.access import access, member_scope
from costshare.db import get_session, today
from costshare.downloads import content_disposition
from costshare.errors import ServiceError
from costshare.formatting import money
from costshare.invoices import exports, queries, services
from costshare.invoices.documents import invoice_document
from costshare.invoices.forms import (
    ConfirmForm,
    NotesForm,
    PaymentForm,
    VoidForm,
    rate_field,
    run_form,
)
from costshare.invoices.models import BillingRun, Invoice
from costshare.invoices.progress import Progress
from costshare.mail import sender
from costshare.pagination import page_args, paginate

blueprint = Blueprint("invoices", __name__, url_prefix="/billing")


def settings() -> services.BillingSettings:
    return services.BillingSettings.from_config(current_app.config)


def progress_for(run_id: int, action: str) -> Progress:
    return Progress(current_app.instance_path, f"run-{run_id}-{action}")


def _run_or_404(run_id: int) -> BillingRun:
    invoices = selectinload(BillingRun.invoices)
    run = get_session().get(
        BillingRun,
        run_id,
        options=[invoices.selectinload(Invoice.member), invoices.selectinload(Invoice.lines)],
    )
    if run is None:
        abort(404)
    return run


def invoice_or_404(invoice_id: int) -> Invoice:
    """Return the invoice; a member user gets 404 for another member's or a draft."""
    invoice = queries.visible_invoice(get_session(), invoice_id, member_scope())
    if invoice is None:
        abort(404)
    return invoice


@blueprint.route("/")
@access("staff")
def index():
    session = get_session()
    filters = queries.InvoiceFilter.from_args(request.args)
    number, per_page = page_args(50)
    page = paginate(session, queries.invoice_query(filters, None, today()), number, per_page)
    return render_template(
        "invoices/index.html",
        page=page,
        filters=filters,
        runs=queries.run_summaries(session),
        outstanding=queries.outstanding(session, today()),
        years=queries.invoice_years(session),
        members=queries.member_choices(session),
        statuses=("draft", "issued", "paid", "void"),
        today=today(),
        # The export links carry the list's filters (not its page, nor a stray `fmt`).
        export_args={
            key: value
            for key, value in request.args.items()
            if key not in ("fmt", "page", "per_page")
        },
    )


@blueprint.route("/runs/new", methods=["GET", "POST"])
@access("coordinator")
def new_run():
    session = get_session()
    years = services.billable_years(session)
    if not years:
        flash("There is no final allocation to bill yet: finalize an allocation first.", "warning")
        return redirect(url_for("invoices.index"))
    year = request.form.get("year", type=int) or request.args.get("year", type=int) or years[0]
    year = year if year in years else years[0]
    pairs = services.needed_rates(session, year)
    config = current_app.config
    form = run_form(
        pairs,
        year=year,
        tax_percent=(Decimal(config["DEFAULT_TAX_RATE"]) * 100).normalize(),
        name=f"{year} subscriptions",
    )
    form.year.choices = [SelectChoice(y, str(y)) for y in years]
    if form.validate_on_submit():
        rates = [
            {
                "from": source,
                "to": target,
                "rate": getattr(form, rate_field(source, target)).data,
                "date": getattr(form, rate_field(source, target) + "_date").data,
            }
            for source, target in pairs
        ]
        try:
            run = services.create_run(
                session,
                settings(),
                year=form.year.data,
                mode=form.mode.data,
                name=(form.name.data or "").strip() or None,
                issue_date=form.issue_date.data,
                due_date=form.due_date.data,
                tax_rate=form.tax_percent.data / 100,
                rates=services.parse_rates(rates),
                user_id=current_user.id,
            )
        except ServiceError as error:
            field = getattr(form, error.field or "", None)
            if field is not None and hasattr(field, "errors"):
                field.errors = [*field.errors, error.message]
            else:
                form.form_errors.append(error.message)
        else:
            session.commit()
            flash(
                f"Drafted {len(run.invoices)} invoices. Check them, then issue the run.", "success"
            )
            return redirect(url_for("invoices.run", run_id=run.id))
    return render_template(
        "invoices/new_run.html",
        form=form,
        pairs=[(s, t, rate_field(s, t)) for s, t in pairs],
        year=year,
        years=years,
        unbilled=services.unbilled_lines(session, year),
        terms=config["PAYMENT_TERMS_DAYS"],
    )


@blueprint.route("/runs/<int:run_id>")
@access("staff")
def run(run_id: int):
    session = get_session()
    billing_run = _run_or_404(run_id)
    invoices = sorted(
        billing_run.invoices, key=lambda i: (i.member.code, i.number is None, i.number or "", i.id)
    )
    totals: dict[str, dict[str, Decimal]] = {}
    for invoice in invoices:
        if invoice.kind != "invoice" or invoice.status == "void":
            continue
        sums = totals.setdefault(
            invoice.currency,
            {"net": Decimal(0), "tax": Decimal(0), "gross": Decimal(0), "balance": Decimal(0)},
        )
        sums["net"] += invoice.net
        sums["tax"] += invoice.tax
        sums["gross"] += invoice.gross
        sums["balance"] += invoice.balance
    return render_template(
        "invoices/run.html",
        run=billing_run,
        invoices=invoices,
        totals=dict(sorted(totals.items())),
        reconciliation=services.run_reconciliation(session, billing_run),
        drafts=[i for i in invoices if i.status == "draft"],
        form=ConfirmForm(),
        today=today(),
    )


@blueprint.route("/runs/<int:run_id>/issue", methods=["POST"])
@access("coordinator")
def issue_run(run_id: int):
    session = get_session()
    billing_run = _run_or_404(run_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    progress = progress_for(run_id, "issue")
    try:
        issued = services.issue_run(
            session, settings(), billing_run, user_id=current_user.id, progress=progress
        )
    except ServiceError:
        progress.finish("failed")
        raise
    session.commit()
    progress.finish()
    flash(f"Issued {len(issued)} invoices: {issued[0].number} to {issued[-1].number}.", "success")
    return redirect(url_for("invoices.run", run_id=run_id))


@blueprint.route("/runs/<int:run_id>/delete", methods=["POST"])
@access("coordinator")
def delete_run(run_id: int):
    session = get_session()
    billing_run = _run_or_404(run_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = billing_run.name
    services.delete_run(session, billing_run, user_id=current_user.id)
    session.commit()
    flash(f"Deleted the draft run {name}.", "success")
    return redirect(url_for("invoices.index"))


@blueprint.route("/runs/<int:run_id>/email", methods=["POST"])
@access("coordinator")
def email_run(run_id: int):
    session = get_session()
    billing_run = _run_or_404(run_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    send = sender(current_app.config)
    sent, failed = 0, []
    for invoice in billing_run.invoices:
        if invoice.status not in ("issued", "paid") or invoice.emailed_at is not None:
            continue
        try:
            services.send_invoice(session, settings(), invoice, send, user_id=current_user.id)
        except ServiceError as error:
            failed.append(f"{invoice.number}: {error.message}")
            if "not set up" in error.message:
                break
        else:
            sent += 1
            session.commit()  # each sent email is recorded, even if a later one fails
    if sent:
        flash(f"Emailed {sent} invoices to the members' finance contacts.", "success")
    if failed:
        flash("Not sent — " + "; ".join(failed[:5]), "error")
    if not sent and not failed:
        flash("Every issued invoice of this run was already emailed.", "warning")
    return redirect(url_for("invoices.run", run_id=run_id))


@blueprint.route("/runs/<int:run_id>/pdfs.zip")
@access("staff")
def run_zip(run_id: int):
    billing_run = _run_or_404(run_id)
    invoices = sorted(billing_run.invoices, key=lambda i: (i.number is None, i.number or "", i.id))
    progress = progress_for(run_id, "zip")
    stored = [i for i in invoices if i.status != "draft"]
    drafts = [i for i in invoices if i.status == "draft"]
    pdfs = {i.id: i.pdf for i in stored}
    progress.update(len(stored), len(invoices))
    if drafts:
        rendered = services.render_invoices(
            drafts, lambda done, total: progress.update(len(stored) + done, len(invoices))
        )
        pdfs.update({i.id: pdf for i, pdf in zip(drafts, rendered, strict=True)})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for invoice in invoices:
            archive.writestr(services.pdf_filename(invoice), pdfs[invoice.id])
    progress.finish()
    name = f"{billing_run.name} ({billing_run.year}).zip".replace("/", "-")
    return Response(
        buffer.getvalue(),
        mimetype="application/zip",
        headers={"Content-Disposition": content_disposition(name)},
    )


@blueprint.route("/runs/<int:run_id>/progress/<action>")
@access("staff")
def progress(run_id: int, action: str):
    if action not in ("issue", "zip"):
        abort(404)
    return jsonify(progress_for(run_id, action).read())


@blueprint.route("/invoices/<int:invoice_id>")
@access("user")
def detail(invoice_id: int):
    return _detail_page(invoice_or_404(invoice_id))


def _detail_page(invoice: Invoice, **forms):
    """Render an invoice's page; `forms` are posted forms to show with their errors."""
    session = get_session()
    credit_note = queries.credit_notes_of(session, [invoice.id]).get(invoice.id)
    replacement = None
    if invoice.status == "void":
        replacement = services.replacement_of(session, invoice)
    context = {
        "payment_form": PaymentForm(
            formdata=None,
            amount=invoice.balance.quantize(services.currency_unit(invoice.currency))
            if invoice.balance
            else None,
        ),
        "void_form": VoidForm(formdata=None),
        "notes_form": NotesForm(formdata=None, notes=invoice.notes),
        **forms,
    }
    return render_template(
        "invoices/detail.html",
        invoice=invoice,
        doc=invoice_document(invoice),
        credit_note=credit_note,
        replacement=replacement,
        form=ConfirmForm(),
        today=today(),
        **context,
    )


@blueprint.route("/invoices/<int:invoice_id>.pdf")
@access("user")
def pdf(invoice_id: int):
    invoice = invoice_or_404(invoice_id)
    data = services.invoice_pdf(invoice)
    disposition = "attachment" if request.args.get("download") else "inline"
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(
        services.pdf_filename(invoice), disposition
    )
    if invoice.pdf_sha256:
        response.headers["ETag"] = f'"{invoice.pdf_sha256}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


#: The name each posted form has on the invoice page, to show it again with its errors.
FORM_NAMES = {PaymentForm: "payment_form", VoidForm: "void_form", NotesForm: "notes_form"}


def _act(invoice: Invoice, form, action):
    """Validate `form`, run one service call, commit once, and open the invoice.

    `action(form)` returns the sentence to flash, or (sentence, invoice to open).
    A refusal is shown beside its field on the invoice page, and nothing is saved.
    """
    if form.validate_on_submit():
        try:
            result = action(form)
        except ServiceError as error:
            get_session().rollback()
            field = getattr(form, error.field or "", None)
            if type(form) in FORM_NAMES and field is not None and hasattr(field, "errors"):
                field.errors = [*field.errors, error.message]
            else:
                flash(error.message, "error")
                return redirect(url_for("invoices.detail", invoice_id=invoice.id))
        else:
            get_session().commit()
            message, target = result if isinstance(result, tuple) else (result, invoice)
            flash(message, "success")
            return redirect(url_for("invoices.detail", invoice_id=target.id))
    elif type(form) not in FORM_NAMES:
        abort(400)  # a bare button without its CSRF token
    return _detail_page(invoice, **{FORM_NAMES[type(form)]: form})


@blueprint.route("/invoices/<int:invoice_id>/issue", methods=["POST"])
@access("coordinator")
def issue(invoice_id: int):
    invoice = invoice_or_404(invoice_id)

    def act(form):
        services.issue_invoice(get_session(), settings(), invoice, user_id=current_user.id)
        return f"Issued invoice {invoice.number}."

    return _act(invoice, ConfirmForm(), act)


@blueprint.route("/invoices/<int:invoice_id>/notes", methods=["POST"])
@access("coordinator")
def edit_notes(invoice_id: int):
    invoice = invoice_or_404(invoice_id)

    def act(form):
        services.update_draft(
            get_session(), invoice, notes=form.notes.data, user_id=current_user.id
        )
        return "Saved the note."

    return _act(invoice, NotesForm(), act)


@blueprint.route("/invoices/<int:invoice_id>/payments", methods=["POST"])
@access("coordinator")
def record_payment(invoice_id: int):
    invoice = invoice_or_404(invoice_id)

    def act(form):
        services.record_payment(
            get_session(),
            invoice,
            amount=form.amount.data,
            paid_on=form.paid_on.data,
            reference=form.reference.data,
            user_id=current_user.id,
        )
        if invoice.status == "paid":
            return f"Recorded the payment; {invoice.number} is paid in full."
        balance = money(invoice.balance, invoice.currency)
        return f"Recorded the payment; {balance} is still outstanding."

    return _act(invoice, PaymentForm(), act)


@blueprint.route("/invoices/<int:invoice_id>/void", methods=["POST"])
@access("coordinator")
def void(invoice_id: int):
    invoice = invoice_or_404(invoice_id)

    def act(form):
        credit, replacement = services.void_invoice(
            get_session(),
            settings(),
            invoice,
            reason=form.reason.data,
            user_id=current_user.id,
            reissue=form.reissue.data,
        )
        text = f"Voided {invoice.number}; credit note {credit.number} issued."
        if replacement is None:
            return text
        return text + " A corrected draft is ready: check it and issue it.", replacement

    return _act(invoice, VoidForm(), act)


@blueprint.route("/invoices/<int:invoice_id>/email", methods=["POST"])
@access("coordinator")
def email(invoice_id: int):
    invoice = invoice_or_404(invoice_id)

    def act(form):
        services.send_invoice(
            get_session(), settings(), invoice, sender(current_app.config), user_id=current_user.id
        )
        return f"Emailed {invoice.number} to {invoice.emailed_to}."

    return _act(invoice, ConfirmForm(), act)


@blueprint.route("/export/invoices.<fmt>")
@access("staff")
def export_invoices(fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    session = get_session()
    filters = queries.InvoiceFilter.from_args(request.args)
    filters.sort = "number"
    invoices = list(session.scalars(queries.invoice_query(filters, None, today())))
    credited = {i.id: i.number for i in invoices}
    missing = {i.credited_invoice_id for i in invoices if i.credited_invoice_id} - credited.keys()
    if missing:
        credited.update(
            dict(session.query(Invoice.id, Invoice.number).filter(Invoice.id.in_(missing)).all())
        )
    rows = [exports.invoice_row(i, credited) for i in invoices]
    return _table_download(
        "invoices", exports.INVOICE_HEADERS, rows, exports.INVOICE_MONEY, fmt, "Invoices"
    )


@blueprint.route("/export/payments.<fmt>")
@access("staff")
def export_payments(fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    filters = queries.InvoiceFilter.from_args(request.args)
    payments = list(get_session().scalars(queries.payments_query(filters)))
    rows = [exports.payment_row(p) for p in payments]
    return _table_download(
        "payments", exports.PAYMENT_HEADERS, rows, exports.PAYMENT_MONEY, fmt, "Payments"
    )


def _table_download(name, headers, rows, money, fmt, title):
    if fmt == "csv":
        data, mimetype = exports.to_csv(headers, rows), "text/csv; charset=utf-8"
    else:
        from costshare.xlsx import MIMETYPE

        data, mimetype = exports.to_xlsx(title, headers, rows, money), MIMETYPE
    return Response(
        data,
        mimetype=mimetype,
        headers={"Content-Disposition": content_disposition(f"{name}-{today().isoformat()}.{fmt}")},
    )
