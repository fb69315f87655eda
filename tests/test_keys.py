"""Signing keys: keystores per principal, and the development keys refused outside development chains."""

from __future__ import annotations

import json

import pytest
from eth_account import Account

from service.chain.devchain import dev_accounts
from service.chain.keys import KeyConfigurationError, Signers, relayer_account
from service.errors import Forbidden

MAINNET, SEPOLIA, ANVIL = 1, 11155111, 31337


def test_the_relayer_defaults_to_the_first_development_account_on_a_development_chain() -> None:
    assert relayer_account(None, ANVIL).address == dev_accounts()[0].address


@pytest.mark.parametrize("chain_id", [MAINNET, SEPOLIA])
def test_a_development_relayer_key_is_refused_on_a_real_chain(chain_id: int) -> None:
    with pytest.raises(KeyConfigurationError, match="well-known development key: refused on chain"):
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
    with pytest.raises(Forbidden):
        Signers(SEPOLIA).for_address(dev.address)
    (tmp_path / f"{dev.address}.json").write_text(json.dumps(Account.encrypt(dev.key, "geheim")))
    with pytest.raises(KeyConfigurationError, match="well-known development key"):
        Signers(SEPOLIA, tmp_path, "geheim").for_address(dev.address)


def test_a_wrong_keystore_password_is_a_clear_error(tmp_path) -> None:
    partner = Account.create()
    (tmp_path / f"{partner.address}.json").write_text(json.dumps(Account.encrypt(partner.key, "geheim")))
    with pytest.raises(KeyConfigurationError, match="is HUB_KEYSTORE_PASSWORD right"):
        Signers(SEPOLIA, tmp_path, "fout").for_address(partner.address)
