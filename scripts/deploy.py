"""Deploy CredentialRegistry and HubBoard to a JSON-RPC node and write deployments/<chainId>.json.

    python scripts/deploy.py --rpc http://127.0.0.1:8545                      # local chain: demo board
    DEPLOYER_PRIVATE_KEY=0x... python scripts/deploy.py --rpc URL \\
        --member 0xAbc...=TVM\\ verzekeringen --member 0xDef...=Unigarant

Running it again against the same chain reuses the deployment when it is live and built from the
committed artifacts. On any chain that is not a local development chain (anvil 31337, ganache 1337) it refuses
a deployer key or a board member whose private key development tools publish (service.chain.keys: anvil's,
hardhat's, ganache's --deterministic and truffle's mnemonics, the first 1000 accounts of each).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eth_utils import is_address  # noqa: E402
from web3 import Web3  # noqa: E402

from service.chain.deployment import DEPLOYMENTS_DIR, DeploymentError, ensure_deployed  # noqa: E402
from service.chain.devchain import dev_accounts, is_dev_chain_id  # noqa: E402
from service.chain.keys import KeyConfigurationError, account_from_key, refuse_dev_key, refuse_well_known  # noqa: E402
from service.demo import DEPLOYER_ACCOUNT, dev_board  # noqa: E402


def parse_member(text: str) -> tuple[str, str]:
    address, sep, name = text.partition("=")
    if not sep or not is_address(address) or not name.strip():
        raise argparse.ArgumentTypeError(f"expected ADDRESS=NAME, got {text!r}")
    return Web3.to_checksum_address(address), name.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Deploy the hub's contracts and write deployments/<chainId>.json.")
    parser.add_argument("--rpc", default=os.environ.get("RPC_URL", "http://127.0.0.1:8545"))
    parser.add_argument(
        "--member",
        type=parse_member,
        action="append",
        default=[],
        help="an initial board member as ADDRESS=NAME (repeat); default on a local chain: the demo board",
    )
    parser.add_argument("--out", type=Path, default=DEPLOYMENTS_DIR, help="directory for <chainId>.json")
    args = parser.parse_args(argv)

    w3 = Web3(Web3.HTTPProvider(args.rpc, request_kwargs={"timeout": 60}))
    try:
        chain_id = w3.eth.chain_id
    except Exception as exc:  # noqa: BLE001 - report any connection failure plainly
        print(f"no JSON-RPC node answers at {args.rpc}: {exc}", file=sys.stderr)
        return 1
    dev = is_dev_chain_id(chain_id)
    key = os.environ.get("DEPLOYER_PRIVATE_KEY")
    members = args.member or (dev_board() if dev else [])
    try:
        deployer = (
            account_from_key(key, "DEPLOYER_PRIVATE_KEY")
            if key
            else (dev_accounts()[DEPLOYER_ACCOUNT] if dev else None)
        )
        if deployer is None:
            print(f"chain {chain_id} is not a local development chain: set DEPLOYER_PRIVATE_KEY", file=sys.stderr)
            return 1
        # keys that development tools publish: anyone could deploy, or vote as a member, with them
        refuse_dev_key(deployer, chain_id, "the deployer key (DEPLOYER_PRIVATE_KEY)")
        for address, name in members:
            refuse_well_known(address, chain_id, f"board member {name}")
    except KeyConfigurationError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    if not members:
        print("give the initial board with --member ADDRESS=NAME", file=sys.stderr)
        return 1
    try:
        deployment, fresh = ensure_deployed(w3, deployer, members, directory=args.out)
    except DeploymentError as exc:
        print(f"deployment failed: {exc}", file=sys.stderr)
        return 1
    verb = "deployed" if fresh else "reused"
    print(
        f"{verb} on chain {chain_id}: CredentialRegistry {deployment.registry.address}, "
        f"HubBoard {deployment.board.address} -> {args.out / f'{chain_id}.json'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
