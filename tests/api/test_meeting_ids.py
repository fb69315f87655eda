"""A meeting's id past the INTEGER id column is no such meeting (404 problem+json), on SQLite and on PostgreSQL,
where a number past 2**31 - 1 in a query is the database's error (it answered 500)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.settings import Settings
from tests.api.conftest import (  # noqa: F401 - fixtures, registered by importing them here
    Keys,
    anvil,
    chain_state,
    client,
    deployments_dir,
    hub,
    keys,
)
from tests.api.test_board_api import TVM


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, anvil: Any, deployments_dir: Path, tmp_path: Path) -> Settings:  # noqa: F811
    database = (
        f"sqlite:///{tmp_path / 'hub.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres").new_database()
    )
    return Settings(
        rpc_url=anvil.url,
        chain_id=anvil.chain_id,
        deployments_dir=deployments_dir,
        database_url=database,
        public_url="http://testserver",
        _env_file=None,
    )


def test_a_meeting_id_past_the_id_column_is_no_such_meeting(client: TestClient, keys: Keys) -> None:  # noqa: F811
    for meeting_id in (2**31, 2**63 - 1):
        for method, path in (
            ("GET", f"/board/meetings/{meeting_id}"),
            ("POST", f"/board/meetings/{meeting_id}/close"),
        ):
            answer = client.request(method, path, headers=keys.member(TVM))
            assert answer.status_code == 404, (path, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["detail"] == f"there is no meeting {meeting_id}"
