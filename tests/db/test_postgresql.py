"""The store on a real PostgreSQL server: the migration creates the schema on an empty database, and the app
issues, reads and verifies credentials on it (issue #4: any SQLAlchemy URL, schema migrated at start).

A throwaway cluster per test session: initdb into a temporary directory (trust authentication), pg_ctl start
on a free port on 127.0.0.1 with its unix socket in that directory, pg_ctl stop -m fast at the end. PostgreSQL
refuses to run as root, so as root the cluster belongs to and runs as the `postgres` user of the Debian package.
PostgreSQL comes from the system (`apt-get install postgresql`, scripts/setup does it as root). Without it these
tests are skipped, except in CI (CI set), where they fail.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from service.db import models
from service.db.migrate import alembic_config, migrate
from service.db.session import make_engine
from service.demo import DEMO_PROGRAMMES, ORGANISATIONS
from service.hub import Hub
from service.settings import Settings
from tests.api.conftest import (  # noqa: F401 - the API fixtures, with `settings` overridden below
    accredited,
    anvil,
    chain_state,
    client,
    deployments_dir,
    hub,
    keys,
)
from tests.api.test_issuing import graduate, wait_anchored


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        raise RuntimeError(reason)
    pytest.skip(reason, allow_module_level=True)


def _bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin with initdb and pg_ctl."""
    found = [Path(d) for d in glob.glob("/usr/lib/postgresql/*/bin")
             if (Path(d) / "initdb").exists() and (Path(d) / "pg_ctl").exists()]
    found.sort(key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)
    return found[-1] if found else None


PG_BIN = _bin_dir()
if PG_BIN is None:
    _unavailable("no PostgreSQL server under /usr/lib/postgresql/*/bin: apt-get install -y postgresql")
try:
    import psycopg
except ImportError:
    _unavailable("no PostgreSQL driver: pip install -e '.[dev]' (psycopg[binary])")

AS_ROOT = os.geteuid() == 0
HANZE = next(org.name for org in ORGANISATIONS if org.name.startswith("Hanze"))


class Cluster:
    def __init__(self, port: int) -> None:
        self.port = port
        self._names = itertools.count(1)

    def url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        name = f"hub_{next(self._names)}"
        with psycopg.connect(self.url("postgres", "postgresql"), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)


