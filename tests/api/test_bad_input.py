"""Bad input at every endpoint that takes a body: a clear 4xx problem+json (RFC 9457) and nothing stored.

Each endpoint gets each kind of bad body: over the service's body limit (with Content-Length, and chunked
without one), JSON nested 10,000 deep, bytes that are not UTF-8 (Latin-1, UTF-16), a byte order mark, NaN,
a Content-Type that is not JSON (text/plain, application/xml, none), an unknown field, malformed JSON, an
empty body, and JSON of another type than an object. Every answer is application/problem+json with type,
title, status and a detail that names the problem in words (the limit, the field, the content type), and
the database and the chain are as before.

One rule on every JSON body, POST /verify's included: 400 not-json when the body is not JSON (not UTF-8, a
byte order mark, a syntax error, NaN); 422 invalid-input when it is JSON but not what the operation accepts
(a field missing, unknown or of the wrong type, another type than an object, nesting too deep).
test_the_rule_is_the_same_on_every_json_body_route_as_on_post_verify sends each route the same bodies.

Cases tests/api/test_issuing.py and tests/api/test_verify_api.py already cover are not repeated here
(POST /verify's own size limit, text/plain and no Content-Type; the cohort's text/plain, CSV encoding and
size with Content-Length; unknown fields of POST /credentials).

One world for the module (the catalogue, an accredited partner, a credential, a proposal), on the session's
anvil chain reverted afterwards: the requests here change nothing, which every test checks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.chain.board import BoardClient
from service.chain.devchain import DevChain
from service.db import models
from service.demo import DEMO_PROGRAMMES, ORGANISATIONS
from service.errors import PROBLEM_BASE, InvalidInput, NotJson
from service.hub import Hub
from service.main import create_app
from service.settings import Settings
from tests.api.conftest import Accreditations, Keys
from tests.chain import revert_to, snapshot

TVM, UNIGARANT, HANZE, RUG, NHL, ALFA = (org.name for org in ORGANISATIONS)
PROBLEM_JSON = "application/problem+json"
# What a detail must never be: a parser's or framework's words instead of the service's.
JARGON = (
    "There was an error parsing the body",
    "JSON decode error",
    "valid dictionary or object",
    "Field required",
    "Extra inputs are not permitted",
    "Traceback",
    "codec can't decode",
)


# ---------------------------------------------------------------- the world


@dataclass
class World:
    hub: Hub
    client: TestClient
    keys: Keys
    credential: dict[str, Any]
    proposal_id: int

    @property
    def limit(self) -> int:
        return self.hub.settings.max_body_bytes

    def count(self, model: Any) -> int:
        with self.hub.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(model)))


@pytest.fixture(scope="module")
def world(anvil: DevChain, deployments_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    snapshot_id = snapshot(anvil.w3)
    settings = Settings(
        rpc_url=anvil.url,
        chain_id=anvil.chain_id,
        deployments_dir=deployments_dir,
        database_url=f"sqlite:///{tmp_path_factory.mktemp('bad-input') / 'hub.db'}",
        public_url="http://testserver",
        _env_file=None,
    )
    hub = Hub.start(settings)
    try:
        with TestClient(create_app(hub=hub)) as client:
            keys = Keys(hub)
            for programme in DEMO_PROGRAMMES:
                created = client.post("/programmes", headers=keys.admin(), json=programme.as_create())
                assert created.status_code == 201, created.text
            Accreditations(hub)(HANZE)
            issued = client.post("/credentials", headers=keys.issuer(HANZE), json=GRADUATE)
            assert issued.status_code == 201, issued.text
            proposed = client.post("/board/proposals", headers=keys.member(TVM), json=RESOLUTION)
            assert proposed.status_code == 201, proposed.text
            yield World(hub, client, keys, issued.json(), proposed.json()["id"])
    finally:
        hub.close()
        revert_to(anvil.w3, snapshot_id)


# ---------------------------------------------------------------- the endpoints


GRADUATE = {
    "programme_id": "miw-data-analytics",
    "email": "jan.devries@example.org",
    "name": "Jan de Vries",
    "grade": "8.5",
    "valid_from": "2026-07-01",
}
RESOLUTION = {
    "kind": "resolution",
    "title": "Jaarrekening 2025",
    "document": "Het bestuur stelt de jaarrekening 2025 van de stichting vast.",
}


def _stored_credentials(w: World) -> Any:
    return w.count(models.Batch), w.count(models.Credential)


def _credential_row(w: World) -> Any:
    with w.hub.sessions() as session:
        row = session.get(models.Credential, w.credential["id"])
        assert row is not None
        return row.revoked_at, row.revocation_reason, list(row.shared_claims or []), _stored_credentials(w)


def _board(w: World) -> Any:
    board = BoardClient(w.hub.w3, w.hub.board_address)
    view = board.proposal(w.proposal_id)
    return (
        board.proposal_count(),
        w.count(models.ProposalDocument),
        w.count(models.BoardBallot),
        (view.for_votes, view.against_votes, view.abstain_votes, view.recusals),
    )


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: Callable[[World], str]
    body: dict[str, Any]  # a valid body: the bad ones are made from it
    auth: Callable[[World], dict[str, str]]
    stored: Callable[[World], Any]  # what a write would change
    unknown: str = "colour"  # an unknown field, as the detail must name it
    skip: frozenset[str] = field(default_factory=frozenset)  # cases covered elsewhere
    expect: dict[str, tuple[int, str, tuple[str, ...]]] = field(default_factory=dict)  # (status, slug, words)


ENDPOINTS = [
    Endpoint(
        "issueCredential",
        "POST",
        lambda w: "/credentials",
        GRADUATE,
        lambda w: w.keys.issuer(HANZE),
        _stored_credentials,
        skip=frozenset({"unknown-field"}),
    ),  # test_issuing covers it
    Endpoint(
        "issueCohort",
        "POST",
        lambda w: "/credentials/batch",
        {"credentials": [GRADUATE]},
        lambda w: w.keys.issuer(HANZE),
        _stored_credentials,
        skip=frozenset({"text/plain"}),
    ),  # test_issuing covers it
    Endpoint(
        "setSharing",
        "PUT",
        lambda w: f"/credentials/{w.credential['id']}/sharing",
        {"disclose": ["name"]},
        lambda w: {"X-Holder-Token": w.credential["holder_token"]},
        _credential_row,
    ),
    Endpoint(
        "revokeCredential",
        "POST",
        lambda w: f"/credentials/{w.credential['id']}/revoke",
        {"reason": "issued-in-error"},
        lambda w: w.keys.issuer(HANZE),
        _credential_row,
    ),
    Endpoint(
        "createProgramme",
        "POST",
        lambda w: "/programmes",
        {**DEMO_PROGRAMMES[0].as_create(), "id": "miw-new-programme"},
        lambda w: w.keys.admin(),
        lambda w: w.count(models.Programme),
    ),
    Endpoint("createProposal", "POST", lambda w: "/board/proposals", RESOLUTION, lambda w: w.keys.member(TVM), _board),
    Endpoint(
        "castVote",
        "POST",
        lambda w: f"/board/proposals/{w.proposal_id}/votes",
        {"support": "for", "reason": "akkoord"},
        lambda w: w.keys.member(TVM),
        _board,
    ),
    Endpoint(
        "recuse",
        "POST",
        lambda w: f"/board/proposals/{w.proposal_id}/recusals",
        {"reason": "Wij zijn het onderwerp van dit besluit."},
        lambda w: w.keys.member(UNIGARANT),
        _board,
    ),
    Endpoint(
        "verifyCredential",
        "POST",
        lambda w: "/verify",
        {},
        lambda w: {},
        lambda w: None,
        # test_verify_api covers the size limit, text/plain and no content type. The same statuses as the
        # others, in POST /verify's own words (its credential format nests 32 levels at most)
        skip=frozenset({"too-large", "too-large-chunked", "text/plain", "no-content-type", "unknown-field", "array"}),
        expect={
            "nested": (422, "invalid-input", ("nested deeper than 32 levels",)),
            "not-utf8": (400, "not-json", ("not UTF-8",)),
            "utf16": (400, "not-json", ("not UTF-8",)),
            "bom": (400, "not-json", ("byte order mark",)),
            "nan": (400, "not-json", ("NaN is not JSON",)),
            "malformed-json": (400, "not-json", ("not JSON",)),
            "string": (422, "invalid-input", ("must be a JSON object",)),
        },
    ),
]


# ---------------------------------------------------------------- the bad bodies


@dataclass(frozen=True)
class Bad:
    """A bad request: its body and Content-Type, the status it gets and the words its detail must have."""

    content: bytes | Callable[[World], Any]
    content_type: str | None
    status: int
    slug: str
    words: tuple[str, ...]


def _json(body: Any) -> bytes:
    return json.dumps(body).encode()


def _too_large(w: World) -> bytes:
    return b'{"padding": "' + b"x" * w.limit + b'"}'


def _chunked(w: World) -> Iterator[bytes]:  # no Content-Length: the limit holds while the body is read
    yield b'{"padding": "'
    for _ in range(w.limit // 65_536 + 1):
        yield b"x" * 65_536
    yield b'"}'


def cases(endpoint: Endpoint, w: World | None = None) -> dict[str, Bad]:
    body = endpoint.body
    limit = str(w.limit) if w is not None else ""
    json_words = ("the body is not valid JSON",)
    return {
        "too-large": Bad(_too_large, "application/json", 413, "payload-too-large", ("exceeds", limit, "bytes")),
        "too-large-chunked": Bad(_chunked, "application/json", 413, "payload-too-large", ("exceeds", limit, "bytes")),
        "nested": Bad(
            b"[" * 10_000 + b"]" * 10_000, "application/json", 422, "invalid-input", ("nested deeper than 64 levels",)
        ),
        "not-utf8": Bad(
            json.dumps({**body, "name": "Jos\xe9"}).encode("latin-1").replace(b"\\u00e9", b"\xe9"),
            "application/json",
            400,
            "not-json",
            (*json_words, "not UTF-8", "0xe9"),
        ),
        "utf16": Bad(
            json.dumps(body).encode("utf-16"),
            "application/json",
            400,
            "not-json",
            (*json_words, "not UTF-8", "0xff at position 0"),
        ),
        "bom": Bad(
            b"\xef\xbb\xbf" + _json(body), "application/json", 400, "not-json", (*json_words, "byte order mark")
        ),
        "nan": Bad(
            _json({**body, "number": float("nan")}),
            "application/json",
            400,
            "not-json",
            (*json_words, "NaN is not a JSON number"),
        ),
        "text/plain": Bad(_json(body), "text/plain", 415, "unsupported-media-type", ("application/json", "text/plain")),
        "application/xml": Bad(
            b"<credential/>", "application/xml", 415, "unsupported-media-type", ("application/json", "application/xml")
        ),
        "no-content-type": Bad(_json(body), None, 415, "unsupported-media-type", ("Content-Type",)),
        "unknown-field": Bad(
            _json({**body, endpoint.unknown: "blue"}), "application/json", 422, "invalid-input", (endpoint.unknown,)
        ),
        "malformed-json": Bad(_json(body)[:-1], "application/json", 400, "not-json", (*json_words, "line 1, column")),
        "empty": Bad(b"", "application/json", 400, "not-json", ("empty",)),
        "array": Bad(_json([body]), "application/json", 422, "invalid-input", ("JSON object", "array")),
        "string": Bad(_json("credentials"), "application/json", 422, "invalid-input", ("JSON object", "string")),
    }


CASES = [(endpoint, name) for endpoint in ENDPOINTS for name in cases(endpoint) if name not in endpoint.skip]

# The cohort also comes as CSV and as a CSV file upload.
COHORT_CSV = b"programme_id,email,name\nmiw-data-analytics,jan.devries@example.org,Jan de Vries\n"


def assert_problem(response: Any, status: int, slug: str, *words: str) -> dict[str, Any]:
    """A problem+json answer with `status`, its type `slug`, and a detail that has each of `words`."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= set(problem), problem
    assert problem["status"] == status and problem["type"] == PROBLEM_BASE + slug, problem
    assert problem["title"] and problem["detail"], problem
    for word in words:
        assert word in problem["detail"], (word, problem["detail"])
    for jargon in JARGON:
        assert jargon not in problem["detail"], problem["detail"]
    return problem


