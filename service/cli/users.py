"""`hub users`: the people who sign in to the consoles (create → invitation link, list, reset, disable) and the
audit log (log), in the database of HUB_DATABASE_URL, as `hub keys` does. The same functions as the admin console
(service.web.acts): each act writes its audit line, naming "cli" and the OS user. The invitation link is built on
HUB_PUBLIC_URL and printed once."""

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
    "list, reset, disable; log (the audit log). Uses HUB_DATABASE_URL and HUB_PUBLIC_URL.",
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
    from service.web import acts, signin
    from service.web.audit import Actor

    try:
        public_url = load_settings().public_url
        with i18n.use("en"), _key_store() as session:
            account, token = acts.invite(session, Actor.cli(), email, name, role.value, address)
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
    from service.web import acts, signin
    from service.web.audit import Actor

    try:
        public_url = load_settings().public_url
        with i18n.use("en"), _key_store(existing=True) as session:
            found = signin.find_account(session, account)
            view, token = acts.reset(session, Actor.cli(), found.id)
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
    from service.web import acts, signin
    from service.web.audit import Actor

    try:
        with i18n.use("en"), _key_store(existing=True) as session:
            found = signin.find_account(session, account)
            view = acts.disable(session, Actor.cli(), found.id)
    except (UsageProblem, signin.AccountProblem) as exc:
        fail_unusable(str(exc))
    Console(highlight=False).print(f"Disabled account {view.id} ({view.name} <{view.email}>): every session has ended.")


def _act_names() -> str:
    from service.web.audit import Act

    return ", ".join(act.value for act in Act)


@users_app.command("log")
def users_log(
    act: Annotated[
        str | None, typer.Option("--act", help="Only this act (account-invited, password-reset, key-created, ...).")
    ] = None,
    account: Annotated[
        str | None,
        typer.Option("--account", help="Only what this account (id or e-mail address) did or underwent."),
    ] = None,
    page: Annotated[int, typer.Option("--page", min=1, help="Which page, newest first (1 is the newest).")] = 1,
    size: Annotated[int, typer.Option("--size", min=1, max=1000, help="Lines a page.")] = 50,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the page, with its number and the total).")
    ] = False,
) -> None:
    """The audit log of admin and account acts, newest first: when (UTC), who (an account's e-mail address, or
    cli:<OS user>), what, to which account/key/programme, from which client address."""
    import json

    from service import i18n
    from service.web import audit, signin

    try:
        chosen = None
        if act is not None:
            try:
                chosen = audit.Act(act.strip().lower())
            except ValueError as exc:
                raise UsageProblem(f"--act: there is no act {act!r}; the acts are {_act_names()}") from exc
        with i18n.use("en"), _key_store(existing=True) as session:
            account_id = signin.find_account(session, account).id if account is not None else None
            found = audit.entries(session, act=chosen, account_id=account_id, page=page, size=size)
    except (UsageProblem, signin.AccountProblem) as exc:
        fail_unusable(str(exc))
    if as_json:
        body = {
            "entries": [entry.as_json() for entry in found.entries],
            "page": found.number,
            "pages": found.pages,
            "total": found.total,
        }
        typer.echo(json.dumps(body, indent=2, ensure_ascii=False))
        return
    console = Console(highlight=False)
    if not found.entries:
        console.print("No lines in the audit log" + (" for this filter." if act or account else " yet."))
        return
    table = Table(show_header=True, header_style="bold")
    for column in ("when (UTC)", "who", "act", "subject", "client"):
        table.add_column(column, overflow="fold")
    for entry in found.entries:
        if entry.actor_kind is audit.ActorKind.STAFF:
            who = entry.actor_name
        elif entry.actor_kind is audit.ActorKind.KEY:
            who = f"key {entry.actor_id} ({entry.actor_name})"
        else:
            who = f"{entry.actor_kind}:{entry.actor_name}"
        subject = f"{entry.subject_kind} {entry.subject_id or '?'}" + (
            f" ({entry.subject_name})" if entry.subject_name else ""
        )
        table.add_row(f"{entry.at:%Y-%m-%d %H:%M:%S}", who, str(entry.act), subject, entry.client_address or "")
    console.print(table)
    lines = "line" if found.total == 1 else "lines"
    console.print(f"Page {found.number} of {found.pages} ({found.total} {lines}).", style="dim")
