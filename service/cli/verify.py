"""`hub verify` and `hub present`: a credential checked or presented with public tools alone (no hub service)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from eth_utils import is_address, to_checksum_address
from rich.console import Console
from rich.table import Table
from rich.text import Text

from service.credentials.canonical import MAX_CREDENTIAL_BYTES, InputError, parse_json, proof_of
from service.credentials.disclosure import select_disclosures
from service.credentials.document import parse_datetime
from service.credentials.facts import ChainFacts, ChainUnavailable, RegistryTrust
from service.credentials.verifier import VerificationReport, verify_credential

if TYPE_CHECKING:
    pass

from service import i18n
from service.cli.app import EXIT_INVALID, EXIT_UNUSABLE, EXIT_VALID, UsageProblem, app, usage_problem
from service.credentials.verifier import Status

_STATUS_STYLE = {
    Status.PASSED: ("passed", "green"),
    Status.FAILED: ("FAILED", "bold red"),
    Status.NOT_RUN: ("not run", "yellow"),
}


def _read(file: str, limit: int = MAX_CREDENTIAL_BYTES + 1) -> bytes:
    """At most `limit` bytes of `file` (or stdin for "-"), so a huge input is never read whole; the
    verifier (or the PDF reader) refuses the surplus."""
    try:
        if file == "-":
            return sys.stdin.buffer.read(limit)
        with Path(file).open("rb") as handle:
            return handle.read(limit)
    except OSError as exc:
        raise UsageProblem(f"cannot read {file}: {exc.strerror or exc}") from exc


def _chain_facts(
    rpc: str | None, registry: str | None, chain_id: int | None, trust_document: bool, data: bytes
) -> ChainFacts | None:
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
        registry = (proof_of(parse_json(data)) or {})["registry"]
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
        if summary.signing_key is not None:
            facts.add_row("Signed by", f"{summary.signing_key} (Ed25519, Data Integrity eddsa-rdfc-2022)")
        facts.add_row("Credits", f"{summary.ects:g} ECTS, EQF level {summary.eqf_level}, {summary.theme}")
        facts.add_row(
            "Valid", f"from {summary.valid_from}" + (f" until {summary.valid_until}" if summary.valid_until else "")
        )
        for name, value in summary.disclosed.items():
            facts.add_row(f"Disclosed {name}", _show_value(value))
    if report.anchor is not None:
        anchor = report.anchor
        facts.add_row("Anchored", f"chain {anchor.chain_id}, registry {anchor.registry}")
        facts.add_row("Root", anchor.merkle_root)
        if anchor.transaction_hash is not None:  # only what the chain confirmed is shown as the transaction
            facts.add_row(
                "Transaction",
                f"{anchor.transaction_hash} in block {anchor.anchored_in_block}"
                + (" (relayed)" if anchor.relayed else ""),
            )
        else:
            facts.add_row("Transaction", f"not confirmed (the document claims {anchor.claimed_transaction_hash})")
    clock = "this computer's clock" if report.clock == "local" else "the moment given with --at"
    facts.add_row("Checked at", f"{report.checked_at} ({clock})")
    console.print(facts)


@app.command()
def verify(
    file: Annotated[
        str,
        typer.Argument(
            help="The credential (JSON), a certificate PDF of the hub (its embedded credential is verified "
            "and what it prints compared with it) or a baked badge (PNG, SVG); - reads standard input."
        ),
    ],
    rpc: Annotated[
        str | None,
        typer.Option(
            "--rpc",
            envvar="HUB_RPC_URL",
            help="JSON-RPC URL of any node of the chain the credential is anchored on.",
        ),
    ] = None,
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            envvar="HUB_REGISTRY_ADDRESS",
            help="The hub's CredentialRegistry address to trust.",
        ),
    ] = None,
    chain_id: Annotated[
        int | None,
        typer.Option(
            "--chain-id",
            envvar="HUB_CHAIN_ID",
            help="Refuse to run unless the node is this chain.",
        ),
    ] = None,
    trust_document: Annotated[
        bool,
        typer.Option(
            "--trust-document",
            help="Without --registry, rely on the registry the credential names.",
        ),
    ] = False,
    email: Annotated[
        str | None,
        typer.Option(
            "--email",
            help="Also check that the credential was issued to this email address (the copy must "
            "disclose its identifier: present -d identifier).",
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Judge the validity period at this moment (e.g. 2027-01-01T00:00:00Z) instead of this "
            "computer's clock.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Verify a credential: print the report; exit 0 valid, 1 not valid, 2 unusable input."""
    console = Console(soft_wrap=False, highlight=False)
    try:
        moment = parse_datetime(at) if at is not None else None
    except ValueError as exc:
        usage_problem(str(exc), as_json)
    from service.documents.badge import NotBaked, looks_baked, unbake
    from service.documents.carrier import MAX_PDF_BYTES, CarrierError, compare_print, extract_credential, print_check

    carried = None
    try:
        data = _read(file, MAX_PDF_BYTES + 1)
        if data.lstrip()[:5] == b"%PDF-":
            try:
                carried = extract_credential(data)
            except CarrierError as exc:
                raise UsageProblem(f"{file}: {exc}") from exc
            data = carried.credential
        elif looks_baked(data):
            try:
                data = unbake(data)
            except NotBaked as exc:
                raise UsageProblem(f"{file}: this image carries no credential: {exc}") from exc
        facts = _chain_facts(rpc, registry, chain_id, trust_document, data)
    except UsageProblem as exc:
        usage_problem(str(exc), as_json)
    report = verify_credential(data, facts, now=moment, recipient_email=email)
    with i18n.use("en"):  # `hub verify` speaks English: the facts' labels too
        printed = compare_print(carried.text, json.loads(data)) if carried is not None and report.usable else None
    if as_json:
        body = json.loads(report.to_json_text())
        if printed is not None:
            body["valid"] = body["valid"] and printed.matches
            body["checks"].append(print_check(printed))
            body["printed"] = [
                {"label": f.label, "printed": f.printed, "credential": f.credential, "matches": f.matches}
                for f in printed.facts
            ]
        typer.echo(json.dumps(body, ensure_ascii=False))
    else:
        _print_report(console, report, "<stdin>" if file == "-" else file)
        if printed is not None:
            _print_comparison(console, printed)
        if facts is None and report.usable:
            console.print(
                "No chain asked: pass --rpc URL and --registry ADDRESS to check anchoring and revocation.",
                style="yellow",
            )
    code = _exit_code(report)
    raise typer.Exit(EXIT_INVALID if code == EXIT_VALID and printed is not None and not printed.matches else code)


