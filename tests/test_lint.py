"""Ruff (check and format) and mypy (PyPI, pinned in pyproject.toml's dev extra) pass on the code, with the settings of
[tool.ruff] and [tool.mypy] in pyproject.toml.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", "service", "scripts", "bench", "tests")
    assert result.returncode == 0, f"ruff check:\n{result.stdout}{result.stderr}"


def test_the_code_is_as_ruff_format_writes_it() -> None:
    result = _run("ruff", "format", "--check", "service", "scripts", "bench", "tests")
    assert result.returncode == 0, f"ruff format --check (run `ruff format` to fix):\n{result.stdout}{result.stderr}"


def test_mypy_finds_nothing() -> None:
    result = _run("mypy", "service")
    assert result.returncode == 0, f"mypy service:\n{result.stdout}{result.stderr}"
