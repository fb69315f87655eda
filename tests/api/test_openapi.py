"""The OpenAPI document: a worked example for every request body, every error response documented."""

from __future__ import annotations

from typing import Any

from service.main import create_app

app = create_app()
SCHEMA = app.openapi()
NO_ERRORS = {("get", "/health/live")}  # a liveness probe answers 200 or not at all


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in SCHEMA["paths"].items() for method, op in item.items()]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return SCHEMA["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return schema


def _has_example(media: dict[str, Any]) -> bool:
    if "example" in media or "examples" in media:
        return True
    schema = _resolve(media.get("schema", {}))
    return bool(schema.get("examples") or schema.get("example"))


def test_every_request_body_has_a_worked_example() -> None:
    missing = []
    for method, path, op in _operations():
        body = op.get("requestBody")
        if not body:
            continue
        content = body.get("content", {})
        if not any(_has_example(media) for media in content.values()):
            missing.append(f"{method.upper()} {path}")
    assert missing == [], f"request bodies without an example: {missing}"


def test_every_operation_documents_its_error_responses_as_problem_json() -> None:
    undocumented = []
    for method, path, op in _operations():
        if (method, path) in NO_ERRORS:
            continue
        errors = {code: spec for code, spec in op.get("responses", {}).items() if code[0] in "45"}
        if not errors:
            undocumented.append(f"{method.upper()} {path}")
    assert undocumented == [], f"operations without documented errors: {undocumented}"


def _takes_json(op: dict[str, Any]) -> bool:
    media_types = op.get("requestBody", {}).get("content", {})
    return any(
        media == "application/json" or (media.startswith("application/") and media.endswith("+json"))
        for media in media_types
    )


def test_every_operation_with_a_json_body_documents_400_for_a_body_that_is_not_json() -> None:
    """One rule (service/api/problems.py): 400 not-json when the body is not JSON, 422 when it is JSON the
    operation does not accept; both documented wherever a JSON body is taken, POST /verify's as the others'."""
    with_json = {op["operationId"]: op for _, _, op in _operations() if _takes_json(op)}
    assert {
        "verifyCredential",
        "issueCredential",
        "issueCohort",
        "setSharing",
        "revokeCredential",
        "createProgramme",
        "createProposal",
        "castVote",
        "recuse",
    } <= set(with_json)
    problem = {"$ref": "#/components/schemas/Problem"}
    for op_id, op in with_json.items():
        for status in ("400", "422"):
            documented = op["responses"].get(status)
            assert documented is not None, f"{op_id} does not document {status}"
            assert list(documented["content"]) == ["application/problem+json"], (op_id, status)
            assert documented["content"]["application/problem+json"]["schema"] == problem, (op_id, status)
        assert "not JSON" in op["responses"]["400"]["description"], op_id
    descriptions = {op["responses"]["400"]["description"] for op in with_json.values()}
    assert len(descriptions) == 1, descriptions


def test_operation_ids_are_unique_camel_case_and_stable() -> None:
    import re

    ids = [op["operationId"] for _, _, op in _operations()]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]*)*", op_id) for op_id in ids), ids
    assert {"health", "verifyCredential", "issueCredential", "issueCohort", "castVote", "listDecisions"} <= set(ids)


def test_each_problem_status_has_its_own_example() -> None:
    """/docs shows, under each error status, a problem of that status (not one 403 for all)."""
    seen: dict[str, set[str]] = {}
    for method, path, op in _operations():
        for code, spec in op.get("responses", {}).items():
            if code[0] not in "45" or (method, path) == ("get", "/health"):  # /health's 503 is its Health report
                continue
            media = spec["content"]["application/problem+json"]
            example = media.get("example")
            assert example is not None, f"{method.upper()} {path} {code}: no example"
            assert example["status"] == int(code), f"{method.upper()} {path} {code}: example of {example['status']}"
            assert example["type"].startswith("https://") and example["title"] and example["detail"]
            seen.setdefault(code, set()).add(example["type"])
    assert {"400", "401", "403", "404", "409", "413", "415", "422", "503"} <= set(seen), sorted(seen)
    assert len({next(iter(types)) for types in seen.values()}) == len(seen)  # a different problem per status


def test_the_description_has_a_getting_started_sequence() -> None:
    text = SCHEMA["info"]["description"]
    start = text.index("Getting started")
    steps = [
        "hub keys create",
        "POST /programmes",
        "POST /credentials",
        "PUT /credentials/{credential_id}/sharing",
        "POST /verify",
    ]
    places = [text.index(step, start) for step in steps]
    assert places == sorted(places), places  # key -> programme -> issue -> share -> verify, in that order
    documented = {f"{m.upper()} {p}" for m, p, _ in _operations()}
    assert set(steps[1:]) <= documented  # each step names an operation the API has


def test_the_verification_report_documents_its_plain_words_and_their_language() -> None:
    schemas = SCHEMA["components"]["schemas"]
    report, check = schemas["VerificationReportPublic"], schemas["CheckPublic"]
    assert {"summary", "language"} <= set(report["required"]) and "explanation" in check["required"]
    assert report["properties"]["language"]["enum"] == ["nl", "en"]
    assert "Accept-Language" in report["properties"]["language"]["description"]
    assert "Accept-Language" in check["properties"]["explanation"]["description"]
    # the worked examples carry them too
    examples = SCHEMA["paths"]["/verify"]["post"]["responses"]["200"]["content"]["application/json"]["examples"]
    for example in examples.values():
        value = example["value"]
        assert value["language"] == "en" and value["summary"]
        assert all(item["explanation"] for item in value["checks"])
    assert examples["revoked"]["value"]["summary"].startswith("Not valid: it was revoked on")
