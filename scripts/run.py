"""Run the hub on a local chain: start the chain (or use --rpc), deploy once, serve the API until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvicorn  # noqa: E402
from web3 import Web3  # noqa: E402

from service.chain.deployment import ensure_deployed  # noqa: E402
from service.chain.devchain import ChainStartError, DevChain, dev_accounts, is_dev_chain_id, start_chain  # noqa: E402
from service.demo import DEPLOYER_ACCOUNT, dev_board  # noqa: E402
from service.main import create_app  # noqa: E402
from service.seed import CHAIR, SEEDED_ISSUERS, SeedError, describe, keys_table, seed_demo  # noqa: E402
from service.settings import Settings  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "data"
STATE = {"anvil": "anvil-state.json", "ganache": "ganache"}  # under the data directory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the IT Hub Hoogeveen credential service on a local chain.")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--chain", choices=["anvil", "ganache"], default="anvil", help="local chain to start")
    source.add_argument("--rpc", help="use this JSON-RPC URL instead of starting a chain")
    parser.add_argument("--chain-port", type=int, default=8545)
    parser.add_argument("--port", type=int, default=8000, help="port of the API")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where the chain state, the database, the demo keys and the logs are kept (default: "
        "data/); with it, the deployment record is kept there too, not in deployments/",
    )
    parser.add_argument(
        "--no-seed", action="store_true", help="do not seed the demo (accredited partners, programmes, API keys)"
    )
    args = parser.parse_args(argv)
    data = (args.data_dir or DATA).resolve()

    node: DevChain | None = None
    if args.rpc:
        w3 = Web3(Web3.HTTPProvider(args.rpc, request_kwargs={"timeout": 60}))
    else:
        try:
            node = start_chain(args.chain, port=args.chain_port, state=data / STATE[args.chain], log_dir=data / "logs")
        except ChainStartError as exc:
            print(f"could not start {args.chain}: {exc}", file=sys.stderr)
            return 1
        w3 = node.w3
        print(f"{args.chain} at {node.url} (chain id {node.chain_id}), state in {data / STATE[args.chain]}")
    try:
        if not is_dev_chain_id(w3.eth.chain_id):
            print(f"chain {w3.eth.chain_id} is not a local development chain: use scripts/deploy.py", file=sys.stderr)
            return 1
        public_url = f"http://127.0.0.1:{args.port}"
        overrides: dict[str, object] = {}
        if args.data_dir is not None:  # everything under the given directory
            overrides = {"database_url": f"sqlite:///{data / 'hub.db'}", "deployments_dir": data / "deployments"}
        settings = Settings(
            rpc_url=node.url if node else args.rpc, chain_id=w3.eth.chain_id, public_url=public_url, **overrides
        )
        deployment, fresh = ensure_deployed(
            w3, dev_accounts()[DEPLOYER_ACCOUNT], dev_board(), directory=settings.deployments_dir
        )
        print(
            ("deployed" if fresh else "reusing") + f": CredentialRegistry {deployment.registry.address}, "
            f"HubBoard {deployment.board.address}"
        )
        keys_file = data / "demo-keys.json"
        report = None
        if not args.no_seed:
            try:
                report = seed_demo(w3, deployment, settings.database_url, keys_file)
            except SeedError as exc:
                print(f"could not seed the demo: {exc}", file=sys.stderr)
                return 1
            for line in describe(report):
                print(f"demo:      {line}")
        print(f"API:       {public_url}/docs  (OpenAPI; health at {public_url}/health)")
        print(f"Pages:     {public_url}/   {public_url}/verify   {public_url}/board/register   {public_url}/partners")
        print(f"Consoles:  {public_url}/signin  (accounts for people; each command prints an invitation link once)")
        print("           .venv/bin/hub users create --role admin --email you@example.org --name 'Your name'")
        if report is not None:
            staff = [("partner", report.key("issuer", SEEDED_ISSUERS[0])), ("board", report.key("member", CHAIR))]
            for role, principal in staff:
                print(
                    f"           .venv/bin/hub users create --role {role} --email {role}@example.org "
                    f"--name '{principal.name}' --address {principal.address}"
                )
        if report is not None:
            print(f"Demo keys ({keys_file}; send as 'Authorization: Bearer <key>'):")
            for line in keys_table(report.keys):
                print(line)
            print(f"Demo story: .venv/bin/python scripts/demo.py --url {public_url} --keys {keys_file}")
        else:
            print("API keys:  .venv/bin/hub keys create --role admin --name 'Stichting IT Hub Hoogeveen'")
        print(f"Ctrl-C stops everything; the chain state and the database are kept in {data}.", flush=True)
        uvicorn.run(create_app(settings), host="127.0.0.1", port=args.port, log_level="warning")
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        if node is not None:
            node.stop()


if __name__ == "__main__":
    sys.exit(main())
