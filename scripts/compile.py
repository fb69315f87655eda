"""Compile contracts/ into artifacts/ with a pinned compiler and pinned settings, offline.

    python scripts/compile.py          # write artifacts/
    python scripts/compile.py --check  # exit 1 if artifacts/ differs from a fresh build

The compiler is the npm package `solc` (pinned in package-lock.json), driven by py-solc-x through
scripts/solc.cjs, a solc-compatible command line around it. The artifacts are committed, so running
the service needs no compiler, and anyone can rebuild them and compare with deployed bytecode.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import solcx
from solcx.wrapper import get_solc_version

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT / "contracts"
ARTIFACTS = ROOT / "artifacts"
SOLC = ROOT / "scripts" / "solc.cjs"

SOLC_VERSION = "0.8.29"
SETTINGS: dict[str, Any] = {
    "evmVersion": "shanghai",  # ganache 7.9 runs up to shanghai; anvil runs it too
    "optimizer": {"enabled": True, "runs": 1000},
    "metadata": {"bytecodeHash": "ipfs"},
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "devdoc", "userdoc"]}},
}


class CompileError(RuntimeError):
    """The compiler refused the sources; the message holds its diagnostics."""


def source_units(root: Path = CONTRACTS) -> dict[str, dict[str, str]]:
    """Every .sol file below `root`, keyed by its path relative to the project (stable unit names)."""
    return {
        path.relative_to(ROOT).as_posix(): {"content": path.read_text(encoding="utf-8")}
        for path in sorted(root.rglob("*.sol"))
    }


def compile_units(
    sources: dict[str, dict[str, str]],
    settings: dict[str, Any] | None = None,
    solc_binary: Path = SOLC,
    expect_version: str = SOLC_VERSION,
) -> dict[str, Any]:
    """Run the compiler on standard-JSON `sources`; raise CompileError on any error diagnostic."""
    version = str(get_solc_version(solc_binary))
    if version != expect_version:
        raise CompileError(f"{solc_binary} is solc {version}, expected {expect_version}: run `npm ci`")
    try:
        output = solcx.compile_standard(
            {"language": "Solidity", "sources": sources, "settings": settings or SETTINGS},
            solc_binary=solc_binary,
            base_path=ROOT,
        )
    except solcx.exceptions.SolcError as exc:
        raise CompileError(str(exc)) from exc
    return output


def build(sources: dict[str, dict[str, str]] | None = None) -> dict[str, dict[str, Any]]:
    """Compile contracts/ and return one artifact per deployable contract, keyed by contract name."""
    sources = sources if sources is not None else source_units()
    output = compile_units(sources)
    artifacts: dict[str, dict[str, Any]] = {}
    for unit in sources:
        for name, contract in output["contracts"].get(unit, {}).items():
            bytecode = contract["evm"]["bytecode"]["object"]
            if not bytecode:  # interfaces and abstract contracts
                continue
            if name in artifacts:
                raise CompileError(f"two contracts are named {name}: {artifacts[name]['sourceName']} and {unit}")
            artifacts[name] = {
                "contractName": name,
                "sourceName": unit,
                "abi": contract["abi"],
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + contract["evm"]["deployedBytecode"]["object"],
                "devdoc": contract.get("devdoc", {}),
                "userdoc": contract.get("userdoc", {}),
            }
    return artifacts


def build_info(sources: dict[str, dict[str, str]]) -> dict[str, Any]:
    """What the build was made from: compiler, settings and a sha256 per source unit."""
    return {
        "compiler": {"name": "solc", "version": SOLC_VERSION},
        "settings": SETTINGS,
        "sources": {
            unit: hashlib.sha256(body["content"].encode()).hexdigest() for unit, body in sorted(sources.items())
        },
    }


def render(artifacts: dict[str, dict[str, Any]], info: dict[str, Any]) -> dict[str, str]:
    """The files of artifacts/ as text, keyed by file name."""
    files = {
        f"{name}.json": json.dumps(artifact, indent=2, sort_keys=True) + "\n" for name, artifact in artifacts.items()
    }
    files["build-info.json"] = json.dumps(info, indent=2, sort_keys=True) + "\n"
    return files


def fresh_files() -> dict[str, str]:
    sources = source_units()
    return render(build(sources), build_info(sources))


def differences(directory: Path = ARTIFACTS) -> list[str]:
    """File names whose committed content differs from a fresh build (missing and stale ones too)."""
    fresh = fresh_files()
    committed = {path.name: path.read_text(encoding="utf-8") for path in directory.glob("*.json")}
    return sorted(name for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name))


def compile_only(files: list[Path]) -> int:
    """Development aid: rebuild the artifacts of a few files while others are being edited."""
    sources = {
        path.resolve().relative_to(ROOT).as_posix(): {"content": path.read_text(encoding="utf-8")} for path in files
    }
    try:
        artifacts = build(sources)
    except CompileError as exc:
        print(f"compilation failed:\n{exc}", file=sys.stderr)
        return 2
    for name, artifact in artifacts.items():
        (ARTIFACTS / f"{name}.json").write_text(json.dumps(artifact, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print("wrote " + ", ".join(sorted(artifacts)) + " (run without --only before committing)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare artifacts/ with a fresh build, write nothing")
    parser.add_argument(
        "--only",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="compile just these files (and their imports) and update only their artifacts",
    )
    args = parser.parse_args(argv)
    if args.only:
        return compile_only(args.only)
    try:
        if args.check:
            stale = differences()
            if stale:
                print("artifacts/ differs from the sources: " + ", ".join(stale), file=sys.stderr)
                print("run: python scripts/compile.py", file=sys.stderr)
                return 1
            print("artifacts/ matches a fresh build of contracts/")
            return 0
        files = fresh_files()
    except CompileError as exc:
        print(f"compilation failed:\n{exc}", file=sys.stderr)
        return 2
    ARTIFACTS.mkdir(exist_ok=True)
    for stale in ARTIFACTS.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    for name, text in files.items():
        (ARTIFACTS / name).write_text(text, encoding="utf-8")
    print(
        f"wrote {len(files) - 1} artifacts to {ARTIFACTS.relative_to(ROOT)}/ "
        f"(solc {SOLC_VERSION}, {SETTINGS['evmVersion']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
