"""scripts/mutate.py's mutants follow the code: each fragment still occurs exactly once, and each test it runs
exists. (The runner itself is slow and not part of the suite: `.venv/bin/python scripts/mutate.py`.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.mutate import MUTANTS, ROOT, Mutant


@pytest.mark.parametrize("mutant", MUTANTS, ids=[mutant.name for mutant in MUTANTS])
def test_each_mutant_applies_cleanly_to_the_current_sources(mutant: Mutant) -> None:
    source = (ROOT / mutant.path).read_text()
    mutated = mutant.apply(source)  # raises unless the fragment occurs exactly once
    assert mutated != source and mutant.original != mutant.mutated
    files = [argument for argument in mutant.tests if argument.startswith("tests/")]
    assert files and all((ROOT / name.split("::")[0]).is_file() for name in files), mutant.tests


def test_the_mutants_have_unique_names_and_cover_the_contracts_and_the_service() -> None:
    names = [mutant.name for mutant in MUTANTS]
    assert len(names) == len(set(names)) and len(names) >= 20
    assert {Path(mutant.path).parts[0] for mutant in MUTANTS} >= {"contracts", "service", "scripts"}


def test_a_fragment_that_is_gone_or_ambiguous_is_refused() -> None:
    mutant = Mutant("x", "f.py", "a >= b", "a > b", ("tests/x.py",), "")
    assert mutant.apply("if a >= b:\n") == "if a > b:\n"
    assert mutant.line("x\nif a >= b:\n") == 2
    for text in ("if a > b:\n", "if a >= b:\nif a >= b:\n"):
        with pytest.raises(ValueError, match="not exactly once"):
            mutant.apply(text)
