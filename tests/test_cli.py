"""`flask --app wsgi costshare …`: seed-demo, create-user, create-token."""

from __future__ import annotations

from sqlalchemy import func, select

from costshare.auth.models import ApiToken, User
from costshare.members.models import Member, MemberFact
from costshare.offers.models import Offer, QuoteRound


def test_seed_demo_builds_a_believable_consortium(runner, session) -> None:
    result = runner.invoke(args=["costshare", "seed-demo", "--force"])
    assert result.exit_code == 0, result.output
    assert "coordinator@demo.costshare.org" in result.output
    members = session.scalars(select(Member)).all()
    assert len(members) >= 12
    assert sum(any("\u4e00" <= ch <= "\u9fff" for ch in m.name) for m in members) >= 3
    years = set(session.scalars(select(MemberFact.year)).all())
    assert len(years) >= 3
    names = set(session.scalars(select(MemberFact.name)).all())
    assert {"fte", "budget", "income"} <= names
    offers = session.scalars(select(Offer)).all()
    kinds = {
        (o.current_round.pricing.get("pricing") or {"kind": "fixed_total"})["kind"] for o in offers
    }
    assert {"fixed_total", "list_discount", "per_member", "per_unit"} <= kinds
    multi_year = [o for o in offers if o.term_years > 1]
    assert multi_year and len(multi_year[0].rounds) >= 2
    assert session.scalar(select(func.count()).select_from(QuoteRound)) >= len(offers) + 2


def test_seed_demo_leaves_a_database_with_data_alone(runner, world) -> None:
    result = runner.invoke(args=["costshare", "seed-demo"])
    assert result.exit_code == 0
    assert "already holds data" in result.output


def test_create_user_reads_the_password_twice_from_stdin(runner, world, session) -> None:
    result = runner.invoke(
        args=[
            "costshare",
            "create-user",
            "New@Example.org",
            "--role",
            "member",
            "--member",
            world.own.code,
        ],
        input="long enough password\nlong enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.email == "new@example.org"))
    assert user.role == "member" and user.member_id == world.own.id


def test_create_user_refuses_bad_input_with_one_line_and_exit_2(runner, world) -> None:
    cases = [
        (
            ["x@example.org", "--role", "member", "--member", "NOPE"],
            "There is no member with the code NOPE.",
        ),
        (["x@example.org", "--role", "member"], "A member user needs the code of its member."),
        (
            ["x@example.org", "--role", "coordinator", "--member", world.own.code],
            "Only member users",
        ),
        ([world.coordinator.email, "--role", "coordinator"], "already exists"),
    ]
    for args, message in cases:
        result = runner.invoke(
            args=["costshare", "create-user", *args], input="long enough password\n" * 2
        )
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output
    result = runner.invoke(
        args=["costshare", "create-user", "y@example.org", "--role", "negotiator"],
        input="short\nshort\n",
    )
    assert result.exit_code == 2 and "at least 10 characters" in result.output
    result = runner.invoke(
        args=["costshare", "create-user", "y@example.org", "--role", "negotiator"],
        input="long enough password\ndifferent password\n",
    )
    assert result.exit_code == 2 and "differ" in result.output


def test_create_token_prints_the_token_as_the_last_word(runner, world, session, client) -> None:
    result = runner.invoke(
        args=["costshare", "create-token", world.negotiator.email, "--name", "ci"]
    )
    assert result.exit_code == 0
    secret = result.output.split()[-1]
    assert session.scalar(select(ApiToken).where(ApiToken.name == "ci")).token_hash != secret
    response = client.get("/api/v1/members", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200


def test_create_token_for_an_unknown_user(runner, world) -> None:
    result = runner.invoke(args=["costshare", "create-token", "ghost@example.org"])
    assert result.exit_code == 2
    assert "there is no user with the email ghost@example.org" in result.output
