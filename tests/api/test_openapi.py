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


def test_operation_ids_are_unique_camel_case_and_stable() -> None:
    import re

    ids = [op["operationId"] for _, _, op in _operations()]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]*)*", op_id) for op_id in ids), ids
    assert {"health", "verifyCredential", "issueCredential", "issueCohort", "castVote", "listDecisions"} <= set(ids)