def send(
    w: World, endpoint: Endpoint, content: Any, content_type: str | None, headers: dict[str, str] | None = None
) -> Any:
    sent = {**endpoint.auth(w), **(headers or {})}
    if content_type is not None:
        sent["Content-Type"] = content_type
    return w.client.request(endpoint.method, endpoint.path(w), content=content, headers=sent)


# ---------------------------------------------------------------- the tests


def test_the_bodies_the_bad_ones_are_made_from_are_valid() -> None:
    """So that a refusal below is the bad part's doing (sending them would store them)."""
    from service.api.credentials import RevocationCreate, SharingUpdate
    from service.api.programmes import ProgrammeCreate
    from service.board.schemas import ProposalCreate, RecusalCreate, VoteCreate
    from service.issuing.requests import CohortCreate, CredentialCreate

    models_by_endpoint = {
        "issueCredential": CredentialCreate,
        "issueCohort": CohortCreate,
        "setSharing": SharingUpdate,
        "revokeCredential": RevocationCreate,
        "createProgramme": ProgrammeCreate,
        "createProposal": ProposalCreate,
        "castVote": VoteCreate,
        "recuse": RecusalCreate,
    }
    for endpoint in ENDPOINTS:
        if endpoint.name in models_by_endpoint:
            models_by_endpoint[endpoint.name].model_validate(endpoint.body)


