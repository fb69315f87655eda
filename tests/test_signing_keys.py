"""Partners' Ed25519 credential signing keys (service.issuing.signing_keys) and `hub keystore signing-key`:
encrypted beside the Ethereum keystores, deterministic development keys on local chains only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from eth_account import Account
from typer.testing import CliRunner

from service.chain.devchain import dev_accounts
from service.chain.keys import KeyConfigurationError
from service.cli import app
from service.credentials import multikey
from service.errors import Forbidden
from service.issuing.signing_keys import (
    SigningKeys,
    dev_signing_key,
    key_hash,
    public_multibase,
    signing_keystore_path,
    write_signing_keystore,
)

SEPOLIA, ANVIL, GANACHE = 11155111, 31337, 1337
PASSWORD = "geheim"


def raw_private(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def test_dev_keys_are_deterministic_per_address_and_hash_as_multikey() -> None:
    first, second = (account.address for account in dev_accounts()[:2])
    assert raw_private(dev_signing_key(first)) == raw_private(dev_signing_key(first.lower()))
    assert public_multibase(dev_signing_key(first)) != public_multibase(dev_signing_key(second))
    assert public_multibase(dev_signing_key(first)).startswith("z6Mk")
    assert key_hash(dev_signing_key(first)) == multikey.key_hash_of(public_multibase(dev_signing_key(first)))


@pytest.mark.parametrize("chain_id", [ANVIL, GANACHE])
def test_on_a_local_chain_a_partner_without_a_keystore_signs_with_its_dev_key(chain_id: int) -> None:
    address = dev_accounts()[3].address
    key = SigningKeys(chain_id).for_address(address)
    assert raw_private(key) == raw_private(dev_signing_key(address))


def test_elsewhere_a_partner_without_a_keystore_has_no_key(tmp_path: Path) -> None:
    address = Account.create().address
    with pytest.raises(Forbidden, match=f"no credential signing key for {address}"):
        SigningKeys(SEPOLIA, tmp_path, PASSWORD).for_address(address)
    with pytest.raises(Forbidden):
        SigningKeys(SEPOLIA).for_address(address)


def test_a_keystore_key_is_encrypted_and_unlocked_with_the_password(tmp_path: Path) -> None:
    address = Account.create().address
    key = Ed25519PrivateKey.generate()
    path = write_signing_keystore(tmp_path, address, key, PASSWORD)
    assert path == signing_keystore_path(tmp_path, address) == tmp_path / "signing" / f"{address}.json"
    assert path.stat().st_mode & 0o777 == 0o600
    content = json.loads(path.read_text())
    assert (content["address"], content["publicKeyMultibase"]) == (address, public_multibase(key))
    assert raw_private(key).hex() not in path.read_text()
    assert content["privateKey"].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    loaded = SigningKeys(SEPOLIA, tmp_path, PASSWORD).for_address(address.lower())
    assert raw_private(loaded) == raw_private(key)
    with pytest.raises(KeyConfigurationError, match="is HUB_KEYSTORE_PASSWORD right"):
        SigningKeys(SEPOLIA, tmp_path, "verkeerd").for_address(address)
    with pytest.raises(KeyConfigurationError, match="HUB_KEYSTORE_PASSWORD is not set"):
        SigningKeys(SEPOLIA, tmp_path, None).for_address(address)
    with pytest.raises(FileExistsError):
        write_signing_keystore(tmp_path, address, Ed25519PrivateKey.generate(), PASSWORD)
    # the keystore wins over the dev key on a local chain too
    assert raw_private(SigningKeys(ANVIL, tmp_path, PASSWORD).for_address(address)) == raw_private(key)


def test_a_keystore_moved_to_another_address_or_tampered_with_is_refused(tmp_path: Path) -> None:
    owner, other = Account.create().address, Account.create().address
    key = Ed25519PrivateKey.generate()
    path = write_signing_keystore(tmp_path, owner, key, PASSWORD)
    moved = signing_keystore_path(tmp_path, other)
    moved.write_text(path.read_text())
    with pytest.raises(KeyConfigurationError, match=f"is not {other}'s"):
        SigningKeys(SEPOLIA, tmp_path, PASSWORD).for_address(other)
    content = json.loads(path.read_text())
    content["publicKeyMultibase"] = public_multibase(Ed25519PrivateKey.generate())
    path.write_text(json.dumps(content))
    with pytest.raises(KeyConfigurationError, match="not that of the key it holds"):
        SigningKeys(SEPOLIA, tmp_path, PASSWORD).for_address(owner)


def test_a_dev_key_in_a_keystore_is_refused_outside_development(tmp_path: Path) -> None:
    address = Account.create().address
    write_signing_keystore(tmp_path, address, dev_signing_key(address), PASSWORD)
    with pytest.raises(KeyConfigurationError, match="development key that anyone can derive"):
        SigningKeys(SEPOLIA, tmp_path, PASSWORD).for_address(address)
    accepted = SigningKeys(ANVIL, tmp_path, PASSWORD).for_address(address)  # on a local chain it is its key
    assert raw_private(accepted) == raw_private(dev_signing_key(address))
    # a well-known account's dev key under another address is refused too
    other = Account.create().address
    write_signing_keystore(tmp_path, other, dev_signing_key(dev_accounts()[0].address), PASSWORD)
    with pytest.raises(KeyConfigurationError, match="development key that anyone can derive"):
        SigningKeys(SEPOLIA, tmp_path, PASSWORD).for_address(other)


# ---------------------------------------------------------------- hub keystore signing-key


def _cli(runner: CliRunner, keystores: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(
        app,
        ["keystore", "signing-key", *args],
        input=stdin,
        env={"HUB_KEYSTORE_DIR": str(keystores), "HUB_KEYSTORE_PASSWORD": PASSWORD, "COLUMNS": "200"},
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, " ".join((result.stdout + result.stderr).split())


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no .env of the machine
    return CliRunner(env={"HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}"})


def test_create_stores_a_new_key_and_prints_what_to_propose(runner: CliRunner, tmp_path: Path) -> None:
    keystores = tmp_path / "keystores"
    address = Account.create().address
    code, text = _cli(runner, keystores, "create", "--address", address.lower(), "--chain-id", str(SEPOLIA))
    assert code == 0, text
    key = SigningKeys(SEPOLIA, keystores, PASSWORD).for_address(address)
    assert f"Stored the signing key of {address} in {keystores / 'signing' / address}.json" in text
    assert f"publicKeyMultibase: {public_multibase(key)}" in text
    code, text = _cli(runner, keystores, "create", "--address", address, "--chain-id", str(SEPOLIA))
    assert code == 2 and f"there is a signing key for {address} already" in text
    code, text = _cli(runner, keystores, "create", "--address", "0x1234", "--chain-id", str(SEPOLIA))
    assert code == 2 and "--address: '0x1234' is not an Ethereum address" in text


def test_import_refuses_a_dev_key_for_a_real_chain_and_a_malformed_key(runner: CliRunner, tmp_path: Path) -> None:
    keystores = tmp_path / "keystores"
    address = dev_accounts()[7].address
    dev = raw_private(dev_signing_key(address)).hex()
    code, text = _cli(runner, keystores, "import", "--address", address, "--chain-id", str(SEPOLIA), stdin=dev + "\n")
    assert code == 2
    assert "development key that anyone can derive" in text and "Refused on chain 11155111" in text
    assert dev not in text
    assert not signing_keystore_path(keystores, address).exists()
    code, text = _cli(runner, keystores, "import", "--address", address, "--chain-id", str(ANVIL), stdin=dev + "\n")
    assert code == 0, text
    own = Ed25519PrivateKey.generate()
    partner = Account.create().address
    code, text = _cli(
        runner, keystores, "import", "--address", partner, "--chain-id", str(SEPOLIA), stdin="0xnot-a-key\n"
    )
    assert code == 2 and "the input is not an Ed25519 private key (32 bytes in hex)" in text
    stdin = raw_private(own).hex() + "\n"
    code, text = _cli(runner, keystores, "import", "--address", partner, "--chain-id", str(SEPOLIA), stdin=stdin)
    assert code == 0, text
    assert raw_private(SigningKeys(SEPOLIA, keystores, PASSWORD).for_address(partner)) == raw_private(own)


def test_signing_key_commands_need_the_keystore_settings(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["keystore", "signing-key", "create", "--address", Account.create().address, "--chain-id", "1"]
    )
    assert result.exit_code == 2
    assert "set HUB_KEYSTORE_DIR and HUB_KEYSTORE_PASSWORD" in " ".join((result.stdout + result.stderr).split())
