"""The `hub` application: its exit codes and the error for unusable input, shared by every command group."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

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


class UsageProblem(Exception):
    """The input or options cannot be used (exit 2)."""


@app.callback()
def main() -> None:
    """IT Hub Hoogeveen credentials: verify them with public tools alone."""


def usage_problem(message: str, as_json: bool) -> NoReturn:
    if as_json:
        typer.echo(json.dumps({"valid": False, "error": message}))
    else:
        Console(stderr=True, highlight=False).print(Text(f"error: {message}", style="red"))
    raise typer.Exit(EXIT_UNUSABLE)


def load_settings() -> Any:
    """The HUB_* settings. :raises UsageProblem: they are not valid (the message shows no secret)."""
    from pydantic import ValidationError

    from service.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        raise UsageProblem(f"the HUB_* settings are not valid: {exc.errors()[0]['msg']}") from exc


def fail_unusable(message: str) -> NoReturn:
    Console(stderr=True, highlight=False).print(Text(f"error: {message}", style="red"))
    raise typer.Exit(EXIT_UNUSABLE)


def write_private(path: Path, text: str) -> None:
    """Write `text` to a new file only its owner may read (it holds the graduates' personal links)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def print_summary(console: Console, rows: list[tuple[str, str]]) -> None:
    """A two-column summary whose values are never wrapped or cut (hashes and paths are copied whole)."""
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        console.print(Text.assemble((f"{label:<{width}}", "bold"), "  ", value))