@pytest.mark.parametrize(("endpoint", "case"), CASES, ids=[f"{e.name}-{c}" for e, c in CASES])
def test_bad_body_is_a_clear_problem_and_stores_nothing(world: World, endpoint: Endpoint, case: str) -> None:
    bad = cases(endpoint, world)[case]
    status, slug, words = endpoint.expect.get(case, (bad.status, bad.slug, bad.words))
    content = bad.content(world) if callable(bad.content) else bad.content
    before = endpoint.stored(world)
    response = send(world, endpoint, content, bad.content_type)
    problem = assert_problem(response, status, slug, *words)
    assert problem["instance"] == endpoint.path(world)
    assert endpoint.stored(world) == before, f"{endpoint.name} stored something for a bad body ({case})"


# The same bodies to every route: not JSON (400 not-json) and JSON that no route accepts (422 invalid-input).
NOT_JSON = {
    "syntax-error": b'{"reason": "akkoord",}',
    "truncated": b'{"reason": "akk',
    "bare-word": b"akkoord",
    "whitespace-only": b"  \n ",
    "empty": b"",
    "single-quotes": b"{'reason': 'akkoord'}",
    "latin-1": '{"reason": "d\xe9j\xe0 vu"}'.encode("latin-1"),
    "utf-16": '{"reason": "akkoord"}'.encode("utf-16"),
    "utf-16-without-bom": '{"reason": "akkoord"}'.encode("utf-16-le"),
    "byte-order-mark": b'\xef\xbb\xbf{"reason": "akkoord"}',
    "nan": b'{"reason": NaN}',
    "infinity": b"[-Infinity]",
}
JSON_NOT_ACCEPTED = {
    "array": b'[{"reason": "akkoord"}]',
    "string": b'"akkoord"',
    "number": b"42",
    "null": b"null",
    "unknown-fields-only": b'{"colour": "blue"}',
    "nested-too-deep": b"[" * 10_000 + b"]" * 10_000,
}
VERIFY = ENDPOINTS[-1]


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [(body, 400, NotJson) for body in NOT_JSON.values()]
    + [(body, 422, InvalidInput) for body in JSON_NOT_ACCEPTED.values()],
    ids=[*NOT_JSON, *JSON_NOT_ACCEPTED],
)
def test_the_rule_is_the_same_on_every_json_body_route_as_on_post_verify(
    world: World, body: bytes, status: int, error: type
) -> None:
    """400 not-json when the body is not JSON, 422 invalid-input when it is JSON the operation does not accept:
    the same status, type and title on every route that takes JSON as on POST /verify, and nothing stored."""
    assert VERIFY.name == "verifyCredential"
    on_verify = send(world, VERIFY, body, "application/json")  # its details use the credential format's words
    assert on_verify.headers["content-type"] == PROBLEM_JSON
    assert not any(jargon in on_verify.json()["detail"] for jargon in JARGON), on_verify.text
    verify_answer = (on_verify.status_code, on_verify.json()["type"], on_verify.json()["title"])
    assert verify_answer == (status, PROBLEM_BASE + error.slug, error.title), on_verify.text
    for endpoint in ENDPOINTS[:-1]:
        before = endpoint.stored(world)
        response = send(world, endpoint, body, "application/json")
        problem = assert_problem(response, status, error.slug)
        assert (response.status_code, problem["type"], problem["title"]) == verify_answer, endpoint.name
        if status == 400:
            detail = problem["detail"]
            assert detail.startswith(("the body is not valid JSON: ", "the body is empty")), detail
            assert "errors" not in problem, problem  # nothing about fields: the body was not read
        assert endpoint.stored(world) == before, f"{endpoint.name} stored something"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"reason": "akkoord",}', "expecting property name enclosed in double quotes at line 1, column 22"),
        (b'{\n  "reason": "akkoord"\n  "support": "for"\n}', "expecting ',' delimiter at line 3, column 3"),
        ('{"reason": "d\xe9j\xe0"}'.encode("latin-1"), "it is not UTF-8 text (byte 0xe9 at position 13)"),
        (b"\xef\xbb\xbf{}", "it starts with a byte order mark"),
        (b'{"support": Infinity}', "Infinity is not a JSON number"),
    ],
    ids=["syntax", "line-and-column", "latin-1", "byte-order-mark", "infinity"],
)
def test_a_body_that_is_not_json_says_why_and_where(world: World, body: bytes, words: str) -> None:
    for endpoint in ENDPOINTS[:-1]:  # POST /verify says it in its own words (test_verify_api)
        response = send(world, endpoint, body, "application/json")
        problem = assert_problem(response, 400, "not-json", "the body is not valid JSON: " + words)
        assert problem["title"] == NotJson.title


