"""`hub keystore`: the encrypted keys of the partners and members the service signs for."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from eth_utils import to_checksum_address
from rich.console import Console

if TYPE_CHECKING:
    pass

from service.cli.app import UsageProblem, app, fail_unusable, load_settings, write_private

# ---------------------------------------------------------------- hub keystore (keys the service signs with)


keystore_app = typer.Typer(
    name="keystore",
    help="Encrypted keys of the partners and members the service signs for: HUB_KEYSTORE_DIR, unlocked with "
    "HUB_KEYSTORE_PASSWORD.",
    no_args_is_help=True,
)
app.add_typer(keystore_app)


@keystore_app.command("import")
def keystore_import(
    chain_id: Annotated[
        int,
        typer.Option(
            "--chain-id",
            envvar="HUB_CHAIN_ID",
            help="The chain the key will sign on: a key development tools publish is refused unless it is a local "
            "development chain (anvil 31337, ganache 1337).",
        ),
    ],
) -> None:
    """Read a private key (hex) from standard input or a hidden prompt and write it, encrypted with
    HUB_KEYSTORE_PASSWORD, to HUB_KEYSTORE_DIR/<address>.json (readable by its owner only)."""
    import json as json_module

    from eth_account import Account

    from service.chain.keys import KeyConfigurationError, account_from_key, refuse_dev_key

    console = Console(highlight=False)
    try:
        settings = load_settings()
        if settings.keystore_dir is None or settings.keystore_password is None:
            raise UsageProblem(
                "set HUB_KEYSTORE_DIR and HUB_KEYSTORE_PASSWORD: where the keystore goes and what encrypts it"
            )
        text = (
            typer.prompt("Private key (hex)", hide_input=True, err=True) if sys.stdin.isatty() else sys.stdin.readline()
        )
        account = account_from_key(text, "the input")
        refuse_dev_key(account, chain_id, "the key")
        directory = Path(settings.keystore_dir)
        path = directory / f"{account.address}.json"
        if path.exists() or (directory / f"{account.address.lower()}.json").exists():
            raise UsageProblem(f"there is a keystore for {account.address} already: {path}")
        keystore = Account.encrypt(account.key, settings.keystore_password.get_secret_value())
        directory.mkdir(parents=True, exist_ok=True)
        write_private(path, json_module.dumps(keystore))
    except (UsageProblem, KeyConfigurationError, OSError) as exc:
        fail_unusable(str(exc))
    console.print(f"Imported the key of {account.address} into {path}: the service signs for it.")


signing_key_app = typer.Typer(
    name="signing-key",
    help="A partner's Ed25519 credential signing key, beside its Ethereum keystore: HUB_KEYSTORE_DIR/signing/"
    "<address>.json, encrypted with HUB_KEYSTORE_PASSWORD. The board accredits it by its publicKeyMultibase.",
    no_args_is_help=True,
)
keystore_app.add_typer(signing_key_app)

ChainIdOption = Annotated[
    int,
    typer.Option(
        "--chain-id",
        envvar="HUB_CHAIN_ID",
        help="The chain the key will be accredited on: a development key is refused unless it is a local "
        "development chain (anvil 31337, ganache 1337).",
    ),
]
AddressOption = Annotated[str, typer.Option("--address", help="The partner's Ethereum account (its issuing address).")]


def _store_signing_key(address: str, chain_id: int, make: Any) -> None:
    """Write the key `make()` returns for `address` into the keystore and say what to propose to the board."""
    from eth_utils import is_hex_address

    from service.chain.keys import KeyConfigurationError
    from service.issuing.signing_keys import (
        public_multibase,
        refuse_dev_signing_key,
        signing_keystore_path,
        write_signing_keystore,
    )

    console = Console(highlight=False)
    try:
        settings = load_settings()
        if settings.keystore_dir is None or settings.keystore_password is None:
            raise UsageProblem(
                "set HUB_KEYSTORE_DIR and HUB_KEYSTORE_PASSWORD: where the key goes and what encrypts it"
            )
        if not is_hex_address(address):
            raise UsageProblem(f"--address: {address!r} is not an Ethereum address (0x followed by 40 hex digits)")
        address = to_checksum_address(address)
        path = signing_keystore_path(Path(settings.keystore_dir), address)
        if path.exists():
            raise UsageProblem(f"there is a signing key for {address} already: {path}")
        key = make()
        refuse_dev_signing_key(key, address, chain_id, "the signing key")
        write_signing_keystore(Path(settings.keystore_dir), address, key, settings.keystore_password.get_secret_value())
    except (UsageProblem, KeyConfigurationError, OSError) as exc:
        fail_unusable(str(exc))
    console.print(f"Stored the signing key of {address} in {path}.")
    console.print(f"publicKeyMultibase: {public_multibase(key)}")
    console.print(
        "The board accredits it by a decision: propose accredit-issuer (a new partner) or rotate-issuer-key "
        "with this public_key_multibase.",
        style="dim",
    )


@signing_key_app.command("create")
def signing_key_create(address: AddressOption, chain_id: ChainIdOption) -> None:
    """Make a new Ed25519 signing key for the partner `--address` and store it, encrypted."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    _store_signing_key(address, chain_id, Ed25519PrivateKey.generate)


@signing_key_app.command("import")
def signing_key_import(address: AddressOption, chain_id: ChainIdOption) -> None:
    """Read an Ed25519 private key (its 32 bytes in hex) from standard input or a hidden prompt and store it for
    the partner `--address`, encrypted."""

    def read() -> Any:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        text = (
            typer.prompt("Ed25519 private key (hex)", hide_input=True, err=True)
            if sys.stdin.isatty()
            else sys.stdin.readline()
        )
        try:
            raw = bytes.fromhex(text.strip().removeprefix("0x"))
            return Ed25519PrivateKey.from_private_bytes(raw)
        except ValueError:
            raise UsageProblem("the input is not an Ed25519 private key (32 bytes in hex)") from None

    _store_signing_key(address, chain_id, read)
