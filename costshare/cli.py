"""`flask --app wsgi costshare …` and `flask --app wsgi db …` commands."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from costshare.db import get_session
from costshare.errors import ServiceError

costshare_cli = AppGroup(
    "costshare", help="costshare commands: demo data, users, calculator, usage."
)


def fail(message: str) -> None:
    """Print one line on stderr and exit with status 2 (bad input)."""
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(2)


@costshare_cli.command("seed-demo")
@click.option(
    "--force", is_flag=True, help="Load the demo even if the database holds data (adds to it)."
)
def seed_demo_command(force: bool) -> None:
    """Load the demo consortium into an empty database."""
    from costshare.demo import DEMO_LOGINS, seed_demo
    from costshare.members.models import Member

    session = get_session()
    if not force and session.scalar(select(Member.id).limit(1)) is not None:
        click.echo("The database already holds data; the demo was not loaded (use --force).")
        return
    summary = seed_demo(session)
    session.commit()
    click.echo(summary)
    click.echo(f"Demo logins (password for all: {DEMO_LOGINS['password']}):")
    for email, role in DEMO_LOGINS["users"]:
        click.echo(f"  {email:<32} {role}")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    lines = sys.stdin.read().splitlines()
    if not lines:
        fail("no password given on standard input")
    if len(lines) >= 2 and lines[0] != lines[1]:
        fail("the two passwords given on standard input differ")
    return lines[0]


@costshare_cli.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(["coordinator", "negotiator", "member"]), required=True)
@click.option("--member", "member_code", help="The member's code (member users only).")
@click.option("--name", help="The person's name.")
def create_user_command(email: str, role: str, member_code: str | None, name: str | None) -> None:
    """Create a user; the password is read from stdin (twice) or prompted."""
    from costshare.auth.services import create_user

    password = _read_password()
    session = get_session()
    try:
        user = create_user(session, email, password, role, member_code, name)
    except ServiceError as error:
        fail(error.message)
    session.commit()
    click.echo(f"Created {user.role} {user.email}.")


@costshare_cli.command("create-token")
@click.argument("email")
@click.option("--name", default="command line", help="A name to tell the token apart.")
def create_token_command(email: str, name: str) -> None:
    """Print a new API token for a user (shown once, stored hashed)."""
    from costshare.auth.services import create_token, find_user

    session = get_session()
    user = find_user(session, email)
    if user is None:
        fail(f"there is no user with the email {email}")
    try:
        _, secret = create_token(session, user, name)
    except ServiceError as error:
        fail(error.message)
    session.commit()
    click.echo(f"API token for {user.email}: {secret}")


def register(app: Flask) -> None:
    from costshare.allocations import commands  # noqa: F401 - adds `costshare calc`
    from costshare.invoices import cli as invoices_cli  # noqa: F401 - adds `costshare invoices`
    from costshare.migrate import db_cli
    from costshare.usage import commands as usage_commands  # noqa: F401 - import-usage, harvest

    app.cli.add_command(db_cli)
    app.cli.add_command(costshare_cli)
