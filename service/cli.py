"""`hub`: verify an IT Hub Hoogeveen credential from the command line, with no hub service involved.

    python -m service.cli verify credential.json --rpc http://127.0.0.1:8545 --registry 0x...
    python -m service.cli verify - --json < credential.json
    python -m service.cli present credential.json --disclose name -o shared.json

API keys of the hub service (the database of HUB_DATABASE_URL, migrated first):

    python -m service.cli keys create --role issuer --name "Hanzehogeschool Groningen" --address 0x...
    python -m service.cli keys list
    python -m service.cli keys revoke 3

Keystores of the partners and members the service signs for (HUB_KEYSTORE_DIR, HUB_KEYSTORE_PASSWORD):

    python -m service.cli keystore import --chain-id 11155111 < key.txt   # writes <address>.json, encrypted
    python -m service.cli keystore signing-key create --address 0x... --chain-id 11155111   # Ed25519, signing/
    python -m service.cli keystore signing-key import --address 0x... --chain-id 11155111 < ed25519.hex

Cohorts, over the hub service's HTTP API with an issuing partner's key (--url/HUB_API_URL, --key/HUB_API_KEY):

    python -m service.cli cohort import docs/examples/cohort.csv --key hub_...   # one batch, one transaction
    python -m service.cli cohort export BATCH_ID --out cohort/ --key hub_...      # <id>.json + <id>.pdf each

`cohort` exits 0 when done, 1 when the service refuses (its problem detail is printed) or the batch is not
anchored in time, 2 for unusable input (an unreadable file, a CSV row the service refuses: nothing is
issued and each bad row is named with its line, an unreachable service).

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
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from eth_utils import is_address, to_checksum_address
from rich.console import Console
from rich.table import Table
from rich.text import Text

from service import i18n
from service.credentials.canonical import MAX_CREDENTIAL_BYTES, InputError, parse_json, proof_of
from service.credentials.disclosure import claim_name, select_disclosures
from service.credentials.document import parse_datetime
from service.credentials.facts import ChainFacts, ChainUnavailable, RegistryTrust
from service.credentials.verifier import Status, VerificationReport, verify_credential

if TYPE_CHECKING:
    from sqlalchemy import Engine
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
        _usage_problem(str(exc), as_json)
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
        _usage_problem(str(exc), as_json)
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


def _usage_problem(message: str, as_json: bool) -> NoReturn:
    if as_json:
        typer.echo(json.dumps({"valid": False, "error": message}))
    else:
        Console(stderr=True, highlight=False).print(Text(f"error: {message}", style="red"))
    raise typer.Exit(EXIT_UNUSABLE)


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


class KeyRole(StrEnum):
    admin = "admin"
    issuer = "issuer"
    member = "member"


def _settings() -> Any:
    """The HUB_* settings. :raises UsageProblem: they are not valid (the message shows no secret)."""
    from pydantic import ValidationError

    from service.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        raise UsageProblem(f"the HUB_* settings are not valid: {exc.errors()[0]['msg']}") from exc


@contextmanager
def _key_store(existing: bool = False) -> Iterator[Session]:
    """A session on the hub's database (Settings().database_url), migrated to the newest schema first;
    committed at the end. Any failure to open it is a UsageProblem; so is, with `existing`, a SQLite file that
    is not there (listing or revoking keys in a database this command would create is a wrong setting)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from service.db.migrate import migrate
    from service.db.session import make_engine, make_sessionmaker, transaction

    settings = _settings()
    if existing:
        try:
            url = make_url(settings.database_url)
        except ArgumentError as exc:
            raise UsageProblem(f"HUB_DATABASE_URL is not a database URL: {exc}") from exc
        file = url.database
        if (
            url.get_backend_name() == "sqlite"
            and file
            and file != ":memory:"
            and not Path(file).exists()
            and Path(file).parent.is_dir()
        ):
            raise UsageProblem(
                f"there is no hub database at {Path(file).resolve()} (HUB_DATABASE_URL="
                f"{url.render_as_string(hide_password=True)}, run from {Path.cwd()}): point HUB_DATABASE_URL at "
                "the hub's database (with docker compose: 'docker compose exec api-1 hub keys ...'), or create "
                "this one with 'hub db upgrade' or 'hub keys create --role admin --name ...'"
            )
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
    role: Annotated[
        KeyRole,
        typer.Option("--role", help="admin, issuer (an issuing partner) or member (board).", case_sensitive=False),
    ],
    name: Annotated[str, typer.Option("--name", help='The holder, e.g. "Hanzehogeschool Groningen".')],
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            help="The issuer's issuing account or the member's board account (0x...); not for admin.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print the key only.")] = False,
) -> None:
    """Create an API key and print it once: the hub keeps only its hash.

    With HUB_CHAIN_ID naming a chain that is not a local development chain, an account whose private key
    development tools publish is refused (anyone could sign as that partner or member)."""
    from service.auth import create_key
    from service.chain.keys import KeyConfigurationError, refuse_well_known
    from service.errors import HubError

    try:
        chain_id = _settings().chain_id
        if address and chain_id is not None and role != KeyRole.admin and is_address(address):
            refuse_well_known(address, chain_id, f"the {role.value}'s account")
        with _key_store() as session:
            token, record = create_key(session, role.value, name, address)
            key_id, holder, account = record.id, record.name, record.address
    except (UsageProblem, HubError, KeyConfigurationError) as exc:
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
        with _key_store(existing=True) as session:
            records = list_keys(session)
    except UsageProblem as exc:
        _key_error(str(exc))
    console = Console(highlight=False)
    if not records:
        console.print("No API keys yet: create one with 'hub keys create --role admin --name ...'.")
        return
    rows = [
        (
            str(record.id),
            record.role,
            record.name,
            record.address or "",
            record.prefix + "…",
            _when_text(record.created_at),
            _when_text(record.revoked_at),
        )
        for record in records
    ]
    headers = ("id", "role", "name", "address", "prefix", "created", "revoked")
    widths = [max(len(header), *(len(row[i]) for row in rows)) for i, header in enumerate(headers)]
    table = Table(show_header=True, header_style="bold")
    if sum(widths) + 3 * len(widths) + 1 <= console.width:
        for column in headers:
            table.add_column(column, justify="right" if column == "id" else "left", no_wrap=True)
        for row in rows:
            table.add_row(*row[:6], Text(row[6], style="red"))
    else:  # narrow: id, role and name first and whole; the account, prefix and times stacked beside them
        table.add_column("id", justify="right", no_wrap=True)
        table.add_column("role", no_wrap=True)
        table.add_column("name / address", overflow="fold", ratio=3)
        table.add_column("prefix / created / revoked", overflow="fold", ratio=2)
        for key_id, role, name, address, prefix, created, revoked in rows:
            when = Text(f"{prefix}\n{created}")
            if revoked:
                when.append(f"\nrevoked {revoked}", style="red")
            table.add_row(key_id, role, name + (f"\n{address}" if address else ""), when)
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="The key's id (see 'hub keys list').")]) -> None:
    """Revoke an API key: requests with it get 401 from now on."""
    from service.auth import revoke_key
    from service.db.models import ApiKey
    from service.errors import HubError

    try:
        with _key_store(existing=True) as session:
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
        console.print(
            f"Revoked API key {key_id} ({role}, {holder}) at {_when_text(revoked_at)}: requests with it now get 401."
        )