def test_an_integer_too_long_to_read_is_422_not_a_bare_400(world: World) -> None:
    """Python converts integers of at most 4300 digits; FastAPI answers a longer one 'There was an error
    parsing the body'. It is JSON, so 422, naming the length."""
    for endpoint in ENDPOINTS[:-1]:
        before = endpoint.stored(world)
        response = send(world, endpoint, b'{"support": ' + b"7" * 5000 + b"}", "application/json")
        assert_problem(response, 422, "invalid-input", "an integer of 5000 digits")
        assert endpoint.stored(world) == before


def test_a_number_beyond_a_double_is_422_not_infinity(world: World) -> None:
    for endpoint in ENDPOINTS[:-1]:
        before = endpoint.stored(world)
        response = send(world, endpoint, b'{"support": 1e999}', "application/json")
        assert_problem(response, 422, "invalid-input", "the number 1e999, beyond the range of a double")
        assert endpoint.stored(world) == before


def test_an_unclosed_string_of_escaped_quotes_is_answered_at_once(world: World) -> None:
    """The nesting scan's string pattern failed on an unclosed string and was tried again from every later
    quote: this 40 KB body held the event loop for about 30 s. A correctness guard, not a benchmark: the
    bound is a hundred times what the fixed scan takes."""
    body = b"[" * 70 + b'"' + b'\\"' * 20_000
    for endpoint in (ENDPOINTS[0], VERIFY):
        started = time.monotonic()
        response = send(world, endpoint, body, "application/json")
        assert time.monotonic() - started < 3, endpoint.name
        assert response.status_code in (400, 422), response.text


