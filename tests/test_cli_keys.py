"""`hub keys create|list|revoke` through typer's CliRunner, on a temporary SQLite database (HUB_DATABASE_URL);
the Authorization header's scheme; `hub keystore import`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from sqlalchemy import select
from typer.testing import CliRunner

from service.auth import Role, authenticate
from service.chain.keys import Signers
from service.cli import app
from service.db.migrate import migrate
from service.db.models import ApiKey
from service.db.session import make_engine, make_sessionmaker
from service.errors import Unauthenticated

HANZE = "Hanzehogeschool Groningen"
HANZE_ISSUER = "0x1CBd3b2770909D4e10f157cABC84C7264073C9Ec"
TVM_MEMBER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'keys.db'}"


@pytest.fixture
def runner(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no .env of the machine
    return CliRunner(env={"HUB_DATABASE_URL": database, "COLUMNS": "200"})


def keys(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["keys", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def readable(text: str) -> str:
    """The words of `text`, without the box rich may draw and wrap around a usage error."""
    return " ".join(text.translate({ord(char): " " for char in "│╭╮╰╯─"}).split())


def stored(database: str) -> list[ApiKey]:
    engine = make_engine(database)
    try:
        migrate(engine)  # a refused command may not have created the database
        with make_sessionmaker(engine)() as session:
            return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))
    finally:
        engine.dispose()


def test_create_prints_the_key_once_with_how_to_use_it(runner: CliRunner, database: str) -> None:
    code, out, _ = keys(runner, "create", "--role", "issuer", "--name", HANZE, "--address", HANZE_ISSUER.lower())
    assert code == 0
    token = next(line for line in out.splitlines() if line.startswith("hub_"))
    assert f"Authorization: Bearer {token}" in out
    assert f"Created API key 1 (issuer) for {HANZE}, account {HANZE_ISSUER}" in out  # checksummed
    [record] = stored(database)
    assert (record.role, record.name, record.address) == ("issuer", HANZE, HANZE_ISSUER)
    assert token not in (record.key_hash, record.prefix) and token.startswith(record.prefix)
    engine = make_engine(database)
    with make_sessionmaker(engine)() as session:
        principal = authenticate(session, f"Bearer {token}")
    engine.dispose()
    assert (principal.role, principal.name, principal.address) == (Role.ISSUER, HANZE, HANZE_ISSUER)


def test_create_quiet_prints_only_the_key(runner: CliRunner) -> None:
    code, out, _ = keys(runner, "create", "--role", "admin", "--name", "Stichting IT Hub Hoogeveen", "-q")
    assert code == 0 and out.count("\n") == 1 and out.startswith("hub_")


def test_list_shows_every_key_without_the_keys(runner: CliRunner) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    code, out, _ = keys(runner, "list")
    assert code == 0 and "No API keys yet" in out
    _, admin_out, _ = keys(runner, "create", "--role", "admin", "--name", "Stichting IT Hub Hoogeveen")
    keys(runner, "create", "--role", "member", "--name", "TVM verzekeringen", "--address", TVM_MEMBER)
    keys(runner, "revoke", "1")
    code, out, _ = keys(runner, "list")
    assert code == 0
    for header in ("id", "role", "name", "address", "prefix", "created", "revoked"):
        assert header in out
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if line.startswith("│")}
    assert "admin" in lines["1"] and "Stichting IT Hub Hoogeveen" in lines["1"]
    assert lines["1"].count("UTC") == 2  # created and revoked
    assert "member" in lines["2"] and TVM_MEMBER in lines["2"] and lines["2"].count("UTC") == 1
    token = next(line for line in admin_out.splitlines() if line.startswith("hub_"))
    assert token not in out and token[:10] + "…" in out


def test_revoke_makes_the_key_unusable(runner: CliRunner, database: str) -> None:
    _, out, _ = keys(runner, "create", "--role", "member", "--name", "TVM verzekeringen", "--address", TVM_MEMBER)
    token = next(line for line in out.splitlines() if line.startswith("hub_"))
    code, out, _ = keys(runner, "revoke", "1")
    assert code == 0 and "Revoked API key 1 (member, TVM verzekeringen)" in out
    assert stored(database)[0].revoked_at is not None
    engine = make_engine(database)
    with make_sessionmaker(engine)() as session, pytest.raises(Unauthenticated, match="was revoked"):
        authenticate(session, f"Bearer {token}")
    engine.dispose()
    code, out, _ = keys(runner, "revoke", "1")
    assert code == 0 and "was already revoked" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["create", "--role", "boss", "--name", "X"], "'boss' is not one of", id="bad-role"),
        pytest.param(
            ["create", "--role", "issuer", "--name", HANZE],
            "needs the issuer's account address",
            id="issuer-without-address",
        ),
        pytest.param(
            ["create", "--role", "member", "--name", "TVM", "--address", "0x1234"],
            "needs the member's account address",
            id="invalid-address",
        ),
        pytest.param(
            ["create", "--role", "admin", "--name", "Admin", "--address", TVM_MEMBER],
            "an admin key has no address",
            id="admin-with-address",
        ),
        pytest.param(["create", "--role", "admin", "--name", "  "], "needs the name of its holder", id="blank-name"),
        pytest.param(["create", "--role", "admin"], "Missing option '--name'", id="missing-name"),
        pytest.param(["revoke", "7"], "no API key 7", id="unknown-id"),
        pytest.param(["revoke", "seven"], "Input should be a valid integer", id="id-not-a-number"),
    ],
)
def test_bad_input_is_a_readable_error_with_exit_2(
    runner: CliRunner, database: str, args: list[str], message: str
) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0  # an existing database, without keys
    code, out, err = keys(runner, *args)
    assert code == 2
    assert message in readable(out + err)
    assert "Traceback" not in out + err
    assert stored(database) == []


def test_listing_or_revoking_in_a_missing_database_warns_and_creates_nothing(
    runner: CliRunner, database: str, tmp_path: Path
) -> None:
    missing = tmp_path / "keys.db"
    for args in (["list"], ["revoke", "1"]):
        code, out, err = keys(runner, *args)
        assert code == 2, out + err
        said = readable(err)
        assert f"there is no hub database at {missing}" in said and "HUB_DATABASE_URL" in said
        assert "hub db upgrade" in said and "hub keys create" in said
        assert "No API keys yet" not in out and "Traceback" not in out + err
        assert not missing.exists()
    keys(runner, "create", "--role", "admin", "--name", "Stichting IT Hub Hoogeveen")
    assert missing.exists() and keys(runner, "list")[0] == 0


@pytest.mark.parametrize("columns", [80, 100])
def test_list_keeps_id_role_and_name_whole_at_80_and_100_columns(tmp_path: Path, columns: int) -> None:
    narrow = CliRunner(env={"HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'keys.db'}", "COLUMNS": str(columns)})
    names = {"1": ("admin", "Stichting IT Hub Hoogeveen"), "2": ("member", "TVM verzekeringen")}
    assert keys(narrow, "create", "--role", "admin", "--name", names["1"][1])[0] == 0
    assert keys(narrow, "create", "--role", "member", "--name", names["2"][1], "--address", TVM_MEMBER)[0] == 0
    assert keys(narrow, "revoke", "1")[0] == 0
    code, out, _ = keys(narrow, "list")
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= columns, out
    assert "…" not in out.replace("…  ", "").replace("… ", "").split("hub_")[0]  # the header is not cut
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines if line.startswith("│")]
    firsts = {row[0]: row for row in rows if row[0]}
    for key_id, (role, name) in names.items():
        assert firsts[key_id][1] == role and firsts[key_id][2] == name, out
    # the address is shown whole (folded at most), the times and the revocation too
    assert TVM_MEMBER in "".join(row[2] for row in rows if not row[0] or row[0] == "2").replace(names["2"][1], "")
    assert out.count("UTC") == 3 and "revoked" in out


def test_an_unusable_database_is_a_readable_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    runner = CliRunner(env={"HUB_DATABASE_URL": f"sqlite:///{blocker}/keys.db"})
    result = runner.invoke(app, ["keys", "list"])
    assert result.exit_code == 2
    assert "error: cannot open the database" in result.stderr
    assert "Traceback" not in result.output


def test_create_refuses_a_published_account_when_the_chain_is_a_real_one(
    runner: CliRunner, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = "0x90F8bf6A479f320ead074411a4B0e7944Ea8c9C1"  # ganache --deterministic's account 0
    monkeypatch.setenv("HUB_CHAIN_ID", "11155111")
    code, out, err = keys(runner, "create", "--role", "issuer", "--name", HANZE, "--address", published)
    assert code == 2
    assert (
        f"error: the issuer's account: {published} is a well-known development account, account 0 "
        "(m/44'/60'/0'/0/0) of ganache's --deterministic mnemonic"
    ) in readable(out + err)
    assert stored(database) == []
    own = Account.create().address
    code, _, err = keys(runner, "create", "--role", "issuer", "--name", HANZE, "--address", own)
    assert code == 0, err  # an account of its own
    monkeypatch.setenv("HUB_CHAIN_ID", "31337")  # a development chain: its accounts are what it has
    code, _, _ = keys(runner, "create", "--role", "member", "--name", "TVM verzekeringen", "--address", published)
    assert code == 0 and [record.address for record in stored(database)] == [own, published]


# ---------------------------------------------------------------- the Authorization header (RFC 6750, RFC 7235)


@pytest.fixture
def token(runner: CliRunner) -> str:
    _, out, _ = keys(runner, "create", "--role", "admin", "--name", "Stichting IT Hub Hoogeveen")
    return next(line for line in out.splitlines() if line.startswith("hub_"))


def _authenticate(database: str, header: str | None) -> Any:
    engine = make_engine(database)
    try:
        with make_sessionmaker(engine)() as session:
            return authenticate(session, header)
    finally:
        engine.dispose()


# RFC 7235 2.1: the auth-scheme is case-insensitive, and 1*SP separates it from the credentials (RFC 6750 2.1)
@pytest.mark.parametrize(
    "header", ["Bearer {token}", "bearer {token}", "BEARER {token}", "Bearer   {token}", "Bearer {token}  "]
)
def test_the_bearer_scheme_is_case_insensitive_as_rfc_7235_says(database: str, token: str, header: str) -> None:
    assert _authenticate(database, header.format(token=token)).role == Role.ADMIN


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Basic {token}", "must be 'Bearer <key>'"),
        ("Token {token}", "must be 'Bearer <key>'"),
        ("Bearerx {token}", "must be 'Bearer <key>'"),
        ("{token}", "must be 'Bearer <key>'"),  # no scheme
        ("Bearer{token}", "must be 'Bearer <key>'"),  # no space
        ("Bearer", "must be 'Bearer <key>'"),
        ("Bearer    ", "must be 'Bearer <key>'"),
        ("Bearer {token} {token}", "this API key is not known"),
        ("", "send your API key as 'Authorization: Bearer <key>'"),
    ],
)
def test_any_other_scheme_or_shape_is_refused_with_a_valid_key(
    database: str, token: str, header: str, message: str
) -> None:
    with pytest.raises(Unauthenticated, match=message):
        _authenticate(database, header.format(token=token))


# ---------------------------------------------------------------- hub keystore import


def _import(runner: CliRunner, key: str, chain_id: str, keystores: Path) -> tuple[int, str]:
    result = runner.invoke(
        app,
        ["keystore", "import", "--chain-id", chain_id],
        input=key + "\n",
        env={"HUB_KEYSTORE_DIR": str(keystores), "HUB_KEYSTORE_PASSWORD": "geheim"},
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, readable(result.stdout + result.stderr)


def test_keystore_import_refuses_a_published_key_for_a_real_chain(runner: CliRunner, tmp_path: Path) -> None:
    keystores = tmp_path / "keystores"
    published = Account.from_mnemonic(
        "test test test test test test test test test test test junk", account_path="m/44'/60'/0'/0/20"
    )
    code, text = _import(runner, published.key.hex(), "11155111", keystores)
    assert code == 2
    assert f"error: the key: {published.address} is a well-known development account, account 20 " in text
    assert "Refused on chain 11155111" in text and published.key.hex().removeprefix("0x") not in text
    assert not keystores.exists() or list(keystores.iterdir()) == []
    code, text = _import(runner, published.key.hex(), "31337", keystores)  # anvil's own chain: it is its account
    assert code == 0, text


def test_keystore_import_writes_a_keystore_the_service_signs_with(runner: CliRunner, tmp_path: Path) -> None:
    keystores = tmp_path / "keystores"
    own = Account.create()
    code, text = _import(runner, own.key.hex(), "11155111", keystores)
    assert code == 0, text
    assert f"Imported the key of {own.address} into {keystores / own.address}.json" in text
    path = keystores / f"{own.address}.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert own.key.hex().removeprefix("0x") not in path.read_text()
    assert Signers(11155111, keystores, "geheim").for_address(own.address).key == own.key
    code, text = _import(runner, own.key.hex(), "11155111", keystores)
    assert code == 2 and f"there is a keystore for {own.address} already" in text
    code, text = _import(runner, "0xnot-a-key", "11155111", keystores)
    assert code == 2 and "error: the input is not a private key (32 bytes in hex)" in text


def test_keystore_import_needs_the_keystore_settings(runner: CliRunner) -> None:
    result = runner.invoke(app, ["keystore", "import", "--chain-id", "11155111"], input="0x" + "11" * 32 + "\n")
    assert result.exit_code == 2
    assert "set HUB_KEYSTORE_DIR and HUB_KEYSTORE_PASSWORD" in readable(result.stdout + result.stderr)


def test_revoking_a_number_past_the_id_column_is_no_such_key_on_postgresql_too(
    postgres: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a key id past 2**31 - 1 in a query is the database's error (a traceback): no such key."""
    monkeypatch.chdir(tmp_path)
    database = postgres.new_database()
    on_postgres = CliRunner(env={"HUB_DATABASE_URL": database, "COLUMNS": "200"})
    assert on_postgres.invoke(app, ["db", "upgrade"]).exit_code == 0
    for number in (str(2**31), str(2**63 - 1)):
        code, out, err = keys(on_postgres, "revoke", number)
        assert code == 2 and f"no API key {number}" in readable(out + err), (out, err)
