"""Mutation testing of the core logic: change one line at a time, run the tests that should notice, count.

    .venv/bin/python scripts/mutate.py                       # every mutant; writes bench/results/mutation.md
    .venv/bin/python scripts/mutate.py --only auth --only anchoring   # mutants whose name contains a word
    .venv/bin/python scripts/mutate.py --list                # the mutants, nothing run

Each mutant is (file, a fragment that occurs exactly once in it, what replaces it, the tests to run).
The runner copies the checkout (tracked and new files; node_modules linked) into a temporary directory once,
and for each mutant writes the changed file there, recompiles the contracts when a .sol file changed, runs its
tests with `pytest -x` on anvil only (CHAINS=anvil), and writes the original back (and the artifacts) whatever
happens. A mutant is *killed* when its tests fail, *survived* when they pass. The checkout itself is never
touched. Before the mutants, each distinct test selection runs once unchanged: it must pass, or the kills
would mean nothing (--no-baseline skips that).

A survivor is a test to write (or, rarely, a mutant that changes nothing observable: say so in MUTANTS).
tests/test_mutate.py checks (fast, in the normal suite) that every fragment still occurs exactly once, so the
list follows the code; this runner is not part of the suite (minutes, not seconds).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "mutation.md"
TIMEOUT = 900  # seconds per test run: a mutant that hangs its tests counts as killed (timeout)


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # relative to the checkout
    original: str  # a fragment occurring exactly once in `path` (a line or part of one, rarely a few lines)
    mutated: str  # what replaces it
    tests: tuple[str, ...]  # pytest arguments: files, node ids, -k expressions
    why: str  # the behaviour the mutant breaks

    def apply(self, text: str) -> str:
        """`text` with the mutation. :raises ValueError: the fragment does not occur exactly once."""
        if text.count(self.original) != 1:
            raise ValueError(
                f"{self.name}: {self.original!r} occurs {text.count(self.original)} times in "
                f"{self.path}, not exactly once"
            )
        return text.replace(self.original, self.mutated)

    def line(self, text: str) -> int:
        """The line the fragment starts on."""
        return text[: text.index(self.original)].count("\n") + 1 + (1 if self.original.startswith("\n") else 0)


BOARD = "contracts/HubBoard.sol"
REGISTRY = "contracts/CredentialRegistry.sol"
BOARD_TESTS = ("tests/contracts/test_board.py",)

MUTANTS: tuple[Mutant, ...] = (
    # ---- HubBoard: the outcome rules
    Mutant(
        "board-quorum-boundary",
        BOARD,
        "participation * _BPS >= ruled.quorumBps",
        "participation * _BPS > ruled.quorumBps",
        BOARD_TESTS,
        "a board of six with three taking part is exactly the 50% quorum",
    ),
    Mutant(
        "board-execution-window",
        BOARD,
        "return block.timestamp <= uint256(record.voteEnd) + ruled.executionPeriod",
        "return block.timestamp < uint256(record.voteEnd) + ruled.executionPeriod",
        BOARD_TESTS,
        "a decision may be executed up to and including the last second of its execution period",
    ),
    Mutant(
        "board-threshold-strict",
        BOARD,
        "return forVotes * _BPS > thresholdBps * (forVotes + againstVotes);",
        "return forVotes * _BPS >= thresholdBps * (forVotes + againstVotes);",
        BOARD_TESTS,
        "a tie (For exactly at the threshold) does not pass",
    ),
    Mutant(
        "board-voting-closes-after-end",
        BOARD,
        "if (read.executed || block.timestamp > read.voteEnd) {",
        "if (read.executed || block.timestamp > read.voteEnd + 1 days) {",
        BOARD_TESTS,
        "no vote is taken after the voting period",
    ),
    Mutant(
        "board-signature-deadline",
        BOARD,
        "if (block.timestamp > deadline) revert BoardExpiredSignature(deadline);",
        "if (block.timestamp > deadline + 365 days) revert BoardExpiredSignature(deadline);",
        BOARD_TESTS,
        "a member's signature after its deadline is refused",
    ),
    # ---- CredentialRegistry
    Mutant(
        "registry-key-at-end-of-second",
        REGISTRY,
        "if (keys[middle].since > timestamp) {",
        "if (keys[middle].since >= timestamp) {",
        (
            "tests/contracts/test_registry.py::test_two_key_changes_in_one_second_leave_the_second_and_a_batch_of_that_second_answers_it",
        ),
        "a batch anchored in the second of a key rotation answers the new key (the key at the end of that second)",
    ),
    Mutant(
        "registry-rotation-by-governor-only",
        REGISTRY,
        "function rotateIssuerKey(address account, bytes32 keyHash) external onlyGovernor {",
        "function rotateIssuerKey(address account, bytes32 keyHash) external {",
        ("tests/contracts/test_registry.py", "-k", "rotate"),
        "only an executed board decision replaces an issuer's signing key",
    ),
    Mutant(
        "registry-revoker-is-issuer",
        REGISTRY,
        "if (_batches[account][root] == 0) revert RegistryBatchNotAnchored(root, account);",
        "if (false) revert RegistryBatchNotAnchored(root, account);",
        ("tests/contracts/test_registry.py", "-k", "revok"),
        "only the partner that anchored a batch revokes in it",
    ),
    Mutant(
        "registry-anchor-for-accredited-bit",
        REGISTRY,
        "uint256 private constant ACCREDITED_BIT = 1 << 208;",
        "uint256 private constant ACCREDITED_BIT = 1 << 207;",
        ("tests/contracts/test_registry.py", "-k", "anchor_for"),
        "the hub's path reads the issuer's accreditation from the right bit of its one-word slot",
    ),
    Mutant(
        "registry-anchor-for-count-bound",
        REGISTRY,
        "if (count > type(uint32).max) revert RegistryBatchTooLarge(count);",
        "if (false) revert RegistryBatchTooLarge(count);",
        ("tests/contracts/test_registry.py", "-k", "anchor_for"),
        "the count sharing anchorFor's word with the issuer fits the batch's 32 bits",
    ),
    # ---- service/auth.py
    Mutant(
        "auth-any-scheme",
        "service/auth.py",
        'if scheme.lower() != "bearer" or not token.strip():',
        "if not token.strip():",
        ("tests/test_cli_keys.py",),
        "only the Bearer scheme carries a key",
    ),
    Mutant(
        "auth-revoked-key",
        "service/auth.py",
        "if record.revoked_at is not None:",
        "if False:",
        ("tests/test_cli_keys.py",),
        "a revoked key is refused",
    ),
    Mutant(
        "auth-role",
        "service/auth.py",
        "if principal.role not in roles:",
        "if False:",
        ("tests/api/test_fuzz.py", "-k", "exactly"),
        "a key of another role gets 403",
    ),
    # ---- development keys (service/chain/keys.py, scripts/deploy.py)
    Mutant(
        "deploy-dev-key",
        "scripts/deploy.py",
        'refuse_dev_key(deployer, chain_id, "the deployer key (DEPLOYER_PRIVATE_KEY)")',
        "None",
        ("tests/test_deploy.py", "-k", "published_deployer"),
        "a published deployer key is refused on a chain that is not a development chain",
    ),
    Mutant(
        "deploy-dev-member",
        "scripts/deploy.py",
        'refuse_well_known(address, chain_id, f"board member {name}")',
        "None",
        ("tests/test_deploy.py", "-k", "published_board_member"),
        "a board member whose key is published is refused on such a chain",
    ),
    Mutant(
        "keys-lookup",
        "service/chain/keys.py",
        "known = well_known_account(address)",
        "known = None",
        ("tests/test_keys.py",),
        "every entry point refuses a published key",
    ),
    Mutant(
        "keys-only-first-twenty",
        "service/chain/keys.py",
        "WELL_KNOWN_INDEXES = 1000",
        "WELL_KNOWN_INDEXES = 20",
        ("tests/test_keys.py",),
        "anvil's account 20 and beyond are published too",
    ),
    Mutant(
        "keys-dev-chain-only",
        "service/chain/keys.py",
        "    if is_dev_chain_id(chain_id):\n        return\n",
        "    if chain_id > 0:\n        return\n",
        ("tests/test_keys.py",),
        "only development chains accept published keys",
    ),
    Mutant(
        "keys-keystore-scan",
        "service/chain/keys.py",
        'refuse_well_known(address, chain_id, f"the keystore {name}")',
        "None",
        ("tests/test_keys.py",),
        "a keystore holding a published key stops the service",
    ),
    Mutant(
        "keys-relayer",
        "service/chain/keys.py",
        'refuse_dev_key(account, chain_id, "the relayer key (HUB_RELAYER_PRIVATE_KEY)")',
        "None",
        ("tests/test_keys.py",),
        "a published relayer key stops the service",
    ),
    Mutant(
        "cli-keystore-import",
        "service/cli/keystore.py",
        'refuse_dev_key(account, chain_id, "the key")',
        "None",
        ("tests/test_cli_keys.py", "-k", "keystore"),
        "hub keystore import refuses a published key",
    ),
    # ---- issuers' signing keys (service/issuing)
    Mutant(
        "did-document-lists-every-accredited-key",
        "service/issuing/issuers.py",
        "        for key in accredited:\n            multibase = public.get(key.key_hash)",
        "        for key in accredited[-1:]:\n            multibase = public.get(key.key_hash)",
        ("tests/api/test_issuers.py",),
        "a partner's DID document keeps the keys rotated out, so credentials signed before stay verifiable",
    ),
    Mutant(
        "dev-signing-key-refused-outside-development",
        "service/issuing/signing_keys.py",
        "    if is_dev_signing_key(key, address):",
        "    if False:",
        ("tests/test_signing_keys.py",),
        "a development signing key, derivable by anyone, never signs on a real chain",
    ),
    # ---- the signer's fast path (service/credentials/canon_template.py)
    Mutant(
        "canon-template-unsorted",
        "service/credentials/canon_template.py",
        'return "".join(sorted(lines))',
        'return "".join(lines)',
        ("tests/credentials/test_canon_template.py",),
        "a credential's N-Quads from the cohort template are sorted again, as RDFC-1.0 writes them",
    ),
    Mutant(
        "canon-template-blank-node-guard",
        "service/credentials/canon_template.py",
        'if any("_:" in line and any(p in line for p in first) for line in lines):',
        "if False:",
        ("tests/credentials/test_canon_template.py",),
        "no template where a credential's own value sits beside a blank node",
    ),
    # ---- the certificate PDF and share links as carriers of a credential (POST /verify)
    Mutant(
        "verify-pdf-print-ignored",
        "service/api/verify.py",
        '"valid": report.valid and (printed is None or printed.matches),',
        '"valid": report.valid,',
        ("tests/api/test_verify_carriers.py", "-k", "edited or grade_printed"),
        "a PDF whose print differs from its embedded credential is not valid",
    ),
    Mutant(
        "carrier-source-relationship",
        "service/documents/carrier.py",
        "if str(item.associated_file_relationship) == RELATIONSHIP",
        "if True",
        ("tests/documents/test_carrier.py", "-k", "not_the_source"),
        "only the embedded file with relationship /Source is taken as the credential",
    ),
    Mutant(
        "carrier-other-text",
        "service/documents/carrier.py",
        "    if extra:",
        "    if False:",
        ("tests/documents/test_carrier.py", "-k", "covered or not_a_certificate"),
        "text drawn over a covered fact is a difference",
    ),
    Mutant(
        "sharing-foreign-host",
        "service/sharing.py",
        "if (parts.scheme.lower(), parts.netloc.lower()) != (hub.scheme.lower(), hub.netloc.lower()):",
        "if parts.scheme.lower() != hub.scheme.lower():",
        ("tests/api/test_verify_carriers.py", "-k", "foreign"),
        "a link of another host or port is refused, never looked up",
    ),
    # ---- issuing/anchoring
    Mutant(
        "anchoring-backoff-uncapped",
        "service/issuing/anchoring.py",
        "delay = min(self.retry_interval * 2**failures, self.max_backoff) * random.uniform(0.8, 1.2)",
        "delay = self.retry_interval * 2**failures * random.uniform(0.8, 1.2)",
        ("tests/api/test_anchoring_retries.py",),
        "the wait between tries stops growing at HUB_MAX_BACKOFF",
    ),
    Mutant(
        "anchoring-gives-up",
        "service/issuing/anchoring.py",
        "self._back_off(batch_id, exc.detail)",
        "self._fail(batch_id, exc.detail)",
        ("tests/api/test_anchoring_retries.py",),
        "a batch that cannot be sent now is tried again, never failed for it",
    ),
    Mutant(
        "anchoring-root-of-another-account",
        "service/chain/registry.py",
        "if event.issuer == issuer and event.root == bytes(root)",
        "if event.root == bytes(root)",
        ("tests/api/test_issuing.py", "-k", "another_partner"),
        "a root anchored by another account does not finish this partner's batch (its event is looked up "
        "by issuer and root)",
    ),
    # ---- fees, Merkle trees, requests, the body limit
    Mutant(
        "fees-bump",
        "service/chain/fees.py",
        "return max(value + 1, -(-value * BUMP_NUMERATOR // BUMP_DENOMINATOR))",
        "return value + 1",
        ("tests/test_fees.py",),
        "a replacement offers 12.5% more (what nodes accept)",
    ),
    Mutant(
        "merkle-sorted-pairs",
        "service/credentials/merkle.py",
        "node = keccak(node + sibling if node < sibling else sibling + node)",
        "node = keccak(node + sibling)",
        ("tests/credentials/test_merkle.py",),
        "proofs hash sorted pairs, as OpenZeppelin's MerkleProof",
    ),
    Mutant(
        "csv-formula-cell",
        "service/issuing/requests.py",
        'return "\'" + text if text[:1] in FORMULA_STARTS else text',
        "return text",
        ("tests/test_cli_cohort.py", "-k", "formula"),
        "a cell a spreadsheet would run is neutralised (OWASP)",
    ),
    Mutant(
        "csv-formula-address",
        "service/issuing/requests.py",
        "if value[:1] in FORMULA_STARTS:",
        "if False:",
        ("tests/test_cli_cohort.py", "-k", "formula"),
        "an e-mail address starting a formula is refused",
    ),
    Mutant(
        "request-valid-until-passed",
        "service/issuing/requests.py",
        "if self.valid_until <= datetime.now(UTC):",
        "if False:",
        ("tests/api/test_issuing.py", "-k", "malformed_json_is_400"),
        "a credential whose end has passed is not issued",
    ),
    Mutant(
        "body-limit-streamed",
        "service/api/problems.py",
        "if seen > self.limit:",
        "if seen > self.limit * 2:",
        ("tests/api/test_bad_input.py", "-k", "too-large"),
        "a streamed body over the limit is 413",
    ),
)


def _copy_checkout(target: Path) -> None:
    """The checkout's tracked and new (not ignored) files into `target`; node_modules linked, not copied."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_symlink() or not source.is_file():
            continue
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
    (target / "node_modules").symlink_to((ROOT / "node_modules").resolve())


