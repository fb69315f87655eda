"""The official 1EdTech Open Badges 3.0 AchievementCredential JSON schema (docs/schemas/ob_v3p0), offline."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft201909Validator
from referencing import Registry

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "ob_v3p0" / "achievementcredential.json"
SCHEMA_SHA256 = "5753fb3ecf7d024ed273dd364bd683f483eb47257e718e6618832cf89eb2083a"


def _no_network(uri: str) -> Any:
    raise LookupError(f"the OB 3.0 schema referred to {uri}: nothing is fetched in the tests")


@cache
def validator() -> Draft201909Validator:
    raw = SCHEMA_PATH.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SCHEMA_SHA256, "the vendored schema was modified"
    schema = json.loads(raw)
    Draft201909Validator.check_schema(schema)
    return Draft201909Validator(
        schema,
        registry=Registry(retrieve=_no_network),  # type: ignore[call-arg]
        format_checker=Draft201909Validator.FORMAT_CHECKER,
    )


def ob3_errors(document: Any) -> list[str]:
    """What the official schema says is wrong with `document` (empty when it conforms)."""
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '(document)'}: {error.message[:300]}"
        for error in validator().iter_errors(document)
    ]


def assert_ob3(document: Any) -> None:
    errors = ob3_errors(document)
    assert not errors, "not an Open Badges 3.0 AchievementCredential:\n" + "\n".join(errors)
