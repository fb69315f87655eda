"""`hub keys`: the hub service's API keys (create, list, revoke) in the database of HUB_DATABASE_URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from eth_utils import is_address
from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

from service.cli.app import UsageProblem, app, fail_unusable, load_settings

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


@contextmanager
def _key_store(existing: bool = False) -> Iterator[Session]:
    """A session on the hub's database (Settings().database_url), migrated to the newest schema first;
    committed at the end. Any failure to open it is a UsageProblem; so is, with `existing`, a SQLite file that
    is not there (listing or revoking keys in a database this command would create is a wrong setting)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from service.db.migrate import migrate
    from service.db.session import make_engine, make_sessionmaker, transaction

    settings = load_settings()
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
    from service.chain.keys import KeyConfigurationError, refuse_well_known
    from service.errors import HubError
    from service.web.acts import create_key
    from service.web.audit import Actor

    try:
        chain_id = load_settings().chain_id
        if address and chain_id is not None and role != KeyRole.admin and is_address(address):
            refuse_well_known(address, chain_id, f"the {role.value}'s account")
        with _key_store() as session:
            token, record = create_key(session, Actor.cli(), role.value, name, address)
            key_id, holder, account = record.id, record.name, record.address
    except (UsageProblem, HubError, KeyConfigurationError) as exc:
        fail_unusable(str(exc))
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
        fail_unusable(str(exc))
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
    from service.db.models import ID_MAX, ApiKey
    from service.errors import HubError
    from service.web.acts import revoke_key
    from service.web.audit import Actor

    try:
        with _key_store(existing=True) as session:
            existing = session.get(ApiKey, key_id) if 0 < key_id <= ID_MAX else None
            already = existing.revoked_at if existing is not None else None
            record = revoke_key(session, Actor.cli(), key_id)
            role, holder, revoked_at = record.role, record.name, record.revoked_at
    except (UsageProblem, HubError) as exc:
        fail_unusable(str(exc))
    console = Console(highlight=False)
    if already is not None:
        console.print(f"API key {key_id} ({role}, {holder}) was already revoked on {_when_text(already)}.")
    else:
        console.print(
            f"Revoked API key {key_id} ({role}, {holder}) at {_when_text(revoked_at)}: requests with it now get 401."
        )
