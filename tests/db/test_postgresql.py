"""The store on a real PostgreSQL server: the migration creates the schema on an empty database, and the app
issues, reads and verifies credentials on it (issue #4: any SQLAlchemy URL, schema migrated at start).

The cluster is the session's `postgres` fixture (tests/postgres.py): without PostgreSQL these tests are
skipped, except in CI (CI set), where they fail.
"""

from __future__ import annotations

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
from tests.postgres import Postgres

HANZE = next(org.name for org in ORGANISATIONS if org.name.startswith("Hanze"))


# ---------------------------------------------------------------- the migration


def test_migrate_creates_the_schema_on_an_empty_database_and_again_is_a_no_op(postgres: Postgres) -> None:
    engine = make_engine(postgres.new_database())
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
            return repr(
                {
                    table: (
                        current.get_columns(table),
                        current.get_indexes(table),
                        current.get_unique_constraints(table),
                        current.get_foreign_keys(table),
                    )
                    for table in sorted(current.get_table_names())
                }
            )

        before = schema()
        migrate(engine)  # at head already: nothing to do
        assert schema() == before
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
    finally:
        engine.dispose()


# ---------------------------------------------------------------- the app on PostgreSQL


@pytest.fixture
def settings(anvil: Any, deployments_dir: Path, postgres: Postgres) -> Settings:  # noqa: F811 - overrides the API's
    return Settings(
        rpc_url=anvil.url,
        chain_id=anvil.chain_id,
        deployments_dir=deployments_dir,
        database_url=postgres.new_database(),
        public_url="http://testserver",
        _env_file=None,
    )


def test_the_app_issues_reads_and_verifies_on_postgresql(
    client: TestClient,
    keys: Any,
    hub: Hub,  # noqa: F811
    accredited: Any,
) -> None:  # noqa: F811
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
    people = [
        ("Fatima El Amrani", "fatima@example.org", "7,9"),
        ("Pieter Bakker", "pieter@example.org", 7),
        ("Anna Jansen", "anna@example.org", "9.0"),
    ]
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
        assert document["proof"][0]["merkleRoot"] == accepted["root"]
        assert {claim: value for _salt, claim, value in document["proof"][0]["disclosures"]}["name"] == name
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


def test_the_status_list_follows_a_revocation_on_postgresql(
    client: TestClient,
    keys: Any,
    hub: Hub,  # noqa: F811
    accredited: Any,
) -> None:  # noqa: F811
    """The rebuild joins the indexed events' JSON arguments to the status entries: PostgreSQL's JSON operators."""
    from service.credentials.status_list import bit, decode_list, parse_entry

    hub.indexer.stop()
    accredited(HANZE)
    for programme in DEMO_PROGRAMMES:
        assert client.post("/programmes", headers=keys.admin(), json=programme.as_create()).status_code == 201
    issued = [
        client.post("/credentials", headers=keys.issuer(HANZE), json=graduate(email=f"g{n}@example.org"))
        for n in range(2)
    ]
    assert all(response.status_code == 201 for response in issued), [response.text for response in issued]
    revoked, kept = (response.json() for response in issued)
    response = client.post(
        f"/credentials/{revoked['id']}/revoke", headers=keys.issuer(HANZE), json={"reason": "superseded"}
    )
    assert response.status_code == 200, response.text
    hub.indexer.catch_up()

    def status(document: dict[str, Any]) -> int:
        url, index = parse_entry(document["credentialStatus"])
        served = client.get(url.removeprefix("http://testserver"))
        assert served.status_code == 200, served.text
        return bit(decode_list(served.json()["credentialSubject"]["encodedList"]), index)

    assert (status(revoked["document"]), status(kept["document"])) == (1, 0)
