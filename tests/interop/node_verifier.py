"""Run the independent verifier (tests/interop/verify.mjs: Digital Bazaar's @digitalbazaar/vc with the
eddsa-rdfc-2022 cryptosuite, from the npm registry) on credentials, and build the DID document of an issuer
the way the hub serves it (for the tests that run before or without the hub's /issuers/<slug>/did.json)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.credentials import integrity
from service.credentials.document import issuer_did
from service.issuing.identity import public_multibase
from service.issuing.signing_keys import dev_signing_key

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "interop" / "verify.mjs"
DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"


@dataclass(frozen=True)
class NodeResult:
    name: str
    verified: bool
    errors: tuple[str, ...]
    status: dict[str, Any] | None = None  # checkStatus's result, for a credential with a credentialStatus


def node_available() -> bool:
    return shutil.which("node") is not None and (ROOT / "node_modules" / "@digitalbazaar" / "vc").is_dir()


def did_document(did: str, address: str, chain_id: int, *public_keys: str) -> dict[str, Any]:
    """A DID document for `did` listing `public_keys` (publicKeyMultibase) as Multikey assertion methods and
    the Ethereum account as alsoKnownAs (did:pkh). By default the key is the development key of `address`."""
    keys = public_keys or (public_multibase(dev_signing_key(address)),)
    methods = [{"id": f"{did}#{key}", "type": "Multikey", "controller": did, "publicKeyMultibase": key} for key in keys]
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "alsoKnownAs": [issuer_did(chain_id, address)],
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


def run(
    tmp_path: Path,
    credentials: Mapping[str, Mapping[str, Any]],
    *,
    dids: Mapping[str, Mapping[str, Any]] | None = None,
    did_server: str | None = None,
    documents: Mapping[str, Mapping[str, Any]] | None = None,
    now: str | None = None,
) -> dict[str, NodeResult]:
    """Verify each credential (name -> document) with the independent verifier; its result by name."""
    config = {
        "contexts": {url: str(integrity.CONTEXTS_DIR / name) for url, name in integrity.BUNDLED_CONTEXTS.items()},
        "dids": dict(dids or {}),
        "didServer": did_server,
        "documents": dict(documents or {}),
        "now": now,
        "credentials": [{"name": name, "credential": document} for name, document in credentials.items()],
    }
    path = tmp_path / "interop-config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    completed = subprocess.run(
        ["node", str(SCRIPT), str(path)], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False
    )
    assert completed.returncode == 0, completed.stderr
    results = {}
    for line in completed.stdout.splitlines():
        item = json.loads(line)
        results[item["name"]] = NodeResult(item["name"], item["verified"], tuple(item["errors"]), item.get("status"))
    assert set(results) == set(credentials), completed.stdout + completed.stderr
    return results
