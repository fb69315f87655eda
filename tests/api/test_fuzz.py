"""Fuzzing the API against its own OpenAPI document (schemathesis), on a real anvil chain and a real SQLite file.

Every operation of `create_app().openapi()` is one test; schemathesis generates requests from the schema
(its examples, boundary cases and random valid and invalid data) and each answer must be no 5xx, have a
documented status code and content type, and match the documented schema (problem+json included).

Requests go through the `client` fixture's TestClient, so each operation starts from the freshly deployed
chain (the `hub` fixture reverts it) and its own database. They are prepared by `requests` as schemathesis
prepares them (headers and body bytes exactly as generated) and sent as they are.

* test_fuzz_with_keys: each operation with the key of the principal that may call it (issuer, member or
  admin; none for public ones), in a small world (the catalogue, an accredited partner, one credential,
  one proposal); half the cases have their path parameters and holder token replaced by that world's, so
  fuzzing reaches past 404 into issuing, sharing, revoking, voting and executing.
* test_fuzz_without_keys: the operations that need a key, without one, with an unknown one, with the right
  key under another scheme than Bearer, or with the key of a principal of either other role: exactly 401
  `unauthenticated` or 403 `forbidden` (test_each_operation_answers_each_wrong_key_exactly: every pair).

Bounded for CI (about a minute on 2 cores): few examples per operation, no deadline, derandomized, so every
run sends the same requests. FUZZ_EXAMPLES=200 fuzzes deeper (and slower), as a one-off.
"""

from __future__ import annotations

import os
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.demo import DEMO_PROGRAMMES, ORGANISATIONS
from service.main import create_app

TVM, UNIGARANT, HANZE, RUG, NHL, ALFA = (org.name for org in ORGANISATIONS)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))  # generated cases per operation, besides its examples
SCHEMA = schemathesis.openapi.from_dict(create_app().openapi())

# Which principal's key each operation needs; the others are public.
NEEDS: dict[str, str] = {
    "createProgramme": "admin",
    "issueCredential": "issuer",
    "issueCohort": "issuer",
    "getBatch": "issuer",
    "listBatches": "issuer",
    "getCredential": "issuer",
    "revokeCredential": "issuer",
    "createCertificateLink": "issuer",
    "createProposal": "member",
    "castVote": "member",
    "recuse": "member",
    "executeProposal": "member",
    "openMeeting": "member",
    "listMeetings": "member",
    "getMeeting": "member",
    "addMeetingProposal": "member",
    "signMeetingBallot": "member",
    "closeMeeting": "member",
}


def _settings(max_examples: int) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )


class World:
    """What the fuzzed requests may refer to: the catalogue, Hanzehogeschool accredited, one credential it
    issued (with its holder token and batch) and one proposal."""

    def __init__(self, client: TestClient, keys: Any, accredited: Any) -> None:
        for programme in DEMO_PROGRAMMES:
            assert client.post("/programmes", headers=keys.admin(), json=programme.as_create()).status_code == 201
        accredited(HANZE)
        issued = client.post(
            "/credentials",
            headers=keys.issuer(HANZE),
            json={
                "programme_id": "miw-data-analytics",
                "email": "jan.devries@example.org",
                "name": "Jan de Vries",
                "grade": "8.5",
                "valid_from": "2026-07-01",
            },
        )
        assert issued.status_code == 201, issued.text
        credential = issued.json()
        proposal = client.post(
            "/board/proposals",
            headers=keys.member(TVM),
            json={
                "kind": "resolution",
                "title": "Jaarrekening 2025",
                "document": "Het bestuur stelt de jaarrekening vast.",
            },
        )
        assert proposal.status_code == 201, proposal.text
        meeting = client.post("/board/meetings", headers=keys.member(TVM), json={"title": "Bestuursvergadering"})
        assert meeting.status_code == 201, meeting.text
        added = client.post(
            f"/board/meetings/{meeting.json()['id']}/proposals",
            headers=keys.member(TVM),
            json={"kind": "resolution", "title": "Begroting 2027", "document": "Het bestuur stelt de begroting vast."},
        )
        assert added.status_code == 201, added.text
        self.path_parameters = {
            "meeting_id": meeting.json()["id"],
            "position": 1,
            "credential_id": credential["id"],
            "batch_id": credential["batch_id"],
            "proposal_id": proposal.json()["id"],
            "programme_id": "miw-data-analytics",
        }
        self.holder_token = credential["holder_token"]
        self.cases = 0


