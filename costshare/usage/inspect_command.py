"""`costshare counter inspect FILE [--json]`: what a COUNTER file holds, without a database."""

from __future__ import annotations

import json

import click

from costshare.counter import CounterError, Summary, inspect

#: Beyond this many months the text summary gives totals only, to stay readable.
MONTH_COLUMNS = 12


@click.group("counter")
def counter_cli() -> None:
    """Read COUNTER usage reports."""


@counter_cli.command("inspect")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def inspect_command(file: str, as_json: bool) -> None:
    """Read a COUNTER file (R4, R5, R5.1; CSV, TSV, XLSX, JSON) and say what it holds."""
    try:
        summary = inspect(file)
    except CounterError as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(2) from None
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(describe(summary))


def describe(summary: Summary) -> str:
    """Return the summary as text for a person."""
    s = summary
    kind = "master report" if s.is_master else f"standard view of {s.master_report}"
    if s.release == "4":
        kind = f"Release 4 report, counted as {s.master_report} usage"
    lines = [
        f"COUNTER {_release(s.release)} {s.report_id or '(no report id)'}"
        + (f' "{s.report_name}"' if s.report_name else "")
        + (f" — {kind}" if s.report_id else ""),
        f"File:         {s.file} ({s.format})",
        f"Institution:  {s.institution_name or '—'}"
        + (f" ({', '.join(s.institution_ids)})" if s.institution_ids else ""),
        f"Customer ID:  {s.customer_id or '—'}",
        f"Platforms:    {', '.join(s.platforms) or '—'}",
        f"Period:       {_date(s.begin)} to {_date(s.end)}"
        + (f" ({_count(len(s.months), 'month')} with columns or data)" if s.months else ""),
        f"Created:      {_date(s.created)}" + (f" by {s.created_by}" if s.created_by else ""),
        f"Items:        {s.items:,}",
        f"Records:      {s.records:,}" + ("" if s.monthly else " (whole-period counts)"),
    ]
    if s.totals:
        lines += ["", *_totals_table(s)]
    if s.exceptions:
        lines += ["", "Exceptions:"]
        for e in s.exceptions:
            text = " ".join(str(part) for part in (e.code, e.severity, e.message) if part)
            lines.append(f"  {text}" + (f" ({e.data})" if e.data else ""))
    if s.warnings:
        lines += ["", "Warnings:", *(f"  - {w}" for w in s.warnings)]
    return "\n".join(lines)


def _totals_table(s: Summary) -> list[str]:
    months = s.months if len(s.months) <= MONTH_COLUMNS and s.monthly else []
    width = max(len(metric) for metric in s.totals)
    header = f"{'Metric':<{width}}  {'Total':>10}" + "".join(f"  {m:%Y-%m}" for m in months)
    rows = [header]
    for metric, total in s.totals.items():
        by_month = s.totals_by_month.get(metric, {})
        rows.append(
            f"{metric:<{width}}  {total:>10,}"
            + "".join(f"  {by_month.get(m, 0):>7,}" for m in months)
        )
    return rows


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _release(release: str | None) -> str:
    return {"4": "R4", "5": "R5", "5.1": "R5.1"}.get(release or "", "(release unknown)")


def _date(value: object) -> str:
    return value.isoformat() if value is not None else "—"  # type: ignore[attr-defined]
