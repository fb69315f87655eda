"""Signing keys: keystores per principal, and the development keys refused outside development chains."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import ValidationError

from service.chain.deployment import ensure_deployed
from service.chain.devchain import DEV_MNEMONIC, dev_accounts
from service.chain.keys import (
    WELL_KNOWN_INDEXES,
    WELL_KNOWN_MNEMONICS,
    KeyConfigurationError,
    Signers,
    WellKnownAccount,
    derive_addresses,
    relayer_account,
    well_known_account,
)
from service.errors import Forbidden
from service.hub import Hub, StartupError
from service.settings import Settings
from tests.public_chain import GANACHE_DETERMINISTIC, PublicLikeChain, public_like_chain

MAINNET, SEPOLIA, ANVIL, GANACHE = 1, 11155111, 31337, 1337
ROOT = Path(__file__).resolve().parent.parent


def test_the_relayer_defaults_to_the_first_development_account_on_a_development_chain() -> None:
    assert relayer_account(None, ANVIL).address == dev_accounts()[0].address


@pytest.mark.parametrize("chain_id", [MAINNET, SEPOLIA])
def test_a_development_relayer_key_is_refused_on_a_real_chain(chain_id: int) -> None:
    with pytest.raises(
        KeyConfigurationError, match="is a well-known development account, account 0 .* Refused on chain"
    ):
        relayer_account(dev_accounts()[0].key.hex(), chain_id)


def test_a_real_chain_needs_a_relayer_key() -> None:
    with pytest.raises(KeyConfigurationError, match="set HUB_RELAYER_PRIVATE_KEY"):
        relayer_account(None, SEPOLIA)
    own = Account.create()
    assert relayer_account(own.key.hex(), SEPOLIA).address == own.address


def test_keystores_sign_for_their_principal(tmp_path) -> None:
    partner = Account.create()
    (tmp_path / f"{partner.address}.json").write_text(json.dumps(Account.encrypt(partner.key, "geheim")))
    signers = Signers(SEPOLIA, tmp_path, "geheim")
    assert signers.for_address(partner.address.lower()).address == partner.address


def test_a_principal_without_a_keystore_must_sign_client_side(tmp_path) -> None:
    with pytest.raises(Forbidden, match="no keystore for it") as refused:
        Signers(SEPOLIA, tmp_path, "geheim").for_address(Account.create().address)
    assert str(tmp_path) not in refused.value.detail  # no server path in what a client reads
    with pytest.raises(Forbidden, match="sign the request client-side"):
        Signers(SEPOLIA).for_address(Account.create().address)


def test_development_accounts_are_not_signers_on_a_real_chain(tmp_path) -> None:
    dev = dev_accounts()[11]
    assert Signers(ANVIL).for_address(dev.address).address == dev.address
    with pytest.raises(Forbidden, match="well-known development account"):
        Signers(SEPOLIA).for_address(dev.address)
    (tmp_path / f"{dev.address}.json").write_text(json.dumps(Account.encrypt(dev.key, "geheim")))
    with pytest.raises(KeyConfigurationError, match="well-known development account"):
        Signers(SEPOLIA, tmp_path, "geheim")


def test_a_wrong_keystore_password_is_a_clear_error(tmp_path) -> None:
    partner = Account.create()
    (tmp_path / f"{partner.address}.json").write_text(json.dumps(Account.encrypt(partner.key, "geheim")))
    with pytest.raises(KeyConfigurationError, match="is HUB_KEYSTORE_PASSWORD right"):
        Signers(SEPOLIA, tmp_path, "fout").for_address(partner.address)


# ---------------------------------------------------------------- every published development key, everywhere

WELL_KNOWN_SAMPLE = [
    (source, mnemonic, index)
    for source, mnemonic in WELL_KNOWN_MNEMONICS
    for index in (0, 1, 19, 20, 21, 57, 500, WELL_KNOWN_INDEXES - 1)
]


def _published_key(mnemonic: str, index: int) -> LocalAccount:
    return Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{index}")


@pytest.mark.parametrize(
    ("source", "mnemonic", "index"),
    WELL_KNOWN_SAMPLE,
    ids=[f"{source.split()[0]}-{index}" for source, _, index in WELL_KNOWN_SAMPLE],
)
def test_the_fast_derivation_gives_what_eth_account_derives(source: str, mnemonic: str, index: int) -> None:
    account = _published_key(mnemonic, index)  # the slow, general BIP-32 path of eth-account
    known = well_known_account(account.address.lower())
    assert known == WellKnownAccount(account.address, source, index)


def test_the_published_lists_are_the_tools_own() -> None:
    assert well_known_account("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266") == WellKnownAccount(
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "anvil's and hardhat's default mnemonic", 0
    )
    assert well_known_account("0x90F8bf6A479f320ead074411a4B0e7944Ea8c9C1") == WellKnownAccount(
        "0x90F8bf6A479f320ead074411a4B0e7944Ea8c9C1", "ganache's --deterministic mnemonic", 0
    )
    assert len(derive_addresses(GANACHE_DETERMINISTIC, 3)) == 3
    assert well_known_account(Account.create().address) is None
    beyond = _published_key(GANACHE_DETERMINISTIC, WELL_KNOWN_INDEXES)
    assert well_known_account(beyond.address) is None  # the range is what the module says


@pytest.mark.parametrize(
    ("mnemonic", "index", "source"),
    [
        (DEV_MNEMONIC, 20, "anvil's and hardhat's default mnemonic"),
        (DEV_MNEMONIC, 999, "anvil's and hardhat's default mnemonic"),
        (GANACHE_DETERMINISTIC, 0, "ganache's --deterministic mnemonic"),
        (GANACHE_DETERMINISTIC, 9, "ganache's --deterministic mnemonic"),
        ("candy maple cake sugar pudding cream honey rich smooth crumble sweet treat", 3, "truffle develop's mnemonic"),
    ],
)
def test_a_published_relayer_key_is_refused_off_development_chains_and_named(
    mnemonic: str, index: int, source: str
) -> None:
    published = _published_key(mnemonic, index)
    for chain_id in (MAINNET, SEPOLIA):
        with pytest.raises(KeyConfigurationError) as refused:
            relayer_account(published.key.hex(), chain_id)
        message = str(refused.value)
        assert f"{published.address} is a well-known development account, account {index} " in message
        assert source in message and f"Refused on chain {chain_id}" in message
        assert published.key.hex().removeprefix("0x") not in message and mnemonic not in message
    for chain_id in (ANVIL, GANACHE):  # where they belong
        assert relayer_account(published.key.hex(), chain_id).address == published.address


def test_a_relayer_setting_that_is_not_a_key_shows_nothing_of_it() -> None:
    with pytest.raises(KeyConfigurationError) as refused:
        relayer_account("0xdeadbeef-not-a-key", SEPOLIA)
    assert str(refused.value) == "HUB_RELAYER_PRIVATE_KEY is not a private key (32 bytes in hex)"
    assert refused.value.__cause__ is None and refused.value.__context__ is None


def test_settings_with_a_real_chain_id_refuse_a_published_relayer_key(monkeypatch: pytest.MonkeyPatch) -> None:
    published = _published_key(GANACHE_DETERMINISTIC, 0)
    monkeypatch.setenv("HUB_RELAYER_PRIVATE_KEY", published.key.hex())
    monkeypatch.setenv("HUB_CHAIN_ID", str(SEPOLIA))
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None)
    assert f"{published.address} is a well-known development account" in str(refused.value)
    assert published.key.hex().removeprefix("0x") not in str(refused.value)
    monkeypatch.setenv("HUB_CHAIN_ID", str(ANVIL))
    assert Settings(_env_file=None).chain_id == ANVIL


def _keystore(directory: Path, account: LocalAccount, name: str | None = None) -> Path:
    path = directory / f"{name or account.address}.json"
    path.write_text(json.dumps(Account.encrypt(account.key, "geheim", iterations=2)))
    return path


@pytest.mark.parametrize("name", [None, "partner-a"], ids=["named-by-address", "named-otherwise"])
def test_a_keystore_holding_a_published_key_stops_the_signers_on_a_real_chain(tmp_path: Path, name: str | None) -> None:
    published = _published_key(DEV_MNEMONIC, 25)  # anvil's account 25: beyond the 20 it funds by default
    _keystore(tmp_path, Account.create())
    path = _keystore(tmp_path, published, name)
    with pytest.raises(
        KeyConfigurationError,
        match=f"the keystore {path.name}: {published.address} is a well-known development account, account 25 ",
    ):
        Signers(SEPOLIA, tmp_path, "geheim")
    on_anvil = Signers(ANVIL, tmp_path, "geheim")  # a development chain: no refusal
    if name is None:
        assert on_anvil.for_address(published.address).address == published.address


def test_a_published_account_gets_no_signature_on_a_real_chain(tmp_path: Path) -> None:
    published = _published_key(GANACHE_DETERMINISTIC, 4)
    for signers in (Signers(SEPOLIA), Signers(SEPOLIA, tmp_path, "geheim")):
        with pytest.raises(
            Forbidden, match=f"the signing account: {published.address} is a well-known development account, account 4 "
        ) as refused:
            signers.for_address(published.address)
        assert str(tmp_path) not in refused.value.detail


def test_a_keystore_under_another_accounts_name_is_refused(tmp_path: Path) -> None:
    partner, other = Account.create(), Account.create()
    _keystore(tmp_path, other, partner.address)
    with pytest.raises(KeyConfigurationError, match=f"the keystore for {partner.address} holds the key of"):
        Signers(SEPOLIA, tmp_path, "geheim").for_address(partner.address)


# ---------------------------------------------------------------- the service on anvil saying it is chain 11155111


@pytest.fixture(scope="module")
def deployed_sepolia_like(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PublicLikeChain, Path]]:
    """anvil (30 funded development accounts) as chain 11155111, the hub deployed by a key and board of its own."""
    with public_like_chain("anvil", tmp_path_factory.mktemp("anvil-sepolia-keys")) as node:
        directory = tmp_path_factory.mktemp("deployments-sepolia")
        board = [(Account.create().address, f"Partner {number}") for number in range(6)]
        ensure_deployed(node.w3, node.fund(), board, directory=directory)
        yield node, directory


def _hub_settings(node: PublicLikeChain, deployments: Path, tmp_path: Path, relayer: str, **more: Any) -> Settings:
    return Settings(
        rpc_url=node.url,
        deployments_dir=deployments,
        database_url=f"sqlite:///{tmp_path / 'hub.db'}",
        relayer_private_key=relayer,
        _env_file=None,
        **more,
    )


def test_the_service_does_not_start_with_a_published_relayer_key_on_a_real_chain(
    deployed_sepolia_like: tuple[PublicLikeChain, Path], tmp_path: Path
) -> None:
    node, deployments = deployed_sepolia_like
    published = _published_key(DEV_MNEMONIC, 20)  # funded there: only the refusal stops it
    with pytest.raises(
        StartupError,
        match=f"the relayer key \\(HUB_RELAYER_PRIVATE_KEY\\): {published.address} "
        "is a well-known development account, account 20 .* chain 11155111",
    ):
        Hub.start(_hub_settings(node, deployments, tmp_path, published.key.hex()))
    own = node.fund()
    hub = Hub.start(_hub_settings(node, deployments, tmp_path, own.key.hex()))  # the same, with a key of its own
    try:
        assert hub.relayer.address == own.address and hub.chain_id == SEPOLIA
    finally:
        hub.close()


def test_the_service_does_not_start_with_a_published_key_in_its_keystores_on_a_real_chain(
    deployed_sepolia_like: tuple[PublicLikeChain, Path], tmp_path: Path
) -> None:
    node, deployments = deployed_sepolia_like
    keystores = tmp_path / "keystores"
    keystores.mkdir()
    published = _published_key(GANACHE_DETERMINISTIC, 1)
    _keystore(keystores, published)
    settings = _hub_settings(
        node, deployments, tmp_path, node.fund().key.hex(), keystore_dir=keystores, keystore_password="geheim"
    )
    with pytest.raises(
        StartupError,
        match=f"the keystore {published.address}.json: {published.address} is a "
        "well-known development account, account 1 .* of ganache's",
    ):
        Hub.start(settings)


def test_hub_worker_refuses_a_published_relayer_key_on_a_real_chain(
    deployed_sepolia_like: tuple[PublicLikeChain, Path], tmp_path: Path
) -> None:
    node, deployments = deployed_sepolia_like
    published = _published_key(DEV_MNEMONIC, 21)
    environment = {
        **os.environ,
        "HUB_RPC_URL": node.url,
        "HUB_DEPLOYMENTS_DIR": str(deployments),
        "HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}",
        "HUB_RELAYER_PRIVATE_KEY": published.key.hex(),
        "COLUMNS": "400",
        "PYTHONPATH": str(ROOT),
    }  # this checkout's code, whatever the venv points at
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "worker"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        f"The worker cannot start: the relayer key (HUB_RELAYER_PRIVATE_KEY): {published.address} is a "
        "well-known development account, account 21 " in " ".join(result.stderr.split())
    )
    assert published.key.hex().removeprefix("0x") not in result.stdout + result.stderr
    # with HUB_CHAIN_ID the settings refuse it before the chain is asked
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "worker"],
        cwd=tmp_path,
        timeout=60,
        env={**environment, "HUB_CHAIN_ID": str(SEPOLIA)},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "is a well-known development account, account 21 " in result.stderr
    assert published.key.hex().removeprefix("0x") not in result.stdout + result.stderr