@pytest.fixture
def world(client: TestClient, keys: Any, accredited: Any) -> World:
    return World(client, keys, accredited)


@pytest.fixture
def tries() -> list[int]:
    """The cases sent so far (one item each): the test cycles through the ways of having no right key."""
    return []


def key_for(keys: Any, role: str) -> dict[str, str]:
    return {"admin": keys.admin, "issuer": lambda: keys.issuer(HANZE), "member": lambda: keys.member(TVM)}[role]()


def send(client: TestClient, case: schemathesis.Case, headers: dict[str, str] | None = None) -> Any:
    """Send `case` through the TestClient exactly as schemathesis would send it (requests prepares it)."""
    kwargs = case.as_transport_kwargs(base_url=str(client.base_url))
    for name in ("timeout", "verify", "allow_redirects", "cert", "stream", "proxies"):
        kwargs.pop(name, None)
    merged = {**kwargs.pop("headers", {}), **(headers or {})}
    prepared = requests.Request(headers=merged, **kwargs).prepare()
    body = prepared.body.encode("utf-8") if isinstance(prepared.body, str) else prepared.body
    return client.request(prepared.method or "GET", prepared.url or "/", headers=dict(prepared.headers), content=body)


@SCHEMA.parametrize()
@_settings(max_examples=EXAMPLES)
def test_fuzz_with_keys(case: schemathesis.Case, client: TestClient, keys: Any, world: World) -> None:
    world.cases += 1
    in_world = world.cases % 2 == 1  # every other case, the first included
    role = NEEDS.get(case.operation.definition.raw.get("operationId", ""))
    headers = key_for(keys, role) if role else {}
    if role is None and "authorization" in {name.lower() for name in case.headers or {}}:
        case.headers = {k: v for k, v in case.headers.items() if k.lower() != "authorization"}
    if in_world:
        for name in case.path_parameters or {}:
            if name in world.path_parameters:
                case.path_parameters[name] = str(world.path_parameters[name])
        if "X-Holder-Token" in (case.headers or {}) or case.operation.path.endswith(("/sharing", "/certificate-links")):
            headers["X-Holder-Token"] = world.holder_token
    response = send(client, case, headers)
    case.validate_response(response, checks=CHECKS)


# The ways of calling without the right key, and the exact answer each gets (status, problem type).
WRONG_KEYS = ("none", "unknown", "basic-scheme", "other-role-1", "other-role-2")
OTHER_ROLES = {"admin": ("issuer", "member"), "issuer": ("admin", "member"), "member": ("admin", "issuer")}
UNAUTHENTICATED = (401, "https://ithub-hoogeveen.nl/problems/unauthenticated")
FORBIDDEN = (403, "https://ithub-hoogeveen.nl/problems/forbidden")
SHAPE_REFUSALS = {400, 404, 413, 415, 422}
# A valid request of each operation (its ids from the World), so that only the key can be what is wrong.
VALID_BODIES: dict[str, Any] = {
    "createProgramme": DEMO_PROGRAMMES[0].as_create(),
    "issueCredential": {"programme_id": "miw-data-analytics", "email": "a.b@example.org", "name": "A B", "grade": "8"},
    "issueCohort": {
        "credentials": [{"programme_id": "miw-data-analytics", "email": "a.b@example.org", "name": "A B", "grade": "8"}]
    },
    "revokeCredential": {"reason": "issued-in-error"},
    "createCertificateLink": {"disclose": ["name"]},
    "createProposal": {"kind": "resolution", "title": "Jaarrekening", "document": "Het bestuur stelt vast."},
    "castVote": {"support": "for", "reason": "akkoord"},
    "recuse": {"reason": "belang"},
    "executeProposal": {},
    "openMeeting": {"title": "Bestuursvergadering"},
    "listMeetings": {},
    "getMeeting": {},
    "addMeetingProposal": {"kind": "resolution", "title": "Begroting", "document": "Het bestuur stelt vast."},
    "signMeetingBallot": {"choice": "for", "reason": "akkoord"},
    "closeMeeting": {},
}


