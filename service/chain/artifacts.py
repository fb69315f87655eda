"""The committed build of contracts/ (written by scripts/compile.py): ABI and bytecode per contract."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ARTIFACTS_DIR = Path(__file__).resolve().parents[2] / "artifacts"


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    sha256: str  # of the artifact file, recorded with every deployment

    def error_abis(self) -> list[dict[str, Any]]:
        return [item for item in self.abi if item["type"] == "error"]


@cache
def load_artifact(name: str, directory: Path = ARTIFACTS_DIR) -> Artifact:
    """The artifact of contract `name`; raises FileNotFoundError with the fix when it is missing."""
    path = directory / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"no artifact {path}: run `python scripts/compile.py`")
    raw = path.read_bytes()
    data = json.loads(raw)
    return Artifact(
        name=name,
        abi=data["abi"],
        bytecode=data["bytecode"],
        deployed_bytecode=data["deployedBytecode"],
        sha256=hashlib.sha256(raw).hexdigest(),
    )
