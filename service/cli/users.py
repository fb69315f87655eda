"""`hub users`: the people who sign in to the consoles (create → invitation link, list, reset, disable), in the
database of HUB_DATABASE_URL, as `hub keys` does. The same functions as the admin console
(service.web.signin); the invitation link is built on HUB_PUBLIC_URL and printed once."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from service.cli.app import UsageProblem, app, fail_unusable, load_settings
from service.cli.keys import _key_store, _when_text

users_app = typer.Typer(
    name="users",
    help="Accounts for the consoles (partner staff, board members, admins): create (invitation link shown once), "
    "list, reset, disable. Uses HUB_DATABASE_URL and HUB_PUBLIC_URL.",
    no_args_is_help=True,
)
app.add_typer(users_app)


class UserRole(StrEnum):
    partner = "partner"
    board = "board"
    admin = "admin"


def _print_link(console: Console, link: str, days: int) -> None:
    typer.echo(link)
    console.print(
        f"This is the only time the invitation link is shown: send it to the person in a safe way. It works once, "
        f"for {days} days; 'hub users reset' makes a new one."
    )


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option("--email", help="The person's e-mail address (their sign-in name).")],
    name: Annotated[str, typer.Option("--name", help='The person\'s name, e.g. "Sanne Bakker".')],
    role: Annotated[
        UserRole,
        typer.Option(
            "--role", help="partner (a partner's staff), board (a board member) or admin.", case_sensitive=False
        ),
    ],
    address: Annotated[
        str | None,
        typer.Option("--address", help="The partner's issuing account, or the board member's account (0x...)."),
    ] = None,
) -> None:
    """Create an account and print its invitation link once (the person sets a password with it; board members
    and admins then set up a code app)."""
    from service import i18n
    from service.web import signin

    try:
        public_url = load_settings().public_url
        with i18n.use("en"), _key_store() as session:
            account, token = signin.create_account(session, email, name, role.value, address)
    except (UsageProblem, signin.AccountProblem) as exc:
        fail_unusable(str(exc))
    console = Console(highlight=False)
    console.print(
        f"Created account [bold]{account.id}[/bold] ({account.role.value}) for {account.name} <{account.email}>."
    )
    _print_link(console, signin.invitation_url(public_url, token), signin.INVITATION_LIFETIME.days)


@users_app.command("list")
def users_list() -> None:
    """List the accounts and their state (invited, active, disabled)."""
    from service.web import signin

    try:
        with _key_store(existing=True) as session:
            accounts = signin.list_accounts(session)
    except UsageProblem as exc:
        fail_unusable(str(exc))
    console = Console(highlight=False)
    if not accounts:
        console.print("No accounts yet: create one with 'hub users create --role admin --email ... --name ...'.")
        return
    table = Table(show_header=True, header_style="bold")
    for column in ("id", "email", "name", "role", "address", "state", "created"):
        table.add_column(column, justify="right" if column == "id" else "left", overflow="fold")
    for account in accounts:
        table.add_row(
            str(account.id),
            account.email,
            account.name,
            account.role.value,
            account.address or "",
            account.state.value,
            _when_text(account.created_at),
        )
    console.print(table)


@users_app.command("reset")
def users_reset(
    account: Annotated[str, typer.Argument(help="The account's id or e-mail address (see 'hub users list').")],
) -> None:
    """Take the account's password and code app away, end all its sessions, and print a new invitation link."""
    from service import i18n
    from service.web import signin

    try:
        public_url = load_settings().public_url
        with i18n.use("en"), _key_store(existing=True) as session:
            found = signin.find_account(session, account)
            view, token = signin.reset_account(session, found.id)
    except (UsageProblem, signin.AccountProblem) as exc:
        fail_unusable(str(exc))
    console = Console(highlight=False)
    console.print(
        f"Reset account {view.id} ({view.name} <{view.email}>): its password and code app are gone and every "
        "session has ended."
    )
    _print_link(console, signin.invitation_url(public_url, token), signin.INVITATION_LIFETIME.days)


@users_app.command("disable")
def users_disable(
    account: Annotated[str, typer.Argument(help="The account's id or e-mail address (see 'hub users list').")],
) -> None:
    """Disable an account for good: it cannot sign in, its sessions and invitation end."""
    from service import i18n
    from service.web import signin

    try:
        with i18n.use("en"), _key_store(existing=True) as session:
            found = signin.find_account(session, account)
            view = signin.disable_account(session, found.id)
    except (UsageProblem, signin.AccountProblem) as exc:
        fail_unusable(str(exc))
    Console(highlight=False).print(f"Disabled account {view.id} ({view.name} <{view.email}>): every session has ended.")
