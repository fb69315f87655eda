"""The committed artifacts are a reproducible build of contracts/ (pinned compiler and settings)."""

from __future__ import annotations

import json

from scripts import compile as build
from service.chain.artifacts import ARTIFACTS_DIR


def test_committed_artifacts_match_a_fresh_build() -> None:
    assert build.differences(ARTIFACTS_DIR) == [], "run `python scripts/compile.py` and commit artifacts/"


def test_build_targets_shanghai_with_pinned_compiler() -> None:
    info = json.loads((ARTIFACTS_DIR / "build-info.json").read_text())
    assert info["compiler"] == {"name": "solc", "version": "0.8.29"}
    assert info["settings"]["evmVersion"] == "shanghai"
    assert info["settings"]["optimizer"]["enabled"] is True


def test_deployed_code_has_no_cancun_opcodes() -> None:
    """ganache 7.9 runs up to shanghai: MCOPY (0x5e), TLOAD (0x5c), TSTORE (0x5d) must not appear as opcodes."""
    for name in ("CredentialRegistry", "HubBoard"):
        code = bytes.fromhex(json.loads((ARTIFACTS_DIR / f"{name}.json").read_text())["deployedBytecode"][2:])
        opcodes = set()
        i = 0
        while i < len(code):
            op = code[i]
            if op == 0xFE:  # INVALID: what follows is the metadata section
                break
            opcodes.add(op)
            i += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)
        assert not opcodes & {0x5C, 0x5D, 0x5E}, f"{name} uses a cancun opcode"


def test_stale_artifact_is_detected(tmp_path) -> None:
    for path in ARTIFACTS_DIR.glob("*.json"):
        (tmp_path / path.name).write_text(path.read_text())
    registry = tmp_path / "CredentialRegistry.json"
    data = json.loads(registry.read_text())
    data["bytecode"] = data["bytecode"][:-2] + ("00" if data["bytecode"][-2:] != "00" else "01")
    registry.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    assert build.differences(tmp_path) == ["CredentialRegistry.json"]
