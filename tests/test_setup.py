"""scripts/setup leaves the working tree as it found it: its npm step installs node_modules from the committed
package-lock.json without rewriting it, also on a machine whose npm settings are npm's defaults (a fresh
machine, as CI's clean clone has; `npm install` there adds a "resolved" URL to entries of our lock).

The npm command is read from scripts/setup and run as it is in a temporary copy of package.json and the lock,
with npm's user configuration replaced by an empty one; packages come from the npm registry (the npm cache
makes a second run quick)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETUP = ROOT / "scripts" / "setup"


def npm_command() -> list[str]:
    """The npm command scripts/setup runs to install node_modules (one line starting with `npm`)."""
    lines = [line.strip() for line in SETUP.read_text(encoding="utf-8").splitlines() if re.match(r"\s*npm\s", line)]
    assert len(lines) == 1, lines
    return shlex.split(lines[0])


def test_setup_installs_node_modules_with_npm_ci() -> None:
    """`npm ci` never writes the lock and refuses a package.json that disagrees with it."""
    command = npm_command()
    assert command[:2] == ["npm", "ci"], command
    text = SETUP.read_text(encoding="utf-8")
    assert "lock_before=$(sha256sum package.json package-lock.json)" in text  # and checks it after


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_npm_step_leaves_the_lock_unchanged_on_a_fresh_machine(tmp_path: Path) -> None:
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(ROOT / name, tmp_path / name)
    empty = tmp_path / "empty.npmrc"
    empty.write_text("", encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.lower().startswith("npm_config_")}
    env["NPM_CONFIG_USERCONFIG"] = str(empty)  # npm's defaults: none of this machine's settings
    env["NPM_CONFIG_UPDATE_NOTIFIER"] = "false"
    result = subprocess.run(npm_command(), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("package.json", "package-lock.json"):
        assert (tmp_path / name).read_bytes() == (ROOT / name).read_bytes(), f"npm rewrote {name}"
    assert (tmp_path / "node_modules" / ".bin" / "anvil").exists()
    assert (tmp_path / "node_modules" / "solc" / "package.json").exists()
