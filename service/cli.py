"""`hub`: verify an IT Hub Hoogeveen credential from the command line, with no hub service involved.

    python -m service.cli verify credential.json --rpc http://127.0.0.1:8545 --registry 0x...
    python -m service.cli verify - --json < credential.json
    python -m service.cli present credential.json --disclose name -o shared.json

API keys of the hub service (the database of HUB_DATABASE_URL, migrated first):

    python -m service.cli keys create --role issuer --name "Hanzehogeschool Groningen" --address 0x...
    python -m service.cli keys list
    python -m service.cli keys revoke 3

`verify` exits 0 when the credential is valid, 1 when it is not (a check failed or could not be run),
2 when the input or the options are unusable (not JSON, larger than the size limit, not a credential
of this format, an unreadable file, an unreachable node, a --chain-id the node does not have).

The chain is whatever node --rpc names; its chain id is the node's own (--chain-id only asserts it).
The registry is --registry (or HUB_REGISTRY_ADDRESS). Without one, the registry named in the credential's own
proof is asked and its answers are shown, but the `network` check is reported as not run and the
credential is not shown valid: anyone can deploy a registry and accredit themselves. Pass
--trust-document to accept the document's registry anyway (the report says so).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from eth_utils import is_address, to_checksum_address
from rich.console import Console
from rich.table import Table
from rich.text import Text

from service.credentials.canonical import MAX_CREDENTIAL_BYTES, InputError, parse_json
from service.credentials.disclosure import select_disclosures
from service.credentials.document import parse_datetime
from service.credentials.facts import ChainFacts, ChainUnavailable, RegistryTrust
from service.credentials.verify import Status, VerificationReport, verify_credential

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_UNUSABLE = 2

app = typer.Typer(
    name="hub",
    help="IT Hub Hoogeveen credentials: verify them with public tools alone; manage the service's API keys.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_STATUS_STYLE = {
    Status.PASSED: ("passed", "green"),
    Status.FAILED: ("FAILED", "bold red"),
    Status.NOT_RUN: ("not run", "yellow"),
}


class UsageProblem(Exception):
    """The input or options cannot be used (exit 2)."""


@app.callback()
def main() -> None:
    """IT Hub Hoogeveen credentials: verify them with public tools alone."""


def _read(file: str) -> bytes:
    """At most MAX_CREDENTIAL_BYTES + 1 bytes of `file` (or stdin for "-"), so a huge input is never
    read whole; the verifier refuses the surplus."""
    limit = MAX_CREDENTIAL_BYTES + 1
    try:
        if file == "-":
            return sys.stdin.buffer.read(limit)
        with Path(file).open("rb") as handle:
            return handle.read(limit)
    except OSError as exc:
        raise UsageProblem(f"cannot read {file}: {exc.strerror or exc}") from exc


def _chain_facts(rpc: str | None, registry: str | None, chain_id: int | None, trust_document: bool,
                 data: bytes) -> ChainFacts | None:
    if rpc is None:
        if registry is not None or chain_id is not None:
            raise UsageProblem("--registry and --chain-id need --rpc: the node to ask")
        return None
    from web3 import Web3

    from service.chain.registry import RegistryClient

    w3 = Web3(Web3.HTTPProvider(rpc, request_kwargs={"timeout": 30}, cache_allowed_requests=True))
    trust = RegistryTrust.CONFIGURED
    if registry is None:
        registry = _document_registry(data)
        if registry is None:
            return None  # not a credential of this format: the report says why
        trust = RegistryTrust.DOCUMENT_ACCEPTED if trust_document else RegistryTrust.DOCUMENT
    elif not is_address(registry):
        raise UsageProblem(f"--registry {registry!r} is not an address")
    try:
        client = RegistryClient(w3, to_checksum_address(registry))
    except FileNotFoundError as exc:  # the committed ABI (artifacts/) is missing
        raise UsageProblem(str(exc)) from exc
    try:
        node_chain = client.chain_id
    except ChainUnavailable as exc:
        raise UsageProblem(f"{rpc}: {exc}") from exc
    if chain_id is not None and chain_id != node_chain:
        raise UsageProblem(f"the node at {rpc} is chain {node_chain}, not --chain-id {chain_id}")
    return client.chain_facts(trust)


def _document_registry(data: bytes) -> str | None:
    try:
        registry = parse_json(data)["proof"]["registry"]
    except (InputError, KeyError, TypeError):
        return None
    return to_checksum_address(registry) if isinstance(registry, str) and is_address(registry) else None


def _exit_code(report: VerificationReport) -> int:
    if not report.usable:
        return EXIT_UNUSABLE
    return EXIT_VALID if report.valid else EXIT_INVALID


def _show_value(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(item, dict) and "value" in item for item in value):
        return ", ".join(str(item["value"]) for item in value)  # an Open Badges Result list: its values
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _print_report(console: Console, report: VerificationReport, source: str) -> None:
    if not report.usable:
        verdict = Text("UNUSABLE INPUT", style="bold red")
    elif report.valid:
        verdict = Text("VALID", style="bold green")
    else:
        verdict = Text("NOT VALID", style="bold red")
    console.print(Text.assemble("Credential ", (source, "bold"), ": ", verdict))
    table = Table(show_header=True, header_style="bold", expand=False)
    table.add_column("Check")
    table.add_column("Result")
    table.add_column("Details", overflow="fold")
    for check in report.checks:
        label, style = _STATUS_STYLE[check.status]
        table.add_row(check.title, Text(label, style=style), check.reason)
    console.print(table)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column(overflow="fold")
    if report.credential is not None:
        summary = report.credential
        facts.add_row("Programme", f"{summary.programme} ({summary.achievement_id})")
        facts.add_row("Issuer", f"{summary.issuer_name} ({summary.issuer_id})")
        facts.add_row("Credits", f"{summary.ects:g} ECTS, EQF level {summary.eqf_level}, {summary.theme}")
        facts.add_row("Valid", f"from {summary.valid_from}" + (f" until {summary.valid_until}"
                                                               if summary.valid_until else ""))
        for name, value in summary.disclosed.items():
            facts.add_row(f"Disclosed {name}", _show_value(value))
    if report.anchor is not None:
        anchor = report.anchor
        facts.add_row("Anchored", f"chain {anchor.chain_id}, registry {anchor.registry}")
        facts.add_row("Root", anchor.merkle_root)
        facts.add_row("Transaction", anchor.transaction_hash + (" (relayed)" if anchor.relayed else ""))
    facts.add_row("Checked at", f"{report.checked_at} ({report.clock} time)")
    console.print(facts)


@app.command()
def verify(
    file: Annotated[str, typer.Argument(help="The credential (JSON); - reads standard input.")],
    rpc: Annotated[str | None, typer.Option(
        "--rpc", envvar="HUB_RPC_URL", help="JSON-RPC URL of any node of the chain the credential is anchored on.",
    )] = None,
    registry: Annotated[str | None, typer.Option(
        "--registry", envvar="HUB_REGISTRY_ADDRESS", help="The hub's CredentialRegistry address to trust.",
    )] = None,
    chain_id: Annotated[int | None, typer.Option(
        "--chain-id", envvar="HUB_CHAIN_ID", help="Refuse to run unless the node is this chain.",
    )] = None,
    trust_document: Annotated[bool, typer.Option(
        "--trust-document", help="Without --registry, rely on the registry the credential names.",
    )] = False,
    email: Annotated[str | None, typer.Option(
        "--email", help="Also check that the credential was issued to this email address.",
    )] = None,
    at: Annotated[str | None, typer.Option(
        "--at", help="Judge the validity period at this moment (e.g. 2027-01-01T00:00:00Z) instead of chain time.",
    )] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Verify a credential: print the report; exit 0 valid, 1 not valid, 2 unusable input."""
    console = Console(soft_wrap=False, highlight=False)
    try:
        moment = parse_datetime(at) if at is not None else None
    except ValueError as exc:
        _usage_problem(str(exc), as_json)
    try:
        data = _read(file)
        facts = _chain_facts(rpc, registry, chain_id, trust_document, data)
    except UsageProblem as exc:
        _usage_problem(str(exc), as_json)
    report = verify_credential(data, facts, now=moment, recipient_email=email)
    if as_json:
        typer.echo(report.to_json_text())
    else:
        _print_report(console, report, "<stdin>" if file == "-" else file)
        if facts is None and report.usable:
            console.print("No chain asked: pass --rpc URL and --registry ADDRESS to check anchoring and revocation.",
                          style="yellow")
    raise typer.Exit(_exit_code(report))