# ---------------------------------------------------------------- hub cohort (over the service's HTTP API)


cohort_app = typer.Typer(
    name="cohort",
    help="Issue a cohort from a CSV file and export a cohort's credentials (JSON + PDF), over the hub "
    "service's HTTP API with an issuing partner's key (HUB_API_URL, HUB_API_KEY).",
    no_args_is_help=True,
)
app.add_typer(cohort_app)

COHORT_CSV_HELP = (
    "The cohort as CSV: a header row, then one row per graduate. Columns: programme_id, email, name "
    '(required), result (the grade, Dutch scale 1.0-10.0, e.g. 8.5 or "8,5"; disclosed as result; a column '
    "named grade is accepted for it), valid_from, valid_until (ISO dates); "
    "',' or ';' separated, UTF-8. Sample: docs/examples/cohort.csv."
)
ApiUrl = Annotated[str, typer.Option("--url", envvar="HUB_API_URL", help="The hub service's URL.")]
ApiKey = Annotated[
    str,
    typer.Option(
        "--key", envvar="HUB_API_KEY", help="The issuing partner's API key (shown once by 'hub keys create')."
    ),
]


class ApiRefused(Exception):
    """The service answered with a problem (HTTP 4xx/5xx)."""

    def __init__(self, response: Any) -> None:
        try:
            body = response.json()
        except ValueError:
            body = {}
        self.status: int = response.status_code
        self.body: dict[str, Any] = body if isinstance(body, dict) else {}
        detail = self.body.get("detail")
        self.detail = detail if isinstance(detail, str) else (response.text[:500] or response.reason_phrase)
        super().__init__(self.detail)