def _pytest(copy: Path, tests: tuple[str, ...], log: Path) -> tuple[str, float]:
    """Run `tests` in `copy`: "passed", "failed", "timeout" or "error" (nothing collected, usage), seconds."""
    environment = {**os.environ, "CHAINS": "anvil", "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    environment.pop("CI", None)
    started = time.monotonic()
    with log.open("w") as out:
        try:
            code = subprocess.run(
                [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                cwd=copy,
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=TIMEOUT,
            ).returncode
        except subprocess.TimeoutExpired:
            return "timeout", time.monotonic() - started
    seconds = time.monotonic() - started
    return {0: "passed", 1: "failed"}.get(code, "error"), seconds


def _compile(copy: Path, log: Path) -> bool:
    with log.open("a") as out:
        return (
            subprocess.run(
                [sys.executable, "scripts/compile.py"], cwd=copy, stdout=out, stderr=subprocess.STDOUT, timeout=600
            ).returncode
            == 0
        )


def run(mutants: list[Mutant], baseline: bool, logs: Path) -> list[tuple[Mutant, int, str, float]]:
    results: list[tuple[Mutant, int, str, float]] = []
    logs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hub-mutants-") as temporary:
        copy = Path(temporary)
        _copy_checkout(copy)
        if baseline:
            for tests in dict.fromkeys(mutant.tests for mutant in mutants):
                outcome, seconds = _pytest(copy, tests, logs / "baseline.log")
                print(f"baseline {' '.join(tests)}: {outcome} ({seconds:.0f} s)", flush=True)
                if outcome != "passed":
                    raise SystemExit(f"the unchanged code fails {' '.join(tests)}: see {logs / 'baseline.log'}")
        artifacts = {path: path.read_bytes() for path in (copy / "artifacts").glob("*.json")}
        for mutant in mutants:
            target = copy / mutant.path
            original = target.read_text()
            log = logs / f"{mutant.name}.log"
            try:
                target.write_text(mutant.apply(original))
                if mutant.path.endswith(".sol") and not _compile(copy, log):
                    outcome, seconds = "invalid", 0.0  # the compiler refused it: not a mutant
                else:
                    outcome, seconds = _pytest(copy, mutant.tests, log)
            finally:
                target.write_text(original)
                if mutant.path.endswith(".sol"):
                    for path, data in artifacts.items():
                        path.write_bytes(data)
            result = {"failed": "killed", "timeout": "killed (timeout)", "passed": "SURVIVED"}.get(outcome, outcome)
            results.append((mutant, mutant.line(original), result, seconds))
            print(f"{mutant.name}: {result} ({seconds:.0f} s)", flush=True)
    return results


def report(results: list[tuple[Mutant, int, str, float]]) -> str:
    counted = [r for r in results if r[2].startswith(("killed", "SURVIVED"))]
    killed = sum(1 for r in counted if r[2].startswith("killed"))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    lines = [
        "# Mutation testing",
        "",
        "Generated by `.venv/bin/python scripts/mutate.py` (one line of core logic changed at a time, its tests run",
        "with `pytest -x` on anvil; see the script's docstring). A survivor is a behaviour no test pins down.",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on commit {commit}{' (with local changes)' if dirty else ''}: "
        f"**{killed} of {len(counted)} mutants killed ({100 * killed / max(len(counted), 1):.0f}%)**"
        + (f", {len(results) - len(counted)} not counted (invalid or error)" if len(counted) != len(results) else ""),
        "",
        "| mutant | where | change | result | seconds | tests | what it breaks |",
        "| --- | --- | --- | --- | ---: | --- | --- |",
    ]
    for mutant, line, result, seconds in results:
        change = f"`{_cell(mutant.original)}` → `{_cell(mutant.mutated)}`"
        lines.append(
            f"| {mutant.name} | {mutant.path}:{line} | {change} | {result} | {seconds:.0f} | "
            f"{_cell(' '.join(mutant.tests))} | {mutant.why} |"
        )
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mutation testing of the core logic (see the module docstring).")
    parser.add_argument("--only", action="append", default=[], help="run mutants whose name contains this (repeat)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unchanged runs of each selection")
    parser.add_argument("--out", type=Path, default=RESULTS, help="the results file (markdown)")
    parser.add_argument("--logs", type=Path, default=ROOT / "test-results" / "mutation", help="a pytest log per mutant")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.only or any(word in m.name for word in args.only)]
    if args.list:
        for mutant in chosen:
            print(f"{mutant.name:36} {mutant.path}: {mutant.why}")
        return 0
    if not chosen:
        print("no mutant matches --only", file=sys.stderr)
        return 2
    for mutant in chosen:  # fail early on a fragment the code no longer has
        mutant.apply((ROOT / mutant.path).read_text())
    results = run(chosen, baseline=not args.no_baseline, logs=args.logs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report(results))
    survived = [mutant.name for mutant, _, result, _ in results if result == "SURVIVED"]
    print(f"results: {args.out}; survived: {', '.join(survived) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
