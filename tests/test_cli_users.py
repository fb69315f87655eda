"""`hub users create|list|reset|disable` through typer's CliRunner, on a temporary SQLite database
(HUB_DATABASE_URL): the invitation link is printed once and opens the account; a reset ends every session and
the old link; refusals are one readable line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from service.cli import app
from service.db import models
from service.db.migrate import migrate
from service.db.session import make_engine, make_sessionmaker
from service.web import sessions as web_sessions
from service.web import signin
from tests.test_cli_keys import readable

MEMBER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'users.db'}"


@pytest.fixture
def runner(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no .env of the machine
    return CliRunner(env={"HUB_DATABASE_URL": database, "HUB_PUBLIC_URL": "https://hub.example.org", "COLUMNS": "200"})


def users(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["users", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def link_in(out: str) -> str:
    lines = [line for line in out.splitlines() if line.startswith("https://hub.example.org/invite/")]
    assert len(lines) == 1, out
    return lines[0]


def opens(database: str, link: str) -> str | None:
    """The e-mail address of the account whose live invitation `link` is, or None."""
    engine = make_engine(database)
    try:
        migrate(engine)
        with make_sessionmaker(engine)() as db:
            account = signin.take_invitation(db, link.rsplit("/", 1)[1])
            return account.email if account else None
    finally:
        engine.dispose()


def test_create_list_reset_disable(runner: CliRunner, database: str) -> None:
    code, out, _err = users(
        runner,
        "create",
        "--role",
        "board",
        "--email",
        "Els@Example.org",
        "--name",
        "Els Mulder",
        "--address",
        MEMBER.lower(),
    )
    assert code == 0, out
    assert "Created account 1 (board) for Els Mulder <els@example.org>" in out and "only time" in out
    first = link_in(out)
    assert opens(database, first) == "els@example.org"

    code, out, _err = users(runner, "list")
    assert code == 0 and "els@example.org" in out and MEMBER in out and "invited" in out
    assert first.rsplit("/", 1)[1] not in out

    # a live session of hers (made as the sign-in pages make it) ends with the reset
    engine = make_engine(database)
    store = web_sessions.SessionStore(make_sessionmaker(engine))
    session_id, _session = store.create("staff", "1")
    code, out, _err = users(runner, "reset", "els@example.org")
    assert code == 0 and "every session has ended" in out
    second = link_in(out)
    assert second != first and opens(database, first) is None and opens(database, second) == "els@example.org"
    assert store.load(session_id, "staff") is None

    code, out, _err = users(runner, "disable", "1")
    assert code == 0 and "Disabled account 1" in out
    assert opens(database, second) is None
    with make_sessionmaker(engine)() as db:
        account = db.scalar(select(models.StaffAccount))
        assert account is not None and account.disabled_at is not None
    engine.dispose()
    code, out, _err = users(runner, "list")
    assert "disabled" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "--role", "partner", "--email", "p@example.org", "--name", "P"], "Give the account address"),
        (["create", "--role", "admin", "--email", "nope", "--name", "P"], "Give an e-mail address such as"),
        (["reset", "nobody@example.org"], "There is no account nobody@example.org"),
        (["disable", "42"], "There is no account 42"),
    ],
)
def test_refusals_are_readable_and_exit_2(runner: CliRunner, args: list[str], message: str) -> None:
    users(runner, "create", "--role", "admin", "--email", "a@example.org", "--name", "A")  # the database exists
    code, out, err = users(runner, *args)
    assert code == 2 and message in readable(err), (out, err)
    assert "Traceback" not in err


def test_a_second_account_with_the_same_email_is_refused(runner: CliRunner) -> None:
    assert users(runner, "create", "--role", "admin", "--email", "a@example.org", "--name", "A")[0] == 0
    code, _out, err = users(runner, "create", "--role", "admin", "--email", "A@example.org", "--name", "B")
    assert code == 2 and "There is already an account for a@example.org" in readable(err)


def test_every_cli_act_is_logged_as_the_os_user_and_the_log_prints_it(runner: CliRunner, database: str) -> None:
    import getpass
    import json

    user = getpass.getuser()
    code, out, err = users(runner, "log")
    assert code == 2 and "there is no hub database" in readable(err)  # refused like 'list'
    created = users(
        runner, "create", "--role", "board", "--email", "els@example.org", "--name", "Els", "--address", MEMBER
    )
    first = link_in(created[1])
    second = link_in(users(runner, "reset", "1")[1])
    users(runner, "create", "--role", "admin", "--email", "a@example.org", "--name", "Anouk")
    users(runner, "disable", "els@example.org")
    key = runner.invoke(app, ["keys", "create", "--role", "admin", "--name", "Scripts", "--quiet"])
    assert key.exit_code == 0, key.output
    token = key.stdout.strip()
    assert runner.invoke(app, ["keys", "revoke", "1"]).exit_code == 0
    assert runner.invoke(app, ["keys", "revoke", "1"]).exit_code == 0  # already: nothing changes, nothing logged

    code, out, _err = users(runner, "log", "--json")
    assert code == 0, out
    body = json.loads(out)
    assert (body["total"], body["page"], body["pages"]) == (6, 1, 1)
    acts = [entry["act"] for entry in body["entries"]]
    assert acts == [
        "key-revoked",
        "key-created",
        "account-disabled",
        "account-invited",
        "invitation-reissued",
        "account-invited",
    ]  # newest first
    for entry in body["entries"]:
        assert entry["actor"] == {"kind": "cli", "id": None, "name": user}
        assert entry["client_address"] is None and entry["at"].endswith("Z")
    assert body["entries"][-1]["subject"] == {"kind": "account", "id": "1", "name": "Els <els@example.org>"}
    assert body["entries"][0]["subject"] == {"kind": "key", "id": "1", "name": "Scripts"}
    for secret in (first, second, first.rsplit("/", 1)[1], second.rsplit("/", 1)[1], token, token[4:14]):
        assert secret not in out

    code, out, _err = users(runner, "log")
    assert code == 0
    assert f"cli:{user}" in out and "invitation-reissued" in out and "account 1 (Els <els@example.org>)" in out
    assert "Page 1 of 1 (6 lines)." in out
    code, out, _err = users(runner, "log", "--account", "els@example.org", "--json")
    assert [entry["act"] for entry in json.loads(out)["entries"]] == [
        "account-disabled",
        "invitation-reissued",
        "account-invited",
    ]
    code, out, _err = users(runner, "log", "--act", "key-created", "--json")
    assert [entry["subject"]["name"] for entry in json.loads(out)["entries"]] == ["Scripts"]
    code, out, _err = users(runner, "log", "--act", "key-created", "--size", "1", "--page", "2")
    assert code == 0 and "Page 1 of 1 (1 line)." in out  # a page past the last is the last
    code, out, _err = users(runner, "log", "--act", "password-reset")
    assert code == 0 and "No lines in the audit log for this filter." in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["log", "--act", "deleted-everything"], "there is no act 'deleted-everything'; the acts are account-invited"),
        (["log", "--account", "nobody@example.org"], "There is no account nobody@example.org"),
        # a digit Python's int() cannot read, and a number beyond any account id: told, not a traceback
        (["log", "--account", "\u00b2"], "There is no account \u00b2"),
        (["log", "--account", "9" * 30], "There is no account " + "9" * 30),
        (["disable", "9" * 30], "There is no account " + "9" * 30),
    ],
)
def test_log_refusals_are_readable_and_exit_2(runner: CliRunner, args: list[str], message: str) -> None:
    users(runner, "create", "--role", "admin", "--email", "a@example.org", "--name", "A")
    code, out, err = users(runner, *args)
    assert code == 2 and message in readable(err), (out, err)


def test_log_prints_a_line_whose_act_this_version_does_not_know(runner: CliRunner, database: str) -> None:
    """A line a newer version wrote (an act and actor kind this one lacks) is printed as written, not a traceback."""
    import json
    from datetime import UTC, datetime

    users(runner, "create", "--role", "admin", "--email", "a@example.org", "--name", "Anouk")
    engine = make_engine(database)
    try:
        with make_sessionmaker(engine)() as db:
            db.add(
                models.AuditEntry(
                    at=datetime.now(UTC),
                    actor_kind="robot",
                    actor_name="nightly",
                    act="account-renamed",
                    subject_kind="account",
                    subject_id="1",
                    subject_name="Anouk",
                )
            )
            db.commit()
    finally:
        engine.dispose()
    code, out, err = users(runner, "log")
    assert code == 0, err
    assert "account-renamed" in out and "robot:nightly" in out and "account-invited" in out
    code, out, _err = users(runner, "log", "--json")
    assert [entry["act"] for entry in json.loads(out)["entries"]] == ["account-renamed", "account-invited"]