def _api_client(url: str, key: str, timeout: float) -> Any:
    import httpx

    if not url.startswith(("http://", "https://")):
        raise UsageProblem(f"--url {url!r} is not an http(s) URL")
    if not key.strip():
        raise UsageProblem("an API key is needed: --key or HUB_API_KEY")
    return httpx.Client(base_url=url.rstrip("/"), timeout=timeout, headers={"Authorization": f"Bearer {key.strip()}"})


def _api_call(client: Any, method: str, path: str, **kwargs: Any) -> Any:
    """The response of a successful request; UsageProblem when the service cannot be reached, ApiRefused for
    a problem answer."""
    import httpx

    try:
        response = client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        raise UsageProblem(f"cannot reach the hub service at {client.base_url}: {exc or type(exc).__name__}") from exc
    if response.status_code >= 400:
        raise ApiRefused(response)
    return response


def _refused(console: Console, exc: ApiRefused, what: str) -> NoReturn:
    title = exc.body.get("title") or "refused"
    console.print(Text(f"error: {what}: {exc.status} {title}: {exc.detail}", style="red"))
    raise typer.Exit(EXIT_INVALID)


def _get_or_exit(client: Any, path: str, progress: Any, console: Console, what: str) -> Any:
    """The JSON answer to GET `path` while `progress` shows; a refusal or a service out of reach stops the
    progress display, prints `error: {what}: ...` and exits 1."""
    try:
        return _api_call(client, "GET", path).json()
    except (ApiRefused, UsageProblem) as exc:
        progress.stop()
        console.print(Text(f"error: {what}: {exc}", style="red"))
        raise typer.Exit(EXIT_INVALID) from None


def _progress(console: Console) -> Any:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _row_count(data: bytes) -> int:
    """The data rows of a CSV (after the header, empty lines skipped), for the progress bar only."""
    lines = [line for line in data.decode("utf-8", errors="replace").splitlines() if line.strip()]
    return max(len(lines) - 1, 0)


def _write_private(path: Path, text: str) -> None:
    """Write `text` to a new file only its owner may read (it holds the graduates' holder tokens)."""
    import os

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