def test_an_empty_json_body_is_left_to_the_route(world: World) -> None:
    """Clients send 'Content-Type: application/json' without a body to operations that take none: not refused
    as not JSON (the proposal is still open, so executing it is 409). A route that needs a body says it is
    empty (400 not-json, as POST /verify: see cases)."""
    before = _board(world)
    response = world.client.post(
        f"/board/proposals/{world.proposal_id}/execute",
        headers={**world.keys.member(TVM), "Content-Type": "application/json"},
        content=b"",
    )
    assert_problem(response, 409, "chain-rejected", "must be")
    assert _board(world) == before


COHORT = ENDPOINTS[1]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "slug", "words"),
    [
        pytest.param(
            lambda w: _chunked_csv(w),
            "text/csv",
            413,
            "payload-too-large",
            ("exceeds", "bytes"),
            id="csv-too-large-chunked",
        ),
        pytest.param(
            lambda w: b"\xff\xfe" + "programme_id,email,name\n".encode("utf-16-le"),
            "text/csv",
            422,
            "invalid-input",
            ("not UTF-8",),
            id="csv-utf16-with-bom",
        ),
        pytest.param(
            lambda w: COHORT_CSV + b"miw-data-analytics,x@example.org,Jos\xe9\n",
            "multipart/form-data",
            422,
            "invalid-input",
            ("form data",),
            id="multipart-without-boundary",
        ),
        pytest.param(
            lambda w: _multipart(COHORT_CSV.replace(b"Jan de Vries", b"Jos\xe9")),
            "multipart/form-data; boundary=hub",
            422,
            "invalid-input",
            ("not UTF-8",),
            id="multipart-csv-not-utf8",
        ),
        pytest.param(
            lambda w: _multipart(COHORT_CSV, name="upload"),
            "multipart/form-data; boundary=hub",
            422,
            "invalid-input",
            ("'file'",),
            id="multipart-without-file-field",
        ),
        pytest.param(
            lambda w: COHORT_CSV.replace(b"name\n", b"name,colour\n").replace(b"Vries\n", b"Vries,blue\n"),
            "text/csv",
            422,
            "invalid-input",
            ("'colour'",),
            id="csv-unknown-column",
        ),
        pytest.param(
            lambda w: _json({"credentials": [{**GRADUATE, "colour": "blue"}]}),
            "application/json",
            422,
            "invalid-input",
            ("row 1", "colour"),
            id="json-unknown-field-in-a-row",
        ),
        pytest.param(
            lambda w: _json({"credentials": {"0": GRADUATE}}),
            "application/json",
            422,
            "invalid-input",
            ("credentials",),
            id="json-credentials-not-a-list",
        ),
        pytest.param(
            lambda w: COHORT_CSV,
            "application/vnd.ms-excel",
            415,
            "unsupported-media-type",
            ("text/csv", "application/vnd.ms-excel"),
            id="excel",
        ),
    ],
)
def test_bad_cohort_as_csv_or_upload(
    world: World, content: Callable[[World], Any], content_type: str, status: int, slug: str, words: tuple[str, ...]
) -> None:
    before = COHORT.stored(world)
    response = send(world, COHORT, content(world), content_type)
    assert_problem(response, status, slug, *words)
    assert COHORT.stored(world) == before


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        (ENDPOINTS[5], {**RESOLUTION, "colour": "blue"}),  # createProposal: a body model, read by FastAPI
        (COHORT, {"credentials": [{**GRADUATE, "colour": "blue"}]}),  # issueCohort: read by the route itself
    ],
    ids=["body-model", "cohort"],
)
def test_a_json_body_is_parsed_once(
    world: World, monkeypatch: pytest.MonkeyPatch, endpoint: Endpoint, body: dict[str, Any]
) -> None:
    """The one rule's parse (problems.read_json) is the only one: no check that parses and throws the value
    away before the route parses it again. Every json.loads of the body is counted, whoever calls it."""
    assert endpoint.name in ("createProposal", "issueCohort")
    content = _json(body)
    loads = json.loads
    parses: list[str] = []

    def counting(text: Any, *args: Any, **kwargs: Any) -> Any:
        if (text.encode() if isinstance(text, str) else bytes(text)) == content:
            parses.append(endpoint.name)
        return loads(text, *args, **kwargs)

    monkeypatch.setattr(json, "loads", counting)
    before = endpoint.stored(world)
    response = send(world, endpoint, content, "application/json")
    assert_problem(response, 422, "invalid-input", "colour")  # read, and refused for the unknown field
    assert parses == [endpoint.name]
    assert endpoint.stored(world) == before