def _run(*command: str | Path) -> None:
    argv = [str(part) for part in command]
    if AS_ROOT:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgresql() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (a free port), trust authentication for `postgres`."""
    assert PG_BIN is not None
    root = Path(tempfile.mkdtemp(prefix="hub-pg-"))  # not under pytest's tmp: that is private to root
    data, sockets, log = root / "data", root / "sockets", root / "postgresql.log"
    sockets.mkdir()
    if AS_ROOT:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sockets, "postgres", "postgres")
    port = _free_port()
    try:
        _run(PG_BIN / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale",
             "--no-sync")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off -c full_page_writes=off"
        _run(PG_BIN / "pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "60", "start")
    except BaseException:
        if log.exists():
            print(log.read_text())
        shutil.rmtree(root, ignore_errors=True)
        raise
    try:
        yield Cluster(port)
    finally:
        _run(PG_BIN / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------------- the migration


def test_migrate_creates_the_schema_on_an_empty_database_and_again_is_a_no_op(postgresql: Cluster) -> None:
    engine = make_engine(postgresql.create_database())
    try:
        assert inspect(engine).get_table_names() == []
        migrate(engine)

        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        inspector = inspect(engine)
        assert set(inspector.get_table_names()) == set(models.Base.metadata.tables) | {"alembic_version"}
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT version_num FROM alembic_version")) == head
            # the migrated schema is the models' schema: columns, types, indexes, constraints
            assert compare_metadata(MigrationContext.configure(connection), models.Base.metadata) == []

        def schema() -> str:  # repr: SQLAlchemy's type objects compare by identity
            current = inspect(engine)
            return repr({table: (current.get_columns(table), current.get_indexes(table),
                                 current.get_unique_constraints(table), current.get_foreign_keys(table))
                         for table in sorted(current.get_table_names())})

        before = schema()
        migrate(engine)  # at head already: nothing to do
        assert schema() == before
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
    finally:
        engine.dispose()


# ---------------------------------------------------------------- the app on PostgreSQL


@pytest.fixture
def settings(anvil: Any, deployments_dir: Path, postgresql: Cluster) -> Settings:  # noqa: F811 - overrides the API's
    return Settings(rpc_url=anvil.url, chain_id=anvil.chain_id, deployments_dir=deployments_dir,
                    database_url=postgresql.create_database(), public_url="http://testserver", _env_file=None)


def test_the_app_issues_reads_and_verifies_on_postgresql(client: TestClient, keys: Any, hub: Hub,  # noqa: F811
                                                          accredited: Any) -> None:  # noqa: F811
    assert hub.engine.dialect.name == "postgresql"
    hanze = accredited(HANZE)[0]
    for programme in DEMO_PROGRAMMES:
        response = client.post("/programmes", headers=keys.admin(), json=programme.as_create())
        assert response.status_code == 201, response.text
    assert {p["id"] for p in client.get("/programmes").json()} == {p.id for p in DEMO_PROGRAMMES}

    # one credential
    response = client.post("/credentials", headers=keys.issuer(HANZE), json=graduate())
    assert response.status_code == 201, response.text
    single = response.json()
    assert single["status"] == "anchored" and single["issuer_address"] == hanze
    read = client.get(f"/credentials/{single['id']}", headers={"X-Holder-Token": single["holder_token"]})
    assert read.status_code == 200, read.text
    assert read.json()["document"] == single["document"]

    # a small cohort
    people = [("Fatima El Amrani", "fatima@example.org", "7,9"), ("Pieter Bakker", "pieter@example.org", 7),
              ("Anna Jansen", "anna@example.org", "9.0")]
    body = {"credentials": [graduate(name=name, email=email, grade=grade) for name, email, grade in people]}
    response = client.post("/credentials/batch", headers=keys.issuer(HANZE), json=body)
    assert response.status_code == 202, response.text
    accepted = response.json()
    batch = wait_anchored(client, keys.issuer(HANZE), accepted["id"])
    assert batch["status"] == "anchored" and batch["error"] is None, batch
    assert [c["id"] for c in batch["credentials"]] == [c["id"] for c in accepted["credentials"]]
    documents = []
    for item, (name, _email, _grade) in zip(accepted["credentials"], people, strict=True):
        read = client.get(f"/credentials/{item['id']}", headers={"X-Holder-Token": item["holder_token"]})
        assert read.status_code == 200, read.text
        document = read.json()["document"]
        assert document["proof"]["merkleRoot"] == accepted["root"]
        assert {claim: value for _salt, claim, value in document["proof"]["disclosures"]}["name"] == name
        documents.append(document)

    # verified by the service
    for document in (single["document"], documents[1]):
        report = client.post("/verify", json=document)
        assert report.status_code == 200, report.text
        assert report.json()["valid"] is True, report.json()

    # the indexer's copy of the chain (board decision, votes, anchored batches) is on PostgreSQL too
    hub.indexer.catch_up()  # raises what the background loop would only log
    with hub.sessions() as session:
        assert session.scalar(text("SELECT count(*) FROM credentials")) == 4
        assert session.scalar(text("SELECT count(*) FROM batches WHERE status = 'anchored'")) == 2
        names = session.execute(text("SELECT name FROM chain_events")).scalars().all()
        assert names.count("BatchAnchored") == 2 and "VoteCast" in names, names
        assert session.scalar(text("SELECT count(*) FROM board_proposals WHERE executed_block IS NOT NULL")) == 1
        assert session.scalar(text("SELECT count(*) FROM board_ballots")) == 4