@cohort_app.command("import")
def cohort_import(
    file: Annotated[Path, typer.Argument(help=COHORT_CSV_HELP)],
    url: ApiUrl = "http://127.0.0.1:8000",
    key: ApiKey = "",
    links: Annotated[
        Path | None,
        typer.Option(
            "--links",
            help="Where to write each graduate's share URL and holder token (CSV, new file; default "
            "<FILE stem>-issued-<batch>.csv in the current folder).",
        ),
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="Seconds to wait for the anchoring.")] = 120,
) -> None:
    """Issue a cohort from CSV: one batch, anchored on chain in one transaction. A bad row refuses the whole
    import (nothing is issued) and is named with its line. Importing the same file again with the same key
    issues nothing: it says which batch it was imported as, and writes the links file again. Exit 0 anchored,
    1 refused (e.g. the key may not issue) or not anchored in time, 2 unusable input: an unreadable file, an
    unreachable service, or rows the service refuses (each named with its line; nothing is issued)."""
    import csv
    import io
    import time

    from service.issuing.requests import csv_cell

    console = Console(highlight=False, soft_wrap=True)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise UsageProblem(f"cannot read {file}: {exc.strerror or exc}") from exc
        if links is not None and (links.exists() or not links.parent.is_dir()):
            raise UsageProblem(
                f"--links {links}: "
                + (
                    "the file exists (it would lose the holder tokens it holds)"
                    if links.exists()
                    else "its folder does not exist"
                )
            )
        client = _api_client(url, key, 60)
    except UsageProblem as exc:
        _usage_problem(str(exc), False)
    rows = _row_count(data)
    with client, _progress(errors) as progress:
        try:
            upload = progress.add_task(f"Checking and storing {rows} rows", total=rows or 1)
            answer = _api_call(
                client,
                "POST",
                "/credentials/batch",
                content=data,
                headers={"Content-Type": "text/csv", "Idempotency-Key": _import_key(key, data)},
            )
            accepted = answer.json()
            progress.update(upload, completed=rows or 1)
        except ApiRefused as exc:
            progress.stop()
            _cohort_refused(errors, exc, file)
        except UsageProblem as exc:
            progress.stop()
            _usage_problem(str(exc), False)
        batch_id = accepted["id"]
        replayed = answer.headers.get("Idempotent-Replayed") == "true"  # the service's answer to the first import
        path = links or Path(f"{file.stem}-issued-{batch_id[:8]}.csv")
        table = io.StringIO()
        writer = csv.writer(table, lineterminator="\n")
        writer.writerow(["row", "line", "email", "credential_id", "share_url", "holder_token"])
        for item in accepted["credentials"]:
            writer.writerow(
                [
                    csv_cell(value)
                    for value in (
                        item["row"],
                        item["row"] + 1,
                        item["email"],
                        item["id"],
                        item["share_url"],
                        item["holder_token"],
                    )
                ]
            )
        try:
            if not (replayed and path.exists() and path.read_text(encoding="utf-8") == table.getvalue()):
                _write_private(path, table.getvalue())
        except OSError as exc:
            progress.stop()
            errors.print(
                Text(
                    f"error: cannot write {path}: {exc.strerror or exc}; the batch {batch_id} was "
                    "accepted: its share URLs and holder tokens follow (shown only now)",
                    style="red",
                )
            )
            typer.echo(table.getvalue(), err=True)
            raise typer.Exit(EXIT_INVALID) from None
        anchoring = progress.add_task("Anchoring on chain (one transaction)", total=1)
        deadline = time.monotonic() + timeout
        while True:
            batch = _get_or_exit(client, f"/batches/{batch_id}", progress, errors, f"cannot follow batch {batch_id}")
            if batch["status"] in ("anchored", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if batch["status"] == "anchored":
            progress.update(anchoring, completed=1)
    if batch["status"] != "anchored":
        why = batch.get("error") or ("no error reported" if batch["status"] != "failed" else "unknown")
        errors.print(
            Text(
                f"error: batch {batch_id} is {batch['status']} after {timeout:g} s ({why}). Its "
                f"{batch['count']} credentials are stored; share URLs and holder tokens are in {path}. "
                f"Follow it with GET /batches/{batch_id}.",
                style="red",
            )
        )
        raise typer.Exit(EXIT_INVALID)
    if replayed:
        console.print(
            Text(
                f"{file} was already imported as batch {batch_id}: nothing was issued again; its share "
                "links are written again",
                style="yellow",
            )
        )
    _summary(
        console,
        [
            ("Issued", f"{batch['count']} credentials, anchored in one transaction"),
            ("Batch", batch_id),
            ("Merkle root", batch["root"]),
            ("Transaction", f"{batch['transaction_hash']} (block {batch['block_number']})"),
            (
                "Share links",
                f"{path} (share URL and holder token per graduate; the tokens are shown only now: give "
                "each graduate theirs)",
            ),
        ],
    )
    console.print(f"Export the credentials with: hub cohort export {batch_id} --out DIR", style="dim")


def _import_key(api_key: str, data: bytes) -> str:
    """The Idempotency-Key of an import: from the partner's API key and the file, so that importing the same file
    again issues nothing (the service replays its first answer) and two partners importing one file do not
    meet. A quoted string, as the header's draft has it."""
    import hashlib

    return '"' + hashlib.sha256(b"hub cohort import\0" + api_key.strip().encode() + b"\0" + data).hexdigest() + '"'


def _summary(console: Console, rows: list[tuple[str, str]]) -> None:
    """A two-column summary whose values are never wrapped or cut (hashes and paths are copied whole)."""
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        console.print(Text.assemble((f"{label:<{width}}", "bold"), "  ", value))


def _cohort_refused(console: Console, exc: ApiRefused, file: Path) -> NoReturn:
    """A refused import: a problem with its rows is unusable input (exit 2); anything else exit 1."""
    listed = exc.body.get("errors")
    problems: list[Any] = listed if isinstance(listed, list) else []
    rowed = [p for p in problems if isinstance(p, dict) and "row" in p]
    if not rowed and "row" in exc.body:
        rowed = [
            {
                "row": exc.body["row"],
                "line": exc.body.get("line"),
                "field": exc.body.get("field"),
                "message": exc.detail,
            }
        ]
    if not rowed and exc.status not in (400, 413, 422):
        _refused(console, exc, f"the import of {file} was refused")
    console.print(Text(f"error: the import of {file} was refused; nothing was issued.", style="red"))
    if not rowed:
        console.print(Text(f"  {exc.detail}", style="red"))
    for problem in rowed:
        line = problem.get("line") or problem["row"] + 1
        field = f" {problem['field']}:" if problem.get("field") else ""
        console.print(Text(f"  line {line} (row {problem['row']}):{field} {problem.get('message', '')}", style="red"))
    raise typer.Exit(EXIT_UNUSABLE)


@cohort_app.command("list")
def cohort_list(
    url: ApiUrl = "http://127.0.0.1:8000",
    key: ApiKey = "",
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many batches at most, newest first.")] = 20,
) -> None:
    """The issuing partner's batches, newest first: id, programme, count, status, created. Exit 0 listed,
    1 refused (e.g. not an issuer's key), 2 unusable input (an unreachable service)."""
    console = Console(highlight=False)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        client = _api_client(url, key, 60)
    except UsageProblem as exc:
        _usage_problem(str(exc), False)
    batches: list[dict[str, Any]] = []
    with client:
        path: str | None = f"/batches?limit={min(limit, 100)}"
        try:
            while path is not None and len(batches) < limit:
                page = _api_call(client, "GET", path).json()
                batches.extend(page["batches"])
                path = page.get("next")
        except ApiRefused as exc:
            _refused(errors, exc, "cannot list the batches")
        except UsageProblem as exc:
            _usage_problem(str(exc), False)
    if not batches:
        console.print("No batches yet: issue a cohort with 'hub cohort import FILE.csv'.")
        return
    shown = batches[:limit]
    names = [", ".join(batch["programmes"]) or "-" for batch in shown]
    # id, count, status and created never wrap (69 columns with the gaps); the programme goes beside them when
    # it fits, else under the id
    beside = 69 + 1 + max(len(name) for name in names) <= console.width
    table = Table(box=None, pad_edge=False, padding=(0, 1))
    table.add_column("Batch id" if beside else "Batch id / programme", no_wrap=beside, min_width=36, overflow="fold")
    if beside:
        table.add_column("Programme", no_wrap=True)
    table.add_column("Count", justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True, min_width=9)
    table.add_column("Created (UTC)", no_wrap=True)
    for batch, name in zip(shown, names, strict=True):
        first = [batch["id"], name] if beside else [f"{batch['id']}\n  {name}"]
        table.add_row(*first, str(batch["count"]), batch["status"], str(batch["created_at"])[:16].replace("T", " "))
    console.print(table)
    console.print("Export one with: hub cohort export BATCH_ID --out DIR", style="dim")


@cohort_app.command("export")
def cohort_export(
    batch_id: Annotated[str, typer.Argument(help="The batch id (printed by 'hub cohort import').")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The folder to write to (made if missing).")],
    url: ApiUrl = "http://127.0.0.1:8000",
    key: ApiKey = "",
    claims: Annotated[
        str,
        typer.Option(
            "--claims",
            help="The claims each certificate prints, comma separated: name, result (the grade; grade is accepted "
            "for it), or none. "
            "Each certificate's QR code opens a share link made for it that discloses exactly what "
            "it prints, so the page behind it confirms the printed name and grade.",
        ),
    ] = "name,result",
) -> None:
    """Export an anchored cohort: per credential <id>.json (the full credential, all its disclosures; verify
    it with 'hub verify') and <id>.pdf (the certificate, with the QR code of a share link made for it that
    discloses exactly the claims it prints). Exit 0 done, 1 refused (e.g. not this partner's batch, not
    anchored yet), 2 unusable input."""
    from service.documents import render_certificate
    from service.documents.certificate import PRINTED_CLAIMS, disclosed_claims

    console = Console(highlight=False, soft_wrap=True)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        wanted = (
            []
            if claims.strip().lower() == "none"
            else list(dict.fromkeys(claim_name(n.strip()) for n in claims.split(",") if n.strip()))
        )
        unknown = [name for name in wanted if name not in PRINTED_CLAIMS]
        if unknown:
            raise UsageProblem(
                f"--claims: a certificate cannot print {', '.join(unknown)}; choose from "
                f"{', '.join(PRINTED_CLAIMS)}, or none"
            )
        client = _api_client(url, key, 60)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageProblem(f"cannot make the folder {out}: {exc.strerror or exc}") from exc
    except UsageProblem as exc:
        _usage_problem(str(exc), False)
    revoked = 0
    with client:
        try:
            batch = _api_call(client, "GET", f"/batches/{batch_id}").json()
        except ApiRefused as exc:
            _refused(errors, exc, f"cannot read batch {batch_id}")
        except UsageProblem as exc:
            _usage_problem(str(exc), False)
        if batch["status"] != "anchored":
            errors.print(
                Text(
                    f"error: batch {batch_id} is {batch['status']}, not anchored: nothing to export"
                    + (f" ({batch.get('error')})" if batch["status"] == "failed" else " yet"),
                    style="red",
                )
            )
            raise typer.Exit(EXIT_INVALID)
        with _progress(errors) as progress:
            task = progress.add_task(f"Exporting {batch['count']} credentials", total=len(batch["credentials"]))
            for item in batch["credentials"]:
                credential = _get_or_exit(
                    client, f"/credentials/{item['id']}", progress, errors, f"cannot read credential {item['id']}"
                )
                document = credential["document"]
                status = None
                if credential.get("revoked"):
                    revoked += 1
                    status = f"Revoked ({(credential.get('revocation_reason') or '').replace('-', ' ')})"
                # The certificate's own share link: it discloses exactly what the certificate prints.
                has = disclosed_claims(document)
                try:
                    link = _api_call(
                        client,
                        "POST",
                        f"/credentials/{item['id']}/certificate-links",
                        json={"disclose": [name for name in wanted if name in has]},
                    ).json()
                except (ApiRefused, UsageProblem) as exc:
                    progress.stop()
                    errors.print(
                        Text(f"error: cannot make the certificate link of credential {item['id']}: {exc}", style="red")
                    )
                    raise typer.Exit(EXIT_INVALID) from None
                printed = select_disclosures(document, link["shared_claims"])
                try:
                    (out / f"{item['id']}.json").write_text(
                        json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
                    )
                    (out / f"{item['id']}.pdf").write_bytes(
                        render_certificate(printed, link["share_url"], status=status)
                    )
                except OSError as exc:
                    progress.stop()
                    errors.print(Text(f"error: cannot write to {out}: {exc.strerror or exc}", style="red"))
                    raise typer.Exit(EXIT_UNUSABLE) from None
                progress.advance(task)
    _summary(
        console,
        [
            ("Exported", f"{len(batch['credentials'])} credentials of batch {batch_id} ({revoked} revoked)"),
            ("Folder", f"{out}: <id>.json (the full credential) and <id>.pdf (the certificate)"),
            (
                "PDFs",
                f"print {', '.join(wanted) or 'no personal claim'} (when the credential has it); each QR code "
                "opens a share link made for its PDF that shows exactly that",
            ),
            ("Anchored", f"root {batch['root']}, transaction {batch['transaction_hash']}"),
        ],
    )
    console.print(f"Check one with: hub verify {out}/<id>.json --rpc <node> --registry <address>", style="dim")


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
        settings = _settings()
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
        _write_private(path, json_module.dumps(keystore))
    except (UsageProblem, KeyConfigurationError, OSError) as exc:
        _key_error(str(exc))
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
    from eth_utils import is_hex_address, to_checksum_address

    from service.chain.keys import KeyConfigurationError
    from service.issuing.signing_keys import (
        public_multibase,
        refuse_dev_signing_key,
        signing_keystore_path,
        write_signing_keystore,
    )

    console = Console(highlight=False)
    try:
        settings = _settings()
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
        _key_error(str(exc))
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


# ---------------------------------------------------------------- hub worker (the background work)


@app.command()
def worker() -> None:
    """Run the background work (event indexer, relayer, anchoring) as a process of its own.

    For a deployment of API replicas with HUB_RUN_WORKER=false beside one or more workers on one PostgreSQL
    database: one worker leads, another takes over within seconds when it dies. Settings: HUB_* variables.
    Stops on Ctrl-C or SIGTERM."""
    import logging

    from service.hub import StartupError
    from service.settings import Settings
    from service.worker import run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        run(Settings())
    except StartupError as exc:
        Console(stderr=True).print(f"The worker cannot start: {exc}", style="bold red")
        raise typer.Exit(1) from exc


# ---------------------------------------------------------------- hub db (the schema of HUB_DATABASE_URL)


db_app = typer.Typer(
    name="db",
    help="The schema of the hub service's database (HUB_DATABASE_URL): upgrade it, show its revision.",
    no_args_is_help=True,
)
app.add_typer(db_app)


@contextmanager
def _database() -> Iterator[Engine]:
    """An engine on the hub's database (Settings().database_url), disposed at the end; an unusable setting is a
    UsageProblem."""
    from sqlalchemy.exc import SQLAlchemyError

    from service.db.session import make_engine

    settings = _settings()
    try:
        engine = make_engine(settings.database_url)
    except (SQLAlchemyError, ValueError, OSError) as exc:
        raise UsageProblem(f"cannot open the database {settings.database_url}: {exc}") from exc
    try:
        yield engine
    finally:
        engine.dispose()


def _revision_text(revision: str | None, head: str) -> str:
    if revision is None:
        return "none (an empty database)"
    return f"{revision} (head)" if revision == head else revision


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema (creates it when empty) and print its revision before and
    after; at the newest already, nothing is done. Safe while services start or run on the same database (one
    migrates at a time). A service started with HUB_MIGRATE_AT_START=false needs this step first."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from service.db.migrate import current_revision, head_revision, migrate

    try:
        with _database() as engine:
            where = engine.url.render_as_string(hide_password=True)
            head = head_revision()
            try:
                before = current_revision(engine)
                migrate(engine)
                after = current_revision(engine)
            except (SQLAlchemyError, CommandError, OSError) as exc:
                raise UsageProblem(f"cannot upgrade the database {where}: {exc}") from exc
    except UsageProblem as exc:
        _usage_problem(str(exc), False)
    console = Console(highlight=False, soft_wrap=True)
    _summary(
        console,
        [
            ("Database", where),
            ("Before", _revision_text(before, head)),
            ("After", _revision_text(after, head) + (": nothing to do" if before == after else "")),
        ],
    )


@db_app.command("current")
def db_current() -> None:
    """Print the database's schema revision and the one this version of the service needs. Exit 0 when it is
    the newest, 1 when not (run 'hub db upgrade'), 2 when the database cannot be read."""
    from sqlalchemy.exc import SQLAlchemyError

    from service.db.migrate import current_revision, head_revision

    try:
        with _database() as engine:
            where = engine.url.render_as_string(hide_password=True)
            try:
                current = current_revision(engine)
            except SQLAlchemyError as exc:
                raise UsageProblem(f"cannot read the database {where}: {exc}") from exc
    except UsageProblem as exc:
        _usage_problem(str(exc), False)
    head = head_revision()
    console = Console(highlight=False, soft_wrap=True)
    _summary(console, [("Database", where), ("Revision", _revision_text(current, head)), ("Needed", head)])
    if current != head:
        console.print("Not the newest schema: run 'hub db upgrade'.", style="yellow")
        raise typer.Exit(EXIT_INVALID)


if __name__ == "__main__":
    app()
