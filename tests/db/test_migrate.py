"""The schema's migration when several processes start at once, as an explicit step (`hub db upgrade`), and the
service that does not migrate at start (HUB_MIGRATE_AT_START=false).

Processes here are real OS processes: three uvicorn services (bench.server's) started together on one empty
PostgreSQL database, and three bare `migrate` calls released at the same instant, on PostgreSQL (advisory lock)
and on a SQLite file (flock).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from bench.server import ROOT, launch_server
from service.cli import app
from service.db import models
from service.db.migrate import (
    SchemaNotAtHead,
    alembic_config,
    check_at_head,
    current_revision,
    head_revision,
    migrate,
)
from service.db.session import make_engine
from tests.api.conftest import anvil, deployments_dir  # noqa: F401 - a node with the hub deployed
from tests.live import wait_for
from tests.postgres import Postgres

HEAD = head_revision()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: a SQLite file not yet created, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'hub.db'}"
    postgres: Postgres = request.getfixturevalue("postgres")
    return postgres.new_database()


def assert_at_head_once(url: str) -> None:
    """The schema is there, at the newest revision, recorded once (the schema itself against the models:
    tests/db/test_postgresql.py)."""
    engine = make_engine(url)
    try:
        assert set(models.Base.metadata.tables) & set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]
    finally:
        engine.dispose()


# ---------------------------------------------------------------- processes starting at once


# Loaded by each service process at its start (sitecustomize, first on PYTHONPATH): the slow imports, then it
# waits at the gate until all three are ready, so they leave it within a millisecond and reach the migration
# together, as when a deployment starts its replicas (else their loading times keep them apart).
GATE = """
import os, time
from pathlib import Path

import service.main  # noqa: F401

gate = Path(os.environ["HUB_TEST_GATE"])
(gate / f"ready-{os.getpid()}").touch()
while not (gate / "go").exists():
    time.sleep(0.001)
"""


def test_three_services_started_at_once_on_an_empty_postgresql_database_all_start(
    anvil: Any, deployments_dir: Path, postgres: Postgres, tmp_path: Path
) -> None:  # noqa: F811
    url = postgres.new_database()
    gate = tmp_path / "gate"
    gate.mkdir()
    (gate / "sitecustomize.py").write_text(GATE)
    env = {"HUB_DATABASE_URL": url, "HUB_TEST_GATE": str(gate), "PYTHONPATH": f"{gate}{os.pathsep}{ROOT}"}
    servers = [
        launch_server(anvil.url, anvil.chain_id, deployments_dir, tmp_path, log=tmp_path / f"service-{n}.log", env=env)
        for n in range(3)
    ]
    try:
        wait_for(
            lambda: len(list(gate.glob("ready-*"))) == 3 or any(s.process.poll() is not None for s in servers),
            60,
            "the three services to load",
        )
        (gate / "go").touch()
        for server in servers:
            server.wait_ready("/health", timeout=90)
        for server in servers:
            health = httpx.get(server.url + "/health", timeout=10)
            assert health.status_code == 200, health.text
            assert health.json()["database"] == "ok"
    finally:
        for server in servers:
            server.stop()
    assert_at_head_once(url)


MIGRATE = """
import sys, time
from pathlib import Path
from service.db.migrate import migrate
from service.db.session import make_engine

url, ready, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
engine = make_engine(url)
ready.touch()
while not go.exists():
    time.sleep(0.001)
