"""Seed the IT Hub Hoogeveen demo on a local development chain. Idempotent: a second run changes nothing.

    report = seed_demo(w3, deployment, database_url, keys_file)   # scripts/run.py, scripts/demo.py's tests

What it makes, each only when it is not there yet:

1. **Accreditations** of Hanzehogeschool Groningen, Rijksuniversiteit Groningen and Alfa-college, each with
   its development credential signing key (service.issuing.signing_keys), each by an executed board
   decision: one board meeting recorded in one transaction (HubBoard.recordMeeting: TVM's signed proposal
   and the signed ballots of the other members; executed at once when decided).
   The partner concerned does not vote on its own accreditation. NHL Stenden is left out: the demo story
   (scripts/demo.py) accredits it live. The decision texts are stored, so the register shows them.
2. **The programme catalogue** of service.demo.DEMO_PROGRAMMES.
3. **API keys** for the admin, each issuing partner and each board member. The keys are made once and
   written to `keys_file` (data/demo-keys.json: git-ignored, mode 0600); the database keeps only their
   hashes. Later runs read the file and restore any hash the database lacks (a fresh database), so the
   same keys keep working; a key revoked since is replaced by a new one.

Development accounts only (service.demo): the relayer is the deployer account, members and partners
sign with their development keys. It refuses any chain that is not a local development chain.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount
from sqlalchemy import select
from web3 import Web3

from service.auth import Role, create_key, hash_key
from service.chain.board import Action, BoardClient, VoteType, document_hash
from service.chain.deployment import Deployment
from service.chain.devchain import dev_accounts, is_dev_chain_id
from service.chain.registry import RegistryClient
from service.chain.transactions import send
from service.db import models
from service.db.migrate import migrate
from service.db.session import make_engine, make_sessionmaker, transaction
from service.demo import DEMO_PROGRAMMES, DEPLOYER_ACCOUNT, ORGANISATIONS, Organisation
from service.issuing.issuers import remember_key
from service.issuing.signing_keys import dev_signing_key, key_hash, public_multibase

ADMIN_NAME = "Stichting IT Hub Hoogeveen"
SEEDED_ISSUERS = ("Hanzehogeschool Groningen", "Rijksuniversiteit Groningen", "Alfa-college")
CHAIR = "TVM verzekeringen"  # proposes the seeded decisions
SIGNATURE_TTL = 10 * 60
KEYS_FILE_NOTE = (
    "Demo API keys of the IT Hub Hoogeveen on a local development chain (scripts/run.py). "
    "Secret: send one as 'Authorization: Bearer <key>'. The service keeps only their hashes."
)


class SeedError(RuntimeError):
    """The demo could not be seeded; the message says why."""


@dataclass(frozen=True)
class DemoKey:
    """A demo principal's API key, as the keys file holds it."""

    role: str  # admin | issuer | member
    name: str
    address: str | None
    key: str


@dataclass
class SeedReport:
    """What a seeding run found and did."""

    accredited: list[str] = field(default_factory=list)  # accredited by this run
    already_accredited: list[str] = field(default_factory=list)
    decisions: list[tuple[str, int, str]] = field(default_factory=list)  # (partner, proposal id, tx) made now
    programmes_created: list[str] = field(default_factory=list)
    keys: list[DemoKey] = field(default_factory=list)
    keys_created: list[DemoKey] = field(default_factory=list)  # new keys (written to the file)
    keys_restored: list[DemoKey] = field(default_factory=list)  # hashes put back into the database
    keys_file: Path | None = None

    @property
    def changed(self) -> bool:
        return bool(self.accredited or self.programmes_created or self.keys_created or self.keys_restored)

    def key(self, role: str, name: str) -> DemoKey:
        return next(k for k in self.keys if k.role == role and k.name == name)


def organisation(name: str) -> Organisation:
    return next(o for o in ORGANISATIONS if o.name == name)