def test_every_api_route_reads_json_by_the_one_rule() -> None:
    """Every route of the API's routers is a JsonRoute, also once included in the app, so a JSON body is read
    by problems.read_json (the depth checked before the parser); so is every route of the app with a body. A
    plain APIRoute would parse a body with json.loads, unguarded."""
    from fastapi.routing import APIRoute

    from service.api import api_router, problems

    def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
        for route in routes:
            included = getattr(route, "original_router", None)  # FastAPI keeps an included router's own routes
            if included is not None:
                yield from api_routes(included.routes)
            elif isinstance(route, APIRoute):
                yield route

    ours = list(api_routes(api_router.routes))
    assert {"issueCredential", "issueCohort", "createProposal", "verifyCredential", "health"} <= {
        route.operation_id for route in ours
    }
    assert all(isinstance(route, problems.JsonRoute) for route in ours), [
        route.path for route in ours if not isinstance(route, problems.JsonRoute)
    ]
    app_routes = list(api_routes(create_app(Settings(_env_file=None)).routes))
    assert {route.operation_id for route in ours} <= {route.operation_id for route in app_routes}
    with_body = [route for route in app_routes if route.body_field is not None]
    assert len(with_body) >= 7 and all(isinstance(route, problems.JsonRoute) for route in with_body)