def _print_comparison(console: Console, printed: Any) -> None:
    """What a certificate PDF prints beside what its embedded credential says."""
    table = Table(show_header=True, header_style="bold", expand=False, title="The PDF beside its credential")
    table.add_column("Fact")
    table.add_column("Printed on the PDF", overflow="fold")
    table.add_column("In the credential", overflow="fold")
    table.add_column("Match")
    for fact in printed.facts:
        table.add_row(
            fact.label,
            fact.printed if fact.printed is not None else "(not printed)",
            fact.credential if fact.credential is not None else "(not in the credential)",
            Text("same", style="green") if fact.matches else Text("DIFFERS", style="bold red"),
        )
    console.print(table)
    if not printed.matches:
        console.print(
            "The PDF was changed: what it prints is not what its credential says. Rely only on the credential.",
            style="bold red",
        )


@app.command()
def present(
    file: Annotated[str, typer.Argument(help="The holder's full credential (JSON); - reads standard input.")],
    disclose: Annotated[
        list[str] | None,
        typer.Option(
            "--disclose",
            "-d",
            help="A claim to disclose (repeat for more): name, identifier (the hashed email), "
            "result (the grade; grade is accepted for it), ...; the others are withheld. None by default: "
            "the copy then holds nothing personal.",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of standard output.")
    ] = None,
) -> None:
    """Make the copy to share: keep only the chosen disclosures (the anchored body is unchanged)."""
    try:
        document = parse_json(_read(file))
        if not isinstance(document, dict):
            raise UsageProblem("the credential must be a JSON object")
        shared = select_disclosures(document, disclose or [])
    except (UsageProblem, InputError) as exc:
        usage_problem(str(exc), False)
    except KeyError as exc:
        usage_problem(str(exc.args[0]), False)
    text = json.dumps(shared, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