migrate(engine)
"""


def test_three_processes_migrating_at_the_same_instant_one_empty_database_all_succeed(
    empty_database: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{n}" for n in range(3)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE, empty_database, str(flag), str(go)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for flag in ready
    ]
    try:
        wait_for(
            lambda: all(flag.exists() for flag in ready) or any(p.poll() is not None for p in processes),
            60,
            "the three processes to load",
        )
        go.touch()  # released together, within a millisecond
        outputs = [process.communicate(timeout=60)[0] for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert [process.returncode for process in processes] == [0, 0, 0], "\n".join(outputs)
    assert_at_head_once(empty_database)


# ---------------------------------------------------------------- hub db upgrade


@pytest.fixture
def hub_cli(empty_database: str) -> CliRunner:
    return CliRunner(env={"HUB_DATABASE_URL": empty_database, "COLUMNS": "200"})


def test_hub_db_upgrade_on_an_empty_database_reaches_head_and_again_is_a_no_op(
    hub_cli: CliRunner, empty_database: str
) -> None:
    current = hub_cli.invoke(app, ["db", "current"])
    assert current.exit_code == 1, current.output
    assert "none (an empty database)" in current.output and "run 'hub db upgrade'" in current.output

    first = hub_cli.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert lines[1].split(None, 1) == ["Before", "none (an empty database)"]
    assert lines[2].split(None, 1) == ["After", f"{HEAD} (head)"]
    assert_at_head_once(empty_database)

    second = hub_cli.invoke(app, ["db", "upgrade"])
    assert second.exit_code == 0, second.output
    lines = second.output.splitlines()
    assert lines[1].split(None, 1) == ["Before", f"{HEAD} (head)"]
    assert lines[2].split(None, 1) == ["After", f"{HEAD} (head): nothing to do"]
    assert_at_head_once(empty_database)

    current = hub_cli.invoke(app, ["db", "current"])
    assert current.exit_code == 0, current.output
    assert current.output.splitlines()[1].split(None, 1) == ["Revision", f"{HEAD} (head)"]


def test_hub_db_upgrade_hides_the_password_and_exits_2_when_the_database_is_unreachable() -> None:
    runner = CliRunner(env={"HUB_DATABASE_URL": "postgresql+psycopg://hub:s3cret@127.0.0.1:1/hub", "COLUMNS": "200"})
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2, result.output
    assert "cannot upgrade the database postgresql+psycopg://hub:***@127.0.0.1:1/hub" in result.output
    assert "s3cret" not in result.output


# ---------------------------------------------------------------- HUB_MIGRATE_AT_START=false


def test_without_migration_at_start_the_service_refuses_an_empty_database_until_hub_db_upgrade(
    anvil: Any, deployments_dir: Path, tmp_path: Path
) -> None:  # noqa: F811
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    env = {"HUB_DATABASE_URL": url, "HUB_MIGRATE_AT_START": "false"}
    refused = launch_server(anvil.url, anvil.chain_id, deployments_dir, tmp_path, env=env, log=tmp_path / "1.log")
    try:
        assert refused.process.wait(60) != 0
    finally:
        refused.stop()
    assert (
        f"the database schema is at revision none (an empty database), the service needs {HEAD}: run `hub db upgrade`"
    ) in refused.log.read_text()
    assert inspect(make_engine(url)).get_table_names() == []  # it did not migrate

    upgrade = CliRunner(env={"HUB_DATABASE_URL": url}).invoke(app, ["db", "upgrade"])
    assert upgrade.exit_code == 0, upgrade.output
    started = launch_server(anvil.url, anvil.chain_id, deployments_dir, tmp_path, env=env, log=tmp_path / "2.log")
    try:
        started.wait_ready("/health", timeout=60)
    finally:
        started.stop()


def test_check_at_head_names_a_revision_this_version_does_not_know(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        migrate(engine)
        check_at_head(engine)  # at head: no complaint
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
        assert current_revision(engine) == "f00d"
        with pytest.raises(
            SchemaNotAtHead,
            match=f"at revision f00d, which this version of the service does not "
            f"know \\(it needs {HEAD}\\): a newer version migrated it",
        ):
            check_at_head(engine)
    finally:
        engine.dispose()


def test_migrate_needs_no_lock_file_for_an_in_memory_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    engine = make_engine("sqlite://")
    try:
        migrate(engine)
        assert current_revision(engine) == HEAD
        assert list(tmp_path.iterdir()) == []
    finally:
        engine.dispose()


def test_the_migrated_schema_is_the_models_and_0008_goes_down_and_up_again(empty_database: str) -> None:
    """The migrations make exactly the tables and columns the models declare (alembic's autogenerate comparison
    finds nothing), on SQLite and PostgreSQL; 0008 (web sessions, the graduate's share links) can be undone."""
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from service.db.migrate import alembic_config

    engine = make_engine(empty_database)
    try:
        migrate(engine)
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), models.Base.metadata) == []
        command.downgrade(alembic_config(empty_database), "0007")
        schema = inspect(engine)
        assert "web_sessions" not in schema.get_table_names()
        assert {"label", "withdrawn_at"}.isdisjoint(c["name"] for c in schema.get_columns("share_links"))
        command.upgrade(alembic_config(empty_database), "head")
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), models.Base.metadata) == []
    finally:
        engine.dispose()


# ---------------------------------------------------------------- 0012: meeting ballots kept when superseded

BALLOT = (
    "INSERT INTO meeting_ballots (meeting_proposal_id, voter, choice, reason, signature, signed_at{extra}) "
    "VALUES (1, '0xVoter', :choice, '', '0x', CURRENT_TIMESTAMP{value})"
)


def _alembic(url: str, step: Any, revision: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            step(config, revision)
    finally:
        engine.dispose()


def test_0012_keeps_the_ballots_current_and_allows_one_current_ballot_per_member(empty_database: str) -> None:
    """The ballots of a 0011 database are current after 0012 (the table is copied: ids, and on PostgreSQL its
    sequence, go on); a second current ballot of a member is refused by the partial unique index, superseded ones
    are kept; going back to 0011 keeps the current ones."""
    _alembic(empty_database, command.upgrade, "0011")
    engine = make_engine(empty_database)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO meetings (id, title, secretary, status, valid_until, opened_at) "
                    "VALUES (1, 'Vergadering', '0xSecretary', 'open', 1, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO meeting_proposals (id, meeting_id, position, proposer, kind, subject, name, key_hash, "
                    "rules, title, document_hash, nonce, deadline, signature) "
                    "VALUES (1, 1, 1, '0xSecretary', 0, '0x', '', '0x', '{}', 'Besluit', '0x', 0, 1, '0x')"
                )
            )
            connection.execute(text(BALLOT.format(extra="", value="")), {"choice": "for"})
        migrate(engine)
        assert current_revision(engine) == HEAD
        with engine.begin() as connection:
            assert connection.execute(text("SELECT id, choice, superseded_at FROM meeting_ballots")).all() == [
                (1, "for", None)
            ]
            connection.execute(text("UPDATE meeting_ballots SET superseded_at = CURRENT_TIMESTAMP"))
            connection.execute(text(BALLOT.format(extra="", value="")), {"choice": "against"})  # id 2: after the copy
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(BALLOT.format(extra="", value="")), {"choice": "abstain"})
        with engine.connect() as connection:
            assert connection.execute(
                text("SELECT id, choice, superseded_at IS NULL FROM meeting_ballots ORDER BY id")
            ).all() == [(1, "for", False), (2, "against", True)]
    finally:
        engine.dispose()
    _alembic(empty_database, command.downgrade, "0011")
    engine = make_engine(empty_database)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT id, choice FROM meeting_ballots")).all() == [(2, "against")]
        migrate(engine)
        assert current_revision(engine) == HEAD
    finally:
        engine.dispose()
