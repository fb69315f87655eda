"""The browser tests' guard: without playwright (or chromium) they skip on a workstation but fail in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _collect(tmp_path: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    """Collect tests/pages/test_browser.py with a `playwright` that cannot be imported."""
    stub = tmp_path / "stub" / "playwright"
    stub.mkdir(parents=True, exist_ok=True)
    stub.joinpath("__init__.py").write_text(
        'raise ModuleNotFoundError("no playwright here (a test stub)", name="playwright")\n'
    )
    environment = {key: value for key, value in os.environ.items() if key != "CI"}
    environment["PYTHONPATH"] = os.pathsep.join([str(stub.parent), str(ROOT)])
    if ci:
        environment["CI"] = "true"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/pages/test_browser.py",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("ci", [False, True], ids=["workstation", "ci"])
def test_a_missing_playwright_skips_only_outside_ci(tmp_path: Path, ci: bool) -> None:
    result = _collect(tmp_path, ci)
    output = result.stdout + result.stderr
    if ci:
        assert result.returncode != 0, output
        assert "RuntimeError: playwright is not installed (no playwright here (a test stub))" in output
    else:
        assert result.returncode == 5, output  # nothing collected: the module skipped itself
        assert "error" not in output.lower()
