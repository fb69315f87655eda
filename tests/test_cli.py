"""The `hub` command line: through typer's CliRunner (offline and on both nodes), and once as a real
process against a real anvil node."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from typer.testing import CliRunner

from service.chain.devchain import DevChain
from service.chain.registry import RegistryClient
from service.cli import app
from service.credentials import MAX_CREDENTIAL_BYTES
from service.credentials.canonical import from_hex32
from tests.credentials.factory import issue
from tests.credentials.fixtures import deployed_registry, issue_on_chain, registry

__all__ = ["deployed_registry", "registry"]  # chain fixtures used below

ROOT = Path(__file__).resolve().parents[1]
# Keep the machine's own configuration out of the tests.
runner = CliRunner(env={"HUB_RPC_URL": None, "HUB_REGISTRY_ADDRESS": None, "HUB_CHAIN_ID": None, "COLUMNS": "160"})


def write(tmp_path: Path, document: dict[str, Any], name: str = "credential.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def offline_credential() -> dict[str, Any]:
    return issue(2).credentials[0]


# ---------------------------------------------------------------- offline


def test_without_a_node_the_table_shows_what_was_not_checked(
    tmp_path: Path, offline_credential: dict[str, Any]
) -> None:
    result = runner.invoke(app, ["verify", write(tmp_path, offline_credential)])
    assert result.exit_code == 1, result.output
    assert "NOT VALID" in result.output
    assert "Integrity" in result.output and "not run" in result.output
    assert "Make IT Work: Data Analytics" in result.output
    assert "Graduate 0 de Vries" in result.output
    assert "pass --rpc URL" in result.output
    # the issuer's signature is checked offline, and the key that signed is named
    (signature,) = [item for item in offline_credential["proof"] if item["type"] == "DataIntegrityProof"]
    key = signature["verificationMethod"].partition("#")[2]
    flat = result.output.replace("\n", "").replace("│", "").replace(" ", "")
    assert "Signedbytheissuer'skey" in flat and f"Signedby{key}" in flat


def test_json_output(tmp_path: Path, offline_credential: dict[str, Any]) -> None:
    result = runner.invoke(app, ["verify", write(tmp_path, offline_credential), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["valid"] is False
    statuses = {item["name"]: item["status"] for item in report["checks"]}
    assert statuses["integrity"] == "passed" and statuses["anchored"] == "not_run"


def test_standard_input(offline_credential: dict[str, Any]) -> None:
    result = runner.invoke(app, ["verify", "-", "--json"], input=json.dumps(offline_credential))
    assert json.loads(result.output)["checks"][1]["status"] == "passed"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"type": ["VerifiableCredential"]}', "is required"),
        ('{"padding": "' + "x" * (MAX_CREDENTIAL_BYTES + 10) + '"}', f"limit of {MAX_CREDENTIAL_BYTES} bytes"),
    ],
)
def test_unusable_input_exits_2(data: str, message: str) -> None:
    result = runner.invoke(app, ["verify", "-"], input=data)
    assert result.exit_code == 2, result.output
    assert "UNUSABLE INPUT" in result.output
    assert message in result.output.replace("\n", " ").replace("│", " ").replace("  ", " ") or message in result.output
    result = runner.invoke(app, ["verify", "-", "--json"], input=data)
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert report["checks"][0]["status"] == "failed" and message in report["checks"][0]["reason"]


def test_a_malformed_credential_with_a_node_but_no_registry_is_unusable() -> None:
    result = runner.invoke(app, ["verify", "-", "--rpc", "http://127.0.0.1:9"], input='{"proof": 1}')
    assert result.exit_code == 2 and "UNUSABLE INPUT" in result.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["verify", "/nonexistent/credential.json"], "cannot read"),
        (["verify", "-", "--registry", "0x5FbDB2315678afecb367f032d93F642f64180aa3"], "need --rpc"),
        (["verify", "-", "--at", "tomorrow"], "date-time"),
        (["verify", "-", "--rpc", "http://127.0.0.1:9"], "does not answer"),
    ],
)
def test_unusable_options_exit_2(arguments: list[str], message: str, offline_credential: dict[str, Any]) -> None:
    result = runner.invoke(app, arguments, input=json.dumps(offline_credential))
    assert result.exit_code == 2
    assert message in result.output
    result = runner.invoke(app, [*arguments, "--json"], input=json.dumps(offline_credential))
    assert result.exit_code == 2
    assert json.loads(result.output)["valid"] is False


def test_present_keeps_only_the_chosen_disclosures(tmp_path: Path, offline_credential: dict[str, Any]) -> None:
    source = write(tmp_path, offline_credential)
    out = tmp_path / "shared.json"
    result = runner.invoke(app, ["present", source, "--disclose", "name", "-o", str(out)])
    assert result.exit_code == 0, result.output
    shared = json.loads(out.read_text())
    assert [item[1] for item in shared["proof"][0]["disclosures"]] == ["name"]
    assert {k: v for k, v in shared.items() if k != "proof"} == {
        k: v for k, v in offline_credential.items() if k != "proof"
    }
    result = runner.invoke(app, ["present", source])
    assert json.loads(result.output)["proof"][0]["disclosures"] == []
    result = runner.invoke(app, ["present", source, "-d", "email"])
    assert result.exit_code == 2 and "no disclosure for email" in result.output


# ---------------------------------------------------------------- against a node (anvil and ganache)


def test_a_valid_credential_exits_0(
    tmp_path: Path, chain: DevChain, registry: RegistryClient, issuer: LocalAccount
) -> None:
    path = write(tmp_path, issue_on_chain(registry, issuer, 2).credentials[1])
    options = ["--rpc", chain.url, "--registry", registry.address]
    result = runner.invoke(app, ["verify", path, *options])
    assert result.exit_code == 0, result.output
    assert "VALID" in result.output and "NOT VALID" not in result.output
    result = runner.invoke(
        app, ["verify", path, *options, "--json", "--chain-id", str(chain.chain_id), "--email", "graduate1@example.org"]
    )
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["valid"] is True and report["checks"][-1]["name"] == "recipient"
    result = runner.invoke(app, ["verify", path, *options], env={"HUB_CHAIN_ID": "1"})
    assert result.exit_code == 2 and "not --chain-id 1" in result.output
    result = runner.invoke(
        app, ["verify", path], env={"HUB_RPC_URL": chain.url, "HUB_REGISTRY_ADDRESS": registry.address}
    )
    assert result.exit_code == 0


def test_present_shares_nothing_personal_by_default_and_the_identifier_on_request(
    tmp_path: Path, chain: DevChain, registry: RegistryClient, issuer: LocalAccount
) -> None:
    full = issue_on_chain(registry, issuer, 2).credentials[1]
    source = write(tmp_path, full)
    options = ["--rpc", chain.url, "--registry", registry.address]
    default = runner.invoke(app, ["present", source, "-o", str(tmp_path / "default.json")])
    assert default.exit_code == 0, default.output
    text = (tmp_path / "default.json").read_text()
    identity = next(value[0] for _salt, name, value in full["proof"][0]["disclosures"] if name == "identifier")
    for personal in ("graduate1@example.org", "Graduate 1 de Vries", identity["identityHash"], identity["salt"]):
        assert personal not in text
    result = runner.invoke(app, ["verify", str(tmp_path / "default.json"), *options])
    assert result.exit_code == 0, result.output  # valid, and says nothing about its holder
    result = runner.invoke(
        app, ["verify", str(tmp_path / "default.json"), *options, "--json", "--email", "graduate1@example.org"]
    )
    assert result.exit_code == 1
    recipient = json.loads(result.output)["checks"][-1]
    assert recipient["name"] == "recipient" and recipient["status"] == "not_run"
    assert "does not disclose the recipient identifier" in recipient["reason"]
    shared = runner.invoke(app, ["present", source, "-d", "identifier", "-o", str(tmp_path / "id.json")])
    assert shared.exit_code == 0, shared.output
    result = runner.invoke(app, ["verify", str(tmp_path / "id.json"), *options, "--email", "Graduate1@example.org"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["verify", str(tmp_path / "id.json"), *options, "--email", "graduate0@example.org"])
    assert result.exit_code == 1


def test_a_revoked_credential_exits_1(
    tmp_path: Path, chain: DevChain, registry: RegistryClient, issuer: LocalAccount
) -> None:
    document = issue_on_chain(registry, issuer, 2).credentials[0]
    proof = document["proof"][0]
    registry.revoke(
        from_hex32(proof["merkleRoot"]),
        from_hex32(proof["credentialDigest"]),
        [from_hex32(node) for node in proof["merklePath"]],
        1,
        sender=issuer,
    )
    result = runner.invoke(
        app, ["verify", write(tmp_path, document), "--rpc", chain.url, "--registry", registry.address]
    )
    assert result.exit_code == 1
    assert "fraud or misconduct" in result.output


def test_without_registry_the_documents_is_asked_but_not_relied_on(
    tmp_path: Path, chain: DevChain, registry: RegistryClient, issuer: LocalAccount
) -> None:
    path = write(tmp_path, issue_on_chain(registry, issuer, 1).credentials[0])
    result = runner.invoke(app, ["verify", path, "--rpc", chain.url, "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    checks = {item["name"]: item for item in report["checks"]}
    assert checks["network"]["status"] == "not_run" and "no registry configured" in checks["network"]["reason"]
    assert checks["anchored"]["status"] == "passed"
    result = runner.invoke(app, ["verify", path, "--rpc", chain.url, "--trust-document", "--json"])
    assert result.exit_code == 0
    assert "taken from the document" in result.output


# ---------------------------------------------------------------- a real process, a real node


def test_the_module_runs_as_a_program_against_a_real_node(
    tmp_path: Path, chain: DevChain, registry: RegistryClient, issuer: LocalAccount
) -> None:
    issued = issue_on_chain(registry, issuer, 3)
    path = write(tmp_path, issued.credentials[2])
    command = [sys.executable, "-m", "service.cli", "verify", path, "--rpc", chain.url, "--registry", registry.address]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "COLUMNS": "120"}
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VALID" in done.stdout and "Hanzehogeschool Groningen" in done.stdout
    done = subprocess.run(
        [*command[:4], "-", *command[5:], "--json"],
        input=Path(path).read_text(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0 and json.loads(done.stdout)["valid"] is True
    tampered = json.loads(Path(path).read_text())
    tampered["credentialSubject"]["achievement"]["creditsAvailable"] = 30
    done = subprocess.run(
        [*command[:4], "-", *command[5:]],
        input=json.dumps(tampered),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1 and "changed after issuing" in done.stdout
