"""The demo: seeding (service.seed) is idempotent on a real anvil node; the demo story (scripts/demo.py) runs
every step against a real uvicorn server; the run command (scripts/run.py) starts, seeds, serves, stops on
SIGINT and keeps everything for the next run."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from scripts import demo
from service.auth import hash_key, revoke_key
from service.chain.devchain import dev_accounts, free_port
from service.chain.registry import RegistryClient
from service.db.models import ApiKey
from service.db.session import make_engine, make_sessionmaker, transaction
from service.demo import DEMO_PROGRAMMES, ORGANISATIONS
from service.seed import SEEDED_ISSUERS, load_keys
from tests.live import SeededChain, seeded_chain, serve, wait_for

ROOT = Path(__file__).resolve().parent.parent
NHL = "NHL Stenden"


def _issuer_address(name: str) -> str:
    org = next(o for o in ORGANISATIONS if o.name == name)
    assert org.issuer_account is not None
    return dev_accounts()[org.issuer_account].address


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededChain]:
    with seeded_chain(tmp_path_factory.mktemp("demo")) as seeded:
        yield seeded


# ---------------------------------------------------------------- seeding


def test_seeding_twice_changes_nothing_the_second_time(chain: SeededChain) -> None:
    w3 = chain.node.w3
    first = chain.seed()
    assert sorted(first.accredited) == sorted(SEEDED_ISSUERS)
    assert [d[0] for d in first.decisions] == list(SEEDED_ISSUERS)
    assert first.programmes_created == [p.id for p in DEMO_PROGRAMMES]
    roles = [(k.role, k.name) for k in first.keys]
    assert roles[0] == ("admin", "Stichting IT Hub Hoogeveen")
    assert {name for role, name in roles if role == "issuer"} == {o.name for o in ORGANISATIONS if o.issuer_account}
    assert {name for role, name in roles if role == "member"} == {o.name for o in ORGANISATIONS if o.board_account}
    assert first.keys_created == first.keys and len(first.keys) == 11
    assert oct(chain.keys_file.stat().st_mode & 0o777) == "0o600"

    registry = RegistryClient(w3, chain.deployment.registry.address)
    for name in SEEDED_ISSUERS:
        status = registry.issuer(_issuer_address(name))
        assert status.accredited and status.name == name
    assert not registry.issuer(_issuer_address(NHL)).accredited  # the demo story accredits it live

    block = w3.eth.block_number
    file_text = chain.keys_file.read_text()
    second = chain.seed()
    assert w3.eth.block_number == block  # no transaction
    assert not second.changed
    assert sorted(second.already_accredited) == sorted(SEEDED_ISSUERS)
    assert second.accredited == second.programmes_created == second.keys_created == second.keys_restored == []
    assert second.keys == first.keys
    assert chain.keys_file.read_text() == file_text

    # a fresh database (same chain, same keys file): the same keys are restored, still no transaction
    database = Path(chain.database_url.removeprefix("sqlite:///"))
    backup = database.with_name("hub-backup.db")
    database.rename(backup)
    try:
        third = chain.seed()
        assert w3.eth.block_number == block
        assert third.keys == first.keys and len(third.keys_restored) == 11 and third.keys_created == []
        assert third.programmes_created == [p.id for p in DEMO_PROGRAMMES]
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        backup.rename(database)

    # a demo key revoked since is replaced by a new one; the others stay
    engine = make_engine(chain.database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            record = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(first.keys[0].key)))
            assert record is not None
            revoke_key(session, record.id)
    finally:
        engine.dispose()
    fourth = chain.seed()
    assert [k.name for k in fourth.keys_created] == ["Stichting IT Hub Hoogeveen"]
    assert fourth.keys[0].key != first.keys[0].key and fourth.keys[1:] == first.keys[1:]
    assert load_keys(chain.keys_file) == fourth.keys
    assert w3.eth.block_number == block


# ---------------------------------------------------------------- the demo story


def test_demo_story_completes_every_step_against_a_real_server(
    chain: SeededChain, capsys: pytest.CaptureFixture[str]
) -> None:
    chain.seed()  # idempotent: whatever ran before in this module
    with serve(chain.settings) as url:
        code = demo.main(["--url", url, "--keys", str(chain.keys_file), "--timeout", "60"])
        out = capsys.readouterr().out
        print(out)
        assert code == 0, out
        for expected in (
            "Step 1. Hanzehogeschool Groningen issues a Make IT Work cohort to new TVM employees",
            "Anchored on chain in ONE transaction",
            "Step 2. A graduate opens her share link",
            "Step 3. An employer verifies the credential, and a tampered copy",
            "awarded to Lotte Hoekstra",
            "Step 4. Hanzehogeschool Groningen revokes one credential",
            "NOT VALID, Not revoked: revoked at",
            "Step 5. The board accredits NHL Stenden as an issuer",
            "Before the decision, NHL Stenden cannot issue",
            "Unigarant signs its ballot itself (EIP-712) and posts it without a key",
            "NHL Stenden recuses itself (conflict of interest)",
            "3 for, 0 against, 0 abstain, 1 recused of 6: succeeded",
            "NHL Stenden is accredited",
            "Step 6. NHL Stenden issues its first credential",
            "The demo story is complete",
        ):
            assert expected in out, expected
        assert re.search(r"The tampered copy .* is REJECTED: Integrity failed \(.*the document was changed", out)
        assert re.search(r"It verifies: VALID \(Issuer accredited: 0x[0-9a-fA-F]{40} was accredited", out)
        assert "✗" not in out

        nhl = _issuer_address(NHL)
        assert RegistryClient(chain.node.w3, chain.deployment.registry.address).issuer(nhl).accredited
        decisions = httpx.get(f"{url}/board/decisions", timeout=30).json()
        assert [d["name"] for d in decisions] == [*SEEDED_ISSUERS, NHL]

        # again on the same service: a new cohort; NHL Stenden is not accredited twice
        code = demo.main(["--url", url, "--keys", str(chain.keys_file), "--timeout", "60"])
        out = capsys.readouterr().out
        assert code == 0, out
        assert "NHL Stenden was already accredited by decision #4" in out
        assert "Step 6. NHL Stenden issues a credential again" in out
        assert "NHL Stenden issued its first credential in an earlier run (batch " in out
        step_6 = [line for line in out.splitlines() if line.startswith("Step 6.")]  # out holds run 1's print too
        assert step_6[-1] == "Step 6. NHL Stenden issues a credential again", step_6
        assert re.search(r"It verifies: VALID \(Issuer accredited: 0x[0-9a-fA-F]{40} was accredited", out)
        assert "The demo story is complete" in out and "✗" not in out


def test_demo_says_clearly_when_it_cannot_run(
    chain: SeededChain, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert demo.main(["--keys", str(tmp_path / "missing.json")]) == 2
    assert "no demo keys at" in capsys.readouterr().out
    chain.seed()
    port = free_port()  # nothing listens there
    assert demo.main(["--url", f"http://127.0.0.1:{port}", "--keys", str(chain.keys_file), "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "The demo could not start" in out and "does not answer" in out and "./scripts/run" in out


# ---------------------------------------------------------------- the run command


class RunCommand:
    """scripts/run.py in a subprocess, its output collected line by line."""

    def __init__(self, data_dir: Path, chain_port: int, port: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-u",
                str(ROOT / "scripts" / "run.py"),
                "--chain-port",
                str(chain_port),
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
            ],
            cwd=data_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.url = f"http://127.0.0.1:{port}"
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_ready(self) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"run.py exited with {self.process.returncode}:\n{self.output}")
            if not any(line.startswith("Ctrl-C stops everything") for line in self.lines):
                return False
            try:
                return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(ready, 120, "scripts/run.py to serve /health", interval=0.2)

    def keys(self) -> dict[tuple[str, str], str]:
        """The demo keys table as printed."""
        table = {}
        for line in self.lines:
            match = re.fullmatch(r"  (admin|issuer|member)\s+(.+?)\s+(hub_\S+)", line)
            if match:
                table[(match.group(1), match.group(2))] = match.group(3)
        return table

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(60)
        finally:
            self.stop()
        self._reader.join(10)
        return code

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def test_run_command_seeds_serves_stops_on_sigint_and_keeps_everything(tmp_path: Path) -> None:
    chain_port, port = free_port(), free_port()
    first = RunCommand(tmp_path, chain_port, port)
    try:
        first.wait_ready()
    except BaseException:
        first.stop()
        raise
    try:
        out = first.output
        assert "deployed: CredentialRegistry" in out
        assert f"API:       {first.url}/docs" in out
        pages = next(line for line in first.lines if line.startswith("Pages:"))
        assert pages.split()[1:] == [
            f"{first.url}/",
            f"{first.url}/verify",
            f"{first.url}/board/register",
            f"{first.url}/partners",
        ]
        # how to make the first console accounts, with the demo partner's and chair's accounts filled in
        assert "--role partner --email partner@example.org --name 'Hanzehogeschool Groningen' --address 0x" in out
        assert "--role board --email board@example.org --name 'TVM verzekeringen' --address 0x" in out
        keys = first.keys()
        assert len(keys) == 11, out
        saved = {(k.role, k.name): k.key for k in load_keys(tmp_path / "demo-keys.json")}
        assert saved == keys

        with httpx.Client(base_url=first.url, timeout=60) as http:
            programmes = http.get("/programmes").json()
            assert {p["id"] for p in programmes} == {p.id for p in DEMO_PROGRAMMES}
            hanze = {"Authorization": f"Bearer {keys[('issuer', 'Hanzehogeschool Groningen')]}"}
            issued = http.post(
                "/credentials",
                headers=hanze,
                json={"programme_id": "miw-ai", "email": "kept@example.org", "name": "Kept Across Runs", "grade": "8"},
            )
            assert issued.status_code == 201, issued.text
            credential = issued.json()
            admin = {"Authorization": f"Bearer {keys[('admin', 'Stichting IT Hub Hoogeveen')]}"}
            assert http.post("/programmes", headers=admin, json={}).status_code == 422  # authorised, bad body
            assert http.post("/programmes", json={}).status_code == 401
        registry = re.search(r"CredentialRegistry (0x[0-9a-fA-F]{40})", out).group(1)  # type: ignore[union-attr]
    finally:
        code = first.interrupt()
    assert code == 0, first.output

    second = RunCommand(tmp_path, chain_port, port)
    try:
        second.wait_ready()
        out = second.output
        assert f"reusing: CredentialRegistry {registry}" in out
        assert "the demo was seeded before: nothing changed" in out
        assert second.keys() == keys
        with httpx.Client(base_url=second.url, timeout=60) as http:
            kept = http.get(f"/credentials/{credential['id']}", headers=hanze)
            assert kept.status_code == 200, kept.text
            assert kept.json()["status"] == "anchored"
            assert kept.json()["document"] == credential["document"]
            held = http.get(f"/credentials/{credential['id']}", headers={"X-Holder-Token": credential["holder_token"]})
            assert held.status_code == 200
            report = http.post("/verify", json=credential["document"]).json()
            assert report["valid"], report
            decisions = http.get("/board/decisions").json()
            assert [d["name"] for d in decisions] == list(SEEDED_ISSUERS)
    finally:
        code = second.interrupt()
    assert code == 0, second.output
    deployment = json.loads((tmp_path / "deployments" / "31337.json").read_text())
    assert deployment["registry"]["address"] == registry
    assert (tmp_path / "anvil-state.json").exists() and (tmp_path / "hub.db").exists()
