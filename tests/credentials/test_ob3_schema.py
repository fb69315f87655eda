"""Every credential the hub issues conforms to the official 1EdTech Open Badges 3.0 JSON schema: the
holder's copy, every shared copy (all claims, none, each subset), and docs/examples/."""

from __future__ import annotations

import copy
import json
from itertools import combinations
from pathlib import Path

import pytest

from service.credentials import select_disclosures
from service.credentials.batch import disclosures_of
from tests.credentials.factory import CYBERSECURITY, issue
from tests.credentials.ob3 import assert_ob3, ob3_errors

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.mark.parametrize("relayed", [True, False])
def test_issued_credentials_and_every_shared_copy_conform(relayed: bool) -> None:
    for issued in (issue(3, relayed=relayed, decoys=2), issue(1, relayed=relayed, programme=CYBERSECURITY)):
        for full in issued.credentials:
            assert_ob3(full)
            names = [item.name for item in disclosures_of(full)]
            for size in range(len(names) + 1):
                for chosen in combinations(names, size):
                    assert_ob3(select_disclosures(full, chosen))


@pytest.mark.parametrize("name", ["credential.json", "credential-shared.json"])
def test_the_examples_conform(name: str) -> None:
    assert_ob3(json.loads((EXAMPLES / name).read_text(encoding="utf-8")))


def test_the_schema_is_strict_where_we_were_wrong() -> None:
    """The checks bite: the proof as a bare object (as the hub issued it before) is refused, and so is a
    subject with a non-array type."""
    full = issue(1).credentials[0]
    old = copy.deepcopy(full)
    old["proof"] = old["proof"][0]
    assert any(error.startswith("proof") for error in ob3_errors(old))
    bad = copy.deepcopy(full)
    bad["credentialSubject"]["type"] = "AchievementSubject"
    assert ob3_errors(bad)