def _usage_problem(message: str, as_json: bool) -> NoReturn:
    if as_json:
        typer.echo(json.dumps({"valid": False, "error": message}))
    else:
        Console(stderr=True, highlight=False).print(Text(f"error: {message}", style="red"))
    raise typer.Exit(EXIT_UNUSABLE)


@app.command()
def present(
    file: Annotated[str, typer.Argument(help="The holder's full credential (JSON); - reads standard input.")],
    disclose: Annotated[list[str] | None, typer.Option(
        "--disclose", "-d", help="A claim to disclose (repeat for more); the others are withheld.",
    )] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of standard output.")]
    = None,
) -> None:
    """Make the copy to share: keep only the chosen disclosures (the anchored body is unchanged)."""
    try:
        document = parse_json(_read(file))
        if not isinstance(document, dict):
            raise UsageProblem("the credential must be a JSON object")
        shared = select_disclosures(document, disclose or [])
    except (UsageProblem, InputError) as exc:
        _usage_problem(str(exc), False)
    except KeyError as exc:
        _usage_problem(str(exc.args[0]), False)
    text = json.dumps(shared, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------- hub keys


keys_app = typer.Typer(
    name="keys",
    help="API keys of the hub service: create (shown once), list, revoke. Uses HUB_DATABASE_URL.",
    no_args_is_help=True,
)
app.add_typer(keys_app)


class KeyRole(str, Enum):
    admin = "admin"
    issuer = "issuer"
    member = "member"


@contextmanager
def _key_store() -> Iterator[Session]:
    """A session on the hub's database (Settings().database_url), migrated to the newest schema first;
    committed at the end. Any failure to open it is a UsageProblem."""
    from pydantic import ValidationError
    from sqlalchemy.exc import SQLAlchemyError

    from service.db.migrate import migrate
    from service.db.session import make_engine, make_sessionmaker, transaction
    from service.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        raise UsageProblem(f"the HUB_* settings are not valid: {exc.errors()[0]['msg']}") from exc
    try:
        engine = make_engine(settings.database_url)
    except (SQLAlchemyError, ValueError, OSError) as exc:
        raise UsageProblem(f"cannot open the database {settings.database_url}: {exc}") from exc
    try:
        try:
            migrate(engine)
        except (SQLAlchemyError, OSError) as exc:
            raise UsageProblem(f"cannot open the database {engine.url!r}: {exc}") from exc
        with transaction(make_sessionmaker(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _key_error(message: str) -> NoReturn:
    Console(stderr=True, highlight=False).print(Text(f"error: {message}", style="red"))
    raise typer.Exit(EXIT_UNUSABLE)


def _when_text(moment: Any) -> str:
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


@keys_app.command("create")
def keys_create(
    role: Annotated[KeyRole, typer.Option("--role", help="admin, issuer (an issuing partner) or member (board).",
                                          case_sensitive=False)],
    name: Annotated[str, typer.Option("--name", help='The holder, e.g. "Hanzehogeschool Groningen".')],
    address: Annotated[str | None, typer.Option(
        "--address", help="The issuer's issuing account or the member's board account (0x...); not for admin.",
    )] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print the key only.")] = False,
) -> None:
    """Create an API key and print it once: the hub keeps only its hash."""
    from service.auth import create_key
    from service.errors import HubError

    try:
        with _key_store() as session:
            token, record = create_key(session, role.value, name, address)
            key_id, holder, account = record.id, record.name, record.address
    except (UsageProblem, HubError) as exc:
        _key_error(str(exc))
    if quiet:
        typer.echo(token)
        return
    console = Console(highlight=False)
    who = f"{holder}, account {account}" if account else holder
    console.print(f"Created API key [bold]{key_id}[/bold] ({role.value}) for {who}.")
    typer.echo(token)
    console.print("This is the only time the key is shown: store it now. Send it with every request as")
    console.print(Text(f"    Authorization: Bearer {token}", style="bold"))
    console.print(f"Revoke it with: hub keys revoke {key_id}", style="dim")


@keys_app.command("list")
def keys_list() -> None:
    """List the API keys (never the keys themselves: their first characters)."""
    from service.auth import list_keys

    try:
        with _key_store() as session:
            records = list_keys(session)
    except UsageProblem as exc:
        _key_error(str(exc))
    console = Console(highlight=False)
    if not records:
        console.print("No API keys yet: create one with 'hub keys create --role admin --name ...'.")
        return
    table = Table(show_header=True, header_style="bold")
    for column in ("id", "role", "name", "address", "prefix", "created", "revoked"):
        table.add_column(column, justify="right" if column == "id" else "left",
                         no_wrap=column in ("id", "address", "prefix", "created", "revoked"))
    for record in records:
        table.add_row(str(record.id), record.role, record.name, record.address or "", record.prefix + "…",
                      _when_text(record.created_at), Text(_when_text(record.revoked_at), style="red"))
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="The key's id (see 'hub keys list').")]) -> None:
    """Revoke an API key: requests with it get 401 from now on."""
    from service.auth import revoke_key
    from service.db.models import ApiKey
    from service.errors import HubError

    try:
        with _key_store() as session:
            existing = session.get(ApiKey, key_id)
            already = existing.revoked_at if existing is not None else None
            record = revoke_key(session, key_id)
            role, holder, revoked_at = record.role, record.name, record.revoked_at
    except (UsageProblem, HubError) as exc:
        _key_error(str(exc))
    console = Console(highlight=False)
    if already is not None:
        console.print(f"API key {key_id} ({role}, {holder}) was already revoked on {_when_text(already)}.")
    else:
        console.print(f"Revoked API key {key_id} ({role}, {holder}) at {_when_text(revoked_at)}: "
                      "requests with it now get 401.")


if __name__ == "__main__":
    app()
