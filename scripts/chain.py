"""Start a local development chain from npm and wait until it answers.

    python scripts/chain.py anvil                 # state persisted in data/anvil-state.json
    python scripts/chain.py ganache --port 8546   # database in data/ganache/
    python scripts/chain.py anvil --fresh         # no persisted state

Runs until Ctrl-C; the state is written on the way out (and every second by anvil).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.chain.devchain import ChainStartError, start_chain  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "data"
STATE = {"anvil": DATA / "anvil-state.json", "ganache": DATA / "ganache"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Start a local development chain (anvil or ganache).")
    parser.add_argument("kind", choices=["anvil", "ganache"])
    parser.add_argument("--port", type=int, default=8545)
    parser.add_argument("--fresh", action="store_true", help="do not load or persist state")
    args = parser.parse_args(argv)
    state = None if args.fresh else STATE[args.kind]
    try:
        node = start_chain(args.kind, port=args.port, state=state, log_dir=DATA / "logs")
    except ChainStartError as exc:
        print(f"could not start {args.kind}: {exc}", file=sys.stderr)
        return 1
    print(f"{args.kind} answers at {node.url} (chain id {node.chain_id}); state: {state or 'not persisted'}")
    print("Ctrl-C stops it.")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    # Ctrl-C stops it even when started in the background, where a shell hands it SIGINT ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        while node.process.poll() is None:
            time.sleep(0.5)
        print(f"{args.kind} exited with code {node.process.returncode}; log: {node.log_path}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        node.stop()
        print(f"{args.kind} stopped")
        return 0


if __name__ == "__main__":
    sys.exit(main())