def wanted_principals() -> list[tuple[str, str, str | None]]:
    """(role, name, address) of every demo key: the admin, each issuing partner, each board member."""
    accounts = dev_accounts()
    out: list[tuple[str, str, str | None]] = [("admin", ADMIN_NAME, None)]
    out += [
        ("issuer", o.name, accounts[o.issuer_account].address) for o in ORGANISATIONS if o.issuer_account is not None
    ]
    out += [("member", o.name, accounts[o.board_account].address) for o in ORGANISATIONS if o.board_account is not None]
    return out


def load_keys(keys_file: Path) -> list[DemoKey]:
    """The keys in `keys_file` (empty when it does not exist).

    :raises SeedError: the file cannot be read or is not a keys file.
    """
    if not keys_file.exists():
        return []
    try:
        data = json.loads(keys_file.read_text(encoding="utf-8"))
        return [
            DemoKey(role=str(k["role"]), name=str(k["name"]), address=k.get("address"), key=str(k["key"]))
            for k in data["keys"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SeedError(f"{keys_file} is not a demo keys file ({exc}): move it away to make new keys") from exc


def _write_keys(keys_file: Path, keys: list[DemoKey]) -> None:
    keys_file.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"note": KEYS_FILE_NOTE, "keys": [asdict(k) for k in keys]}, indent=2, ensure_ascii=False)
    temporary = keys_file.with_name(keys_file.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    os.replace(temporary, keys_file)


# ---------------------------------------------------------------- accreditation by board meetings


def accreditation_text(name: str) -> str:
    return (
        f"Het bestuur van de Stichting IT Hub Hoogeveen accrediteert {name} als uitgever van "
        "microcredentials van de IT Hub Hoogeveen, met ingang van de uitvoering van dit besluit."
    )


def accredit_by_meeting(
    w3: Web3, board: BoardClient, relayer: LocalAccount, name: str, address: str
) -> tuple[int, str]:
    """Accredit `address` as `name` by a board meeting in one transaction: the chair proposes, every other
    member except the partner concerned votes for, and the decision executes at once.

    :returns: the proposal id and the transaction hash.
    """
    accounts = dev_accounts()
    members = [(o, accounts[o.board_account]) for o in ORGANISATIONS if o.board_account is not None]
    chair = accounts[organisation(CHAIR).board_account]  # type: ignore[index]
    text = accreditation_text(name)
    action = Action.accredit_issuer(address, name, key_hash(dev_signing_key(address)))
    doc_hash = document_hash(text)
    deadline = board.chain_time() + SIGNATURE_TTL
    proposal = board.sign_proposal(
        chair, action, f"Accreditatie {name} als uitgever van microcredentials", doc_hash, deadline=deadline
    )
    ballots = []
    for org, account in members:
        if org.name == name:
            continue  # a partner does not vote on its own accreditation
        ballots.append(
            board.sign_meeting_ballot(account, proposal, VoteType.FOR, "voldoet aan de kwaliteitseisen van de hub")
        )
    receipt = send(w3, {**board.record_meeting(proposal, ballots), "gasPrice": w3.eth.gas_price}, relayer)
    return board.created_proposal_id(receipt), receipt["transactionHash"].to_0x_hex()


# ---------------------------------------------------------------- the whole seeding


def seed_demo(w3: Web3, deployment: Deployment, database_url: str, keys_file: Path) -> SeedReport:
    """Seed the demo (see the module docstring); only what is missing is made.

    :raises SeedError: not a development chain, a keys file that cannot be read, a decision that did not
        accredit its partner.
    """
    chain_id = int(w3.eth.chain_id)
    if not is_dev_chain_id(chain_id):
        raise SeedError(f"chain {chain_id} is not a local development chain: the demo is seeded only there")
    report = SeedReport(keys_file=keys_file)
    accounts = dev_accounts()
    board = BoardClient(w3, deployment.board.address)
    registry = RegistryClient(w3, deployment.registry.address)
    relayer = accounts[DEPLOYER_ACCOUNT]

    engine = make_engine(database_url)
    try:
        migrate(engine)
        sessions = make_sessionmaker(engine)

        # 1. accreditations, each an executed board decision, and each partner's authorisation of the relayer
        for name in SEEDED_ISSUERS:
            partner = accounts[organisation(name).issuer_account]  # type: ignore[index]
            address = partner.address
            if registry.issuer(address).relayer != relayer.address:  # its batches then go by anchorFor
                request = registry.set_relayer_request(
                    address, relayer.address, int(w3.eth.get_block("latest")["timestamp"]) + 3_600
                )
                registry.set_relayer_by_sig(request, request.sign(partner.key), sender=relayer)
            if registry.issuer(address).accredited:
                report.already_accredited.append(name)
                continue
            with transaction(sessions) as db:  # the text and the key first, so the register never lacks them
                db.merge(
                    models.ProposalDocument(
                        document_hash="0x" + document_hash(accreditation_text(name)).hex(),
                        text=accreditation_text(name),
                    )
                )
                remember_key(db, address, public_multibase(dev_signing_key(address)))
            proposal_id, tx_hash = accredit_by_meeting(w3, board, relayer, name, address)
            if not registry.issuer(address).accredited:
                raise SeedError(f"the board meeting {tx_hash} (proposal {proposal_id}) did not accredit {name}")
            report.accredited.append(name)
            report.decisions.append((name, proposal_id, tx_hash))

        # 2. the programme catalogue
        with transaction(sessions) as db:
            for programme in DEMO_PROGRAMMES:
                if db.get(models.Programme, programme.id) is None:
                    db.add(models.Programme(**programme.as_create()))
                    report.programmes_created.append(programme.id)

        # 3. API keys: the file's, restored into the database where missing; new ones for the rest
        existing = {(k.role, k.name): k for k in load_keys(keys_file)}
        keys: list[DemoKey] = []
        with transaction(sessions) as db:
            for role, name, account in wanted_principals():
                known = existing.get((role, name))
                if known is not None and known.address == account:
                    record = db.scalar(select(models.ApiKey).where(models.ApiKey.key_hash == hash_key(known.key)))
                    if record is None:
                        db.add(
                            models.ApiKey(
                                role=role,
                                name=name,
                                address=account,
                                key_hash=hash_key(known.key),
                                prefix=known.key[:10],
                            )
                        )
                        report.keys_restored.append(known)
                        keys.append(known)
                        continue
                    if record.revoked_at is None:
                        keys.append(known)
                        continue
                token, _ = create_key(db, Role(role), name, account)
                made = DemoKey(role=role, name=name, address=account, key=token)
                keys.append(made)
                report.keys_created.append(made)
            if report.keys_created or set(existing) != {(k.role, k.name) for k in keys}:
                _write_keys(keys_file, keys)  # before the commit: a key is never in the database alone
        report.keys = keys
    finally:
        engine.dispose()
    return report


def keys_table(keys: list[DemoKey]) -> list[str]:
    """The keys as aligned plain-text lines (role, organisation, key): never wrapped, so they copy whole."""
    width = max([len(k.name) for k in keys] + [len("organisation")])
    lines = [f"  {'role':<7} {'organisation':<{width}}  key"]
    lines += [f"  {k.role:<7} {k.name:<{width}}  {k.key}" for k in keys]
    return lines


def describe(report: SeedReport) -> list[str]:
    """What the seeding did, one line each, for people."""
    lines = []
    for name, proposal_id, tx_hash in report.decisions:
        lines.append(f"accredited {name} by board decision #{proposal_id} (one meeting, tx {tx_hash})")
    if report.already_accredited:
        lines.append("already accredited: " + ", ".join(report.already_accredited))
    if report.programmes_created:
        lines.append(f"added {len(report.programmes_created)} programmes: " + ", ".join(report.programmes_created))
    if report.keys_created:
        lines.append(f"made {len(report.keys_created)} demo API keys, written to {report.keys_file}")
    if report.keys_restored:
        lines.append(f"restored {len(report.keys_restored)} demo API keys from {report.keys_file} into the database")
    if not report.changed:
        lines.append("the demo was seeded before: nothing changed")
    return lines