def wrong_key(keys: Any, role: str, way: str) -> tuple[dict[str, str], tuple[int, str]]:
    """The Authorization header of `way` for an operation that needs `role`, and the answer it must get."""
    if way == "none":
        return {}, UNAUTHENTICATED
    if way == "unknown":
        return {"Authorization": "Bearer hub_0000000000000000000000000000000000000000000"}, UNAUTHENTICATED
    if way == "basic-scheme":  # the right principal's valid key, under another scheme
        return {"Authorization": "Basic " + key_for(keys, role)["Authorization"].split(" ", 1)[1]}, UNAUTHENTICATED
    other = OTHER_ROLES[role][int(way[-1]) - 1]
    return key_for(keys, other), FORBIDDEN


@SCHEMA.include(operation_id=list(NEEDS)).parametrize()
@_settings(max_examples=max(EXAMPLES // 2, 1))
def test_fuzz_without_keys(case: schemathesis.Case, client: TestClient, keys: Any, tries: list[int]) -> None:
    tries.append(1)
    way = WRONG_KEYS[len(tries) % len(WRONG_KEYS)]
    role = NEEDS[case.operation.definition.raw["operationId"]]
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    case.headers = headers
    extra, (status, problem) = wrong_key(keys, role, way)
    response = send(client, case, extra)
    case.validate_response(response, checks=CHECKS)
    answer = (response.status_code, response.json().get("type"))
    if response.status_code in (401, 403):  # about the key: exactly the refusal this way of calling must get
        assert answer == (status, problem), f"{case.operation.label} answered {answer} with a {way} key"
    elif response.status_code == 405:  # schemathesis also sends other methods than the operation's
        assert case.method.upper() != case.operation.method.upper(), f"{case.operation.label} answered 405"
    else:  # a generated request some routes refuse for its shape before they look at the key (castVote's body
        # says whether it needs one; getCredential takes a holder token too); the pairs: the test below
        assert response.status_code in SHAPE_REFUSALS, f"{case.operation.label} answered {answer} with a {way} key"


@pytest.mark.parametrize("way", WRONG_KEYS)
@pytest.mark.parametrize("operation", sorted(NEEDS))
def test_each_operation_answers_each_wrong_key_exactly(
    operation: str, way: str, client: TestClient, keys: Any, world: World
) -> None:
    """Every role/operation pair, deterministically: no key, an unknown key or another scheme 401; the key of
    another role 403 naming the role needed."""
    found = SCHEMA.find_operation_by_id(operation)
    role = NEEDS[operation]
    extra, (status, problem) = wrong_key(keys, role, way)
    ids = world.path_parameters if "{" in found.path else {}
    body = {"json": VALID_BODIES[operation]} if found.method.upper() != "GET" else {}
    response = client.request(found.method.upper(), found.path.format(**ids), headers=extra, **body)
    assert (response.status_code, response.json()["type"]) == (status, problem), response.text
    assert response.headers["content-type"] == "application/problem+json"
    if status == 403:
        assert f"this needs {'a' if role == 'member' else 'an'} {role} key" in response.json()["detail"]


def test_every_operation_that_takes_a_key_is_fuzzed_with_one() -> None:
    """NEEDS follows the schema: an operation documented with the API key scheme is fuzzed with its key."""
    with_key = {
        op.definition.raw["operationId"]
        for op in (result.ok() for result in SCHEMA.get_all_operations())
        if op.definition.raw.get("security")
    }
    assert with_key == set(NEEDS)
