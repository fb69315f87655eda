"""`hub worker` and `hub db`: running the background work, and the database schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy import Engine

from service.cli.app import EXIT_INVALID, UsageProblem, app, load_settings, print_summary, usage_problem

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

    settings = load_settings()
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
        usage_problem(str(exc), False)
    console = Console(highlight=False, soft_wrap=True)
    print_summary(
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
        usage_problem(str(exc), False)
    head = head_revision()
    console = Console(highlight=False, soft_wrap=True)
    print_summary(console, [("Database", where), ("Revision", _revision_text(current, head)), ("Needed", head)])
    if current != head:
        console.print("Not the newest schema: run 'hub db upgrade'.", style="yellow")
        raise typer.Exit(EXIT_INVALID)
