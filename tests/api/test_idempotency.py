"""Idempotent writes (service/api/idempotency.py): the Idempotency-Key header on POST /credentials,
/credentials/batch, /credentials/{id}/revoke and the board's writes, on a real anvil node and a real SQLite
file; the claim itself on SQLite and PostgreSQL, from several engines at once (as several service processes).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from service.api import idempotency
from service.api.idempotency import Answer, Claimed, KeyedRequest, Reused, Running, Stored
from service.auth import authenticate
from service.chain.devchain import free_port
from service.db import models
from service.db.migrate import migrate
from service.db.session import make_engine, make_sessionmaker
from service.demo import DEMO_PROGRAMMES
from service.errors import ChainUnavailable
from service.hub import Hub
from service.issuing import revocation
from service.main import create_app
from tests.api.test_issuing import HANZE, RUG, TVM, UNIGARANT, assert_problem, count, graduate
from tests.live import wait_for

KEY = '"8e03978e-40d5-43e8-bc93-6894a57f9324"'  # an RFC 8941 string, as the draft writes it
IDEMPOTENT = {
    "issueCredential",
    "issueCohort",
    "revokeCredential",
    "createProposal",
    "castVote",
    "recuse",
    "executeProposal",
    "openMeeting",
    "addMeetingProposal",
    "signMeetingBallot",
    "closeMeeting",
}


@pytest.fixture
def hanze(client: TestClient, keys: Any, accredited: Any) -> str:
    """Hanzehogeschool Groningen accredited, the demo programmes in the catalogue."""
    for programme in DEMO_PROGRAMMES:
        assert client.post("/programmes", headers=keys.admin(), json=programme.as_create()).status_code == 201
    return accredited(HANZE)[0]


def with_key(headers: dict[str, str], key: str = KEY) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def records(hub: Hub) -> list[models.IdempotencyRecord]:
    with hub.sessions() as session:
        return list(session.scalars(select(models.IdempotencyRecord).order_by(models.IdempotencyRecord.id)))


def principal_of(hub: Hub, headers: dict[str, str]) -> str:
    with hub.sessions() as session:
        return f"key:{authenticate(session, headers['Authorization']).key_id}"


def replayed(response: Any) -> bool:
    return response.headers.get("Idempotent-Replayed") == "true"


# ---------------------------------------------------------------- issuing


def test_the_same_key_twice_issues_one_credential_and_replays_the_first_answer(
    client: TestClient, keys: Any, hub: Hub, hanze: str
) -> None:
    first = client.post("/credentials", headers=with_key(keys.issuer(HANZE)), json=graduate())
    assert first.status_code in (201, 202), first.text
    assert not replayed(first)
    second = client.post("/credentials", headers=with_key(keys.issuer(HANZE)), json=graduate())
    assert (second.status_code, second.json()) == (first.status_code, first.json())  # the holder token included
    assert second.headers["location"] == first.headers["location"] == f"/credentials/{first.json()['id']}"
    assert second.headers["content-type"] == first.headers["content-type"]
    assert replayed(second)
    assert count(hub, models.Credential) == 1
    token = second.json()["holder_token"]
    assert client.get(f"/credentials/{first.json()['id']}", headers={"X-Holder-Token": token}).status_code == 200

    # the quoted and the bare form are one key; another key is another request
    bare = client.post("/credentials", headers=with_key(keys.issuer(HANZE), KEY.strip('"')), json=graduate())
    assert replayed(bare) and bare.json() == first.json()
    other = client.post("/credentials", headers=with_key(keys.issuer(HANZE), "another-key"), json=graduate())
    assert other.status_code == first.status_code and not replayed(other)
    assert count(hub, models.Credential) == 2

    # what the database holds: no key, no holder token, kept 24 hours
    record = records(hub)[0]
    assert record.status == first.status_code and record.path == "/credentials"
    assert KEY.strip('"') not in (record.key_hash, record.fingerprint)
    assert record.body is not None and token.encode() not in record.body and b"holder_token" not in record.body
    assert record.expires_at - record.created_at >= timedelta(hours=24)


def test_the_same_key_with_another_body_or_path_is_422(client: TestClient, keys: Any, hub: Hub, hanze: str) -> None:
    first = client.post("/credentials", headers=with_key(keys.issuer(HANZE)), json=graduate())
    assert first.status_code in (201, 202), first.text
    other = client.post("/credentials", headers=with_key(keys.issuer(HANZE)), json=graduate(name="Piet Jansen"))
    body = assert_problem(other, 422, contains="this Idempotency-Key was used for another request (POST /credentials")
    assert body["type"].endswith("/idempotency-key-reused")
    elsewhere = client.post(
        f"/credentials/{first.json()['id']}/revoke",
        headers=with_key(keys.issuer(HANZE)),
        json={"reason": "issued-in-error"},
    )
    assert_problem(elsewhere, 422, contains="used for another request")
    assert count(hub, models.Credential) == 1
    assert client.get(f"/credentials/{first.json()['id']}", headers=keys.issuer(HANZE)).json()["revoked"] is False


def test_another_principal_with_the_same_key_is_independent(
    client: TestClient, keys: Any, hub: Hub, hanze: str, accredited: Any
) -> None:
    accredited(RUG)
    hanzes = client.post("/credentials", headers=with_key(keys.issuer(HANZE)), json=graduate())
    rugs = client.post(
        "/credentials", headers=with_key(keys.issuer(RUG)), json=graduate(programme_id="blockchain-foundations")
    )
    assert rugs.status_code == hanzes.status_code, rugs.text
    assert not replayed(rugs) and rugs.json()["id"] != hanzes.json()["id"]
    assert rugs.json()["issuer_address"] == keys.addresses[("issuer", RUG)]
    for headers, answer in ((keys.issuer(HANZE), hanzes), (keys.issuer(RUG), rugs)):  # each replays its own
        again = client.post("/credentials", headers=with_key(headers), json=json.loads(answer.request.content))
        assert replayed(again) and again.json() == answer.json()
    assert count(hub, models.Credential) == 2


def test_a_malformed_key_is_422_and_nothing_is_done(client: TestClient, keys: Any, hub: Hub, hanze: str) -> None:
    for key, says in (
        ("", "Idempotency-Key: is empty"),
        ('""', "Idempotency-Key: is empty"),
        ("k" * 256, "Idempotency-Key: is 256 characters long; at most 255"),
    ):
        response = client.post("/credentials", headers=with_key(keys.issuer(HANZE), key), json=graduate())
        body = assert_problem(response, 422, contains=says)
        assert body["errors"][0]["location"] == ["header", "Idempotency-Key"]
    twice = client.post(
        "/credentials",
        json=graduate(),
        headers=[*keys.issuer(HANZE).items(), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")],
    )
    assert_problem(twice, 422, contains="send one Idempotency-Key header, not 2")
    assert client.post(
        "/credentials", headers=with_key(keys.issuer(HANZE), "k" * 255), json=graduate()
    ).status_code in (201, 202)
    assert count(hub, models.Credential) == 1 and len(records(hub)) == 1


def test_a_cohort_sent_twice_with_one_key_is_one_batch(client: TestClient, keys: Any, hub: Hub, hanze: str) -> None:
    csv = (
        b"programme_id,email,name,grade\nmiw-data-analytics,jan@example.org,Jan de Vries,8.5\n"
        b"miw-ai,anna@example.org,Anna Jansen,7\n"
    )
    headers = with_key({**keys.issuer(HANZE), "Content-Type": "text/csv"})
    first = client.post("/credentials/batch", headers=headers, content=csv)
    assert first.status_code == 202, first.text
    second = client.post("/credentials/batch", headers=headers, content=csv)
    assert (second.status_code, second.json()) == (202, first.json()) and replayed(second)
    assert second.headers["location"] == f"/batches/{first.json()['id']}"
    assert count(hub, models.Batch) == 1 and count(hub, models.Credential) == 2


# ---------------------------------------------------------------- racing requests


@pytest.fixture
def server(hub: Hub) -> Iterator[str]:
    """The app on a real uvicorn server in a thread, on a free loopback port."""
    port = free_port()
    instance = uvicorn.Server(uvicorn.Config(create_app(hub=hub), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=instance.run, name="uvicorn-idempotency", daemon=True)
    thread.start()
    wait_for(lambda: instance.started, 30, "uvicorn to start")
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(30)


def test_requests_racing_with_one_key_issue_one_credential(server: str, keys: Any, hub: Hub, hanze: str) -> None:
    racers = 8
    start = threading.Barrier(racers)

    def send(_: int) -> httpx.Response:
        with httpx.Client(base_url=server, timeout=120) as http:
            start.wait()
            return http.post("/credentials", headers=with_key(keys.issuer(HANZE)), json=graduate())

    with ThreadPoolExecutor(max_workers=racers) as pool:
        answers = list(pool.map(send, range(racers)))
    assert {r.status_code for r in answers} <= {201, 202}, [r.text for r in answers]
    assert len({r.text for r in answers}) == 1  # one answer, holder token included
    assert sum(not replayed(r) for r in answers) == 1
    assert count(hub, models.Credential) == 1


def test_a_retry_waits_for_the_running_request_and_replays_its_answer(client: TestClient, keys: Any, hub: Hub) -> None:
    body = json.dumps(graduate()).encode()
    running = KeyedRequest.of(
        principal_of(hub, keys.issuer(HANZE)), KEY.strip('"'), "POST", "/credentials", "application/json", body
    )
    claimed = idempotency.claim(hub.sessions, running)
    assert isinstance(claimed, Claimed)
    answer = Answer(201, {"content-type": "application/json", "location": "/credentials/x"}, b'{"id": "x"}')
    finisher = threading.Timer(0.5, idempotency.finish, (hub.sessions, claimed.record_id, running, answer))
    finisher.start()
    started = time.monotonic()
    retry = client.post(
        "/credentials", headers=with_key({**keys.issuer(HANZE), "Content-Type": "application/json"}), content=body
    )
    finisher.join()
    assert time.monotonic() - started >= 0.4  # it waited for the first request
    assert (retry.status_code, retry.json(), retry.headers["location"]) == (201, {"id": "x"}, "/credentials/x")
    assert replayed(retry)
    assert count(hub, models.Credential) == 0


def test_a_request_still_processed_after_the_wait_is_409_with_retry_after(
    client: TestClient, keys: Any, hub: Hub, hanze: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.3)
    body = json.dumps(graduate()).encode()
    headers = with_key({**keys.issuer(HANZE), "Content-Type": "application/json"})
    running = KeyedRequest.of(
        principal_of(hub, keys.issuer(HANZE)), KEY.strip('"'), "POST", "/credentials", "application/json", body
    )
    claimed = idempotency.claim(hub.sessions, running)
    assert isinstance(claimed, Claimed)
    busy = client.post("/credentials", headers=headers, content=body)
    problem = assert_problem(busy, 409, contains="a request with this Idempotency-Key is still being processed")
    assert problem["type"].endswith("/idempotency-key-in-use") and busy.headers["retry-after"].isdigit()
    assert count(hub, models.Credential) == 0

    idempotency.release(hub.sessions, claimed.record_id)  # the first request failed (5xx): the key is free
    done = client.post("/credentials", headers=headers, content=body)
    assert done.status_code in (201, 202) and not replayed(done), done.text
    assert count(hub, models.Credential) == 1


# ---------------------------------------------------------------- revoking, the board, 5xx, expiry


def test_revoking_twice_with_one_key_replays_the_200(client: TestClient, keys: Any, hub: Hub, hanze: str) -> None:
    issued = client.post("/credentials", headers=keys.issuer(HANZE), json=graduate()).json()
    path = f"/credentials/{issued['id']}/revoke"
    first = client.post(path, headers=with_key(keys.issuer(HANZE)), json={"reason": "issued-in-error"})
    assert first.status_code == 200, first.text
    again = client.post(path, headers=with_key(keys.issuer(HANZE)), json={"reason": "issued-in-error"})
    assert (again.status_code, again.json()) == (200, first.json()) and replayed(again)  # not 409 already revoked
    without = client.post(path, headers=keys.issuer(HANZE), json={"reason": "issued-in-error"})
    assert_problem(without, 409, contains="already revoked")


def test_a_refusal_is_replayed_too(client: TestClient, keys: Any, hub: Hub, hanze: str) -> None:
    unknown = "/credentials/4f1c0000-0000-4000-8000-000000000000/revoke"
    first = client.post(unknown, headers=with_key(keys.issuer(HANZE)), json={"reason": "superseded"})
    assert_problem(first, 404)
    again = client.post(unknown, headers=with_key(keys.issuer(HANZE)), json={"reason": "superseded"})
    assert (again.status_code, again.json()) == (404, first.json()) and replayed(again)
    assert again.headers["content-type"] == "application/problem+json"


def test_board_writes_are_replayed(client: TestClient, keys: Any, hub: Hub) -> None:
    proposal = {
        "kind": "resolution",
        "title": "Jaarrekening 2025",
        "document": "Het bestuur stelt de jaarrekening vast.",
    }
    first = client.post("/board/proposals", headers=with_key(keys.member(TVM)), json=proposal)
    assert first.status_code == 201, first.text
    again = client.post("/board/proposals", headers=with_key(keys.member(TVM)), json=proposal)
    assert (again.status_code, again.json()) == (201, first.json()) and replayed(again)
    assert again.headers["location"] == f"/board/proposals/{first.json()['id']}"
    assert [p["id"] for p in client.get("/board/proposals").json()] == [first.json()["id"]]

    votes = f"/board/proposals/{first.json()['id']}/votes"
    vote = client.post(votes, headers=with_key(keys.member(UNIGARANT), "vote-1"), json={"support": "for"})
    assert vote.status_code == 201, vote.text
    revote = client.post(votes, headers=with_key(keys.member(UNIGARANT), "vote-1"), json={"support": "for"})
    assert (revote.status_code, revote.json()) == (201, vote.json()) and replayed(revote)  # not 409 already voted


def test_a_503_is_not_stored_and_the_retry_does_the_work(
    client: TestClient, keys: Any, hub: Hub, hanze: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = client.post("/credentials", headers=keys.issuer(HANZE), json=graduate()).json()
    real_revoke = revocation.revoke
    calls: list[int] = []

    def node_away_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ChainUnavailable("the blockchain node does not answer (connection refused)")
        return real_revoke(*args, **kwargs)

    monkeypatch.setattr(revocation, "revoke", node_away_once)
    path = f"/credentials/{issued['id']}/revoke"
    down = client.post(path, headers=with_key(keys.issuer(HANZE)), json={"reason": "issued-in-error"})
    assert_problem(down, 503)
    assert records(hub) == []  # released: the client may retry with the same key
    retry = client.post(path, headers=with_key(keys.issuer(HANZE)), json={"reason": "issued-in-error"})
    assert retry.status_code == 200 and not replayed(retry), retry.text
    assert len(calls) == 2
    stored = client.post(path, headers=with_key(keys.issuer(HANZE)), json={"reason": "issued-in-error"})
    assert (stored.status_code, stored.json()) == (200, retry.json()) and replayed(stored)  # a 200 is kept
    assert len(calls) == 2


def test_expired_keys_are_purged_and_not_replayed(
    client: TestClient, keys: Any, hub: Hub, hanze: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency, "PURGE_EVERY", 0)
    first = client.post("/credentials", headers=with_key(keys.issuer(HANZE)), json=graduate())
    assert first.status_code in (201, 202), first.text
    kept = client.post("/credentials", headers=with_key(keys.issuer(HANZE), "kept"), json=graduate())
    assert kept.status_code in (201, 202), kept.text
    yesterday = datetime.now(UTC) - timedelta(hours=25)
    with hub.sessions() as session, session.begin():
        session.execute(
            update(models.IdempotencyRecord)
            .where(models.IdempotencyRecord.path == "/credentials")
            .values(created_at=yesterday, expires_at=yesterday + idempotency.KEEP)
        )

    # any use of a key purges what has expired
    other = client.post(
        f"/credentials/{first.json()['id']}/revoke",
        headers=with_key(keys.issuer(HANZE), "revoke"),
        json={"reason": "issued-in-error"},
    )
    assert other.status_code == 200, other.text
    assert [r.path for r in records(hub)] == [f"/credentials/{first.json()['id']}/revoke"]
    # an expired key is a new key: the request is done again
    again = client.post("/credentials", headers=with_key(keys.issuer(HANZE)), json=graduate())
    assert again.status_code in (201, 202) and not replayed(again) and again.json()["id"] != first.json()["id"]
    assert count(hub, models.Credential) == 3


def test_the_header_is_documented_on_every_idempotent_write(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["components"]["parameters"]["IdempotencyKey"]["name"] == "Idempotency-Key"
    documented = set()
    for item in schema["paths"].values():
        for operation in item.values():
            if {"$ref": "#/components/parameters/IdempotencyKey"} in operation.get("parameters", []):
                documented.add(operation["operationId"])
                assert "Idempotency-Key" in operation["responses"]["409"]["description"]
                assert "Idempotency-Key" in operation["responses"]["422"]["description"]
    assert documented == IDEMPOTENT


# ---------------------------------------------------------------- the claim, from several processes


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    return str(request.getfixturevalue("postgres").new_database())


def test_processes_racing_for_one_key_one_claims_and_the_others_get_its_answer(database_url: str) -> None:
    engines = [make_engine(database_url) for _ in range(4)]  # as four service processes: a pool each
    try:
        migrate(engines[0])
        processes = [make_sessionmaker(engine) for engine in engines]
        request = KeyedRequest.of("key:7", "k-1", "POST", "/credentials", "application/json", b'{"name": "Jan"}')
        start = threading.Barrier(12)

        def race(index: int) -> Any:
            start.wait()
            return idempotency.claim(processes[index % 4], request)

        with ThreadPoolExecutor(max_workers=12) as pool:
            outcomes = list(pool.map(race, range(12)))
        claimed = [outcome for outcome in outcomes if isinstance(outcome, Claimed)]
        assert len(claimed) == 1 and sum(isinstance(outcome, Running) for outcome in outcomes) == 11

        answer = Answer(201, {"content-type": "application/json"}, b'{"holder_token": "s3cret"}')
        idempotency.finish(processes[1], claimed[0].record_id, request, answer)
        assert all(idempotency.claim(sessions, request) == Stored(answer) for sessions in processes)
        with processes[2]() as session:
            record = session.scalars(select(models.IdempotencyRecord)).one()
        assert record.body is not None and b"s3cret" not in record.body and "k-1" not in record.key_hash

        other_body = KeyedRequest.of("key:7", "k-1", "POST", "/credentials", "application/json", b'{"name": "Piet"}')
        assert idempotency.claim(processes[3], other_body) == Reused("POST", "/credentials")
        other_principal = KeyedRequest.of("key:8", "k-1", "POST", "/credentials", "application/json", b"{}")
        assert isinstance(idempotency.claim(processes[3], other_principal), Claimed)
    finally:
        for engine in engines:
            engine.dispose()


def test_a_claim_abandoned_by_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        migrate(engine)
        sessions = make_sessionmaker(engine)
        request = KeyedRequest.of("key:1", "k", "POST", "/board/proposals", "application/json", b"{}")
        now = datetime.now(UTC)
        assert isinstance(idempotency.claim(sessions, request, now), Claimed)
        assert idempotency.claim(sessions, request, now + idempotency.LEASE / 2) == Running()
        assert isinstance(idempotency.claim(sessions, request, now + idempotency.LEASE), Claimed)
        assert idempotency.claim(sessions, request, now + idempotency.LEASE) == Running()
    finally:
        engine.dispose()