def test_json_nested_200000_deep_is_refused_and_the_service_lives_on(world: World) -> None:
    """200 KB of '[', under every body limit: parsed as it is, it overflows the C stack (py_ecc raises the
    recursion limit to 100,000) and ends the process, before any key is checked. problems.read_json refuses it
    before the parser (POST /verify refuses it with its own check)."""
    deep = b"[" * 200_000
    for endpoint in ENDPOINTS:
        # no key: FastAPI parses the body before it checks the key
        response = world.client.request(
            endpoint.method, endpoint.path(world), content=deep, headers={"Content-Type": "application/json"}
        )
        levels = 32 if endpoint.name == "verifyCredential" else 64
        assert_problem(response, 422, "invalid-input", f"nested deeper than {levels} levels")
    assert world.client.get("/health/live").json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("valid_from", "9999-12-31T23:59:59-12:00"),  # no UTC time: past the calendar's end
        ("valid_from", "0001-01-01T00:00:00+14:00"),  # before its start
        ("valid_from", "0999-12-31"),  # a credential writes a four-digit year
        ("valid_until", "9999-12-31T23:59:59-01:00"),
    ],
)
def test_dates_at_the_calendars_edge_are_422_naming_the_field(world: World, field: str, value: str) -> None:
    before = _stored_credentials(world)
    single = world.client.post("/credentials", headers=world.keys.issuer(HANZE), json={**GRADUATE, field: value})
    assert_problem(single, 422, "invalid-input", f"{field}: ", "out of range", "between the years 1000 and 9999")
    cohort = world.client.post(
        "/credentials/batch",
        headers=world.keys.issuer(HANZE),
        json={"credentials": [GRADUATE, {**GRADUATE, field: value}]},
    )
    assert_problem(cohort, 422, "invalid-input", f"row 2: {field}: ", "out of range")
    as_csv = world.client.post(
        "/credentials/batch",
        headers={**world.keys.issuer(HANZE), "Content-Type": "text/csv"},
        content=f"programme_id,email,name,{field}\nmiw-data-analytics,a@example.org,A,{value}\n".encode(),
    )
    assert_problem(as_csv, 422, "invalid-input", f"row 1 (line 2): {field}: ", "out of range")
    assert _stored_credentials(world) == before


VOTER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # TVM's board account


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "where"),
    [
        ("GET", "/board/proposals/18446744073709551616", {}, "path.proposal_id"),
        ("POST", "/board/proposals/18446744073709551616/execute", {}, "path.proposal_id"),
        ("GET", "/board/proposals", {"params": {"offset": 2**64}}, "query.offset"),
        ("GET", "/board/decisions", {"params": {"offset": 2**64}}, "query.offset"),
        (
            "GET",
            "/board/proposals/1/ballot-typed-data",
            {"params": {"voter": VOTER, "deadline": 2**256}},
            "query.deadline",
        ),
        (
            "POST",
            "/board/proposals/1/votes",
            {"json": {"support": "for", "voter": VOTER, "deadline": 2**256, "signature": "0x" + "11" * 65}},
            "deadline",
        ),
    ],
)
def test_numbers_beyond_what_the_database_or_chain_holds_are_422(
    world: World, method: str, path: str, kwargs: dict[str, Any], where: str
) -> None:
    before = _board(world)
    response = world.client.request(method, path, headers=world.keys.member(TVM), **kwargs)
    assert_problem(response, 422, "invalid-input", f"{where}: Input should be less than or equal to")
    assert _board(world) == before


def test_a_board_body_with_a_misspelt_nested_field_names_it(world: World) -> None:
    rules = {
        "quorum_bps": 5000,
        "majority_bps": 5000,
        "supermajority_bps": 6666,
        "voting_period": 3600,
        "execution_period": 3600,
        "quorumbps": 1,
    }
    before = _board(world)
    response = world.client.post(
        "/board/proposals",
        headers=world.keys.member(TVM),
        json={"kind": "change-rules", "title": "Regels", "document": "De regels.", "rules": rules},
    )
    assert_problem(response, 422, "invalid-input", "rules.quorumbps")
    assert _board(world) == before


def _chunked_csv(w: World) -> Iterator[bytes]:
    yield b"programme_id,email,name\n"
    line = b"miw-data-analytics,someone@example.org,Some One\n"
    for _ in range(w.limit // (len(line) * 1000) + 1):
        yield line * 1000


def _multipart(csv: bytes, name: str = "file") -> bytes:
    return (
        b'--hub\r\nContent-Disposition: form-data; name="' + name.encode() + b'"; filename="cohort.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n" + csv + b"\r\n--hub--\r\n"
    )
