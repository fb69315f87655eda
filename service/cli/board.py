"""`hub board meeting`: a board meeting over the service's HTTP API with a member's key (HUB_API_URL, HUB_API_KEY).

    hub board meeting open "Bestuursvergadering 12 maart"          # you are its secretary
    hub board meeting add 4 --kind resolution --title "Jaarrekening" --document jaarrekening.txt
    hub board meeting sign 4 1 for --reason "Akkoord"               # each member, with its own key
    hub board meeting sign 4 1 recused --reason "Ik werk bij deze partner"
    hub board meeting close 4                                       # one transaction on chain
    hub board meeting show 4 [--json]

Exit 0 done, 1 refused by the service (its problem detail is printed), 2 unusable input (an unreadable file, an
unreachable service).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from service.cli.app import UsageProblem, app, usage_problem
from service.cli.cohort import ApiKey, ApiRefused, ApiUrl, _api_call, _api_client, _refused

board_app = typer.Typer(name="board", help="The board, over the hub service's HTTP API.", no_args_is_help=True)
meeting_app = typer.Typer(
    name="meeting",
    help="A board meeting: open it, add proposals, sign ballots, close it (one transaction on chain), with a "
    "member's API key (HUB_API_URL, HUB_API_KEY). The member that opens a meeting is its secretary.",
    no_args_is_help=True,
)
board_app.add_typer(meeting_app)
app.add_typer(board_app)

CHOICES = ("for", "against", "abstain", "recused")


def _call(url: str, key: str, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        client = _api_client(url, key, 120)
        with client:
            answer: dict[str, Any] = _api_call(client, method, path, **kwargs).json()
            return answer
    except UsageProblem as exc:
        usage_problem(str(exc), False)
    except ApiRefused as exc:
        _refused(console, exc, what)


def _show(meeting: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(meeting, indent=2))
        return
    console = Console(highlight=False, soft_wrap=True)
    console.print(Text(f"Meeting {meeting['id']}: {meeting['title']} ({meeting['status']})"))
    console.print(f"Secretary {meeting['secretary']}; sign before {meeting['valid_until']} (chain time)")
    if meeting.get("tx_hash"):
        console.print(f"Recorded in transaction {meeting['tx_hash']} (block {meeting['block_number']})")
    for item in meeting["proposals"]:
        on_chain = f" -> proposal {item['proposal_id']}, {item['outcome']}" if item.get("proposal_id") else ""
        console.print(Text(f"{item['position']}. [{item['kind']}] {item['title']}{on_chain}"))
        table = Table("member", "choice", "reason", box=None, pad_edge=False)
        for ballot in item["ballots"]:
            table.add_row(ballot.get("name") or ballot["voter"], ballot["choice"], Text(ballot["reason"]))
        if item["ballots"]:
            console.print(table)


@meeting_app.command("open")
def meeting_open(
    title: Annotated[str, typer.Argument(help="The meeting's title.")],
    url: ApiUrl = "http://127.0.0.1:8000",
    key: ApiKey = "",
    valid_days: Annotated[
        float, typer.Option("--valid-days", min=0.001, max=60, help="Days the proposals' signatures stay valid.")
    ] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print the service's JSON answer.")] = False,
) -> None:
    """Open a meeting; you are its secretary."""
    body = {"title": title, "valid_for": max(60, int(valid_days * 86400))}
    _show(_call(url, key, "POST", "/board/meetings", "the meeting was not opened", json=body), as_json)


@meeting_app.command("add")
def meeting_add(
    meeting: Annotated[int, typer.Argument(help="The meeting's id.")],
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="resolution, add-member, remove-member, accredit-issuer, suspend-issuer, change-rules or "
            "rotate-issuer-key.",
        ),
    ],
    title: Annotated[str, typer.Option("--title", help="The proposal's title.")],
    document: Annotated[Path, typer.Option("--document", help="The decision text (UTF-8); its sha256 goes on chain.")],
    subject: Annotated[str | None, typer.Option("--subject", help="The member or issuer account.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="The new member's or issuer's name.")] = None,
    public_key: Annotated[
        str | None, typer.Option("--public-key", help="The issuer's signing key as a Multikey (z6Mk...).")
    ] = None,
    rules: Annotated[str | None, typer.Option("--rules", help="The new rules as JSON (change-rules).")] = None,
    url: ApiUrl = "http://127.0.0.1:8000",
    key: ApiKey = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the service's JSON answer.")] = False,
) -> None:
    """Add a proposal to the meeting (the secretary only); the service signs it with your key."""
    try:
        try:
            text = document.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageProblem(f"cannot read {document}: {getattr(exc, 'strerror', None) or exc}") from exc
        parsed_rules = None
        if rules is not None:
            try:
                parsed_rules = json.loads(rules)
            except ValueError as exc:
                raise UsageProblem(f"--rules is not JSON: {exc}") from exc
    except UsageProblem as exc:
        usage_problem(str(exc), False)
    body = {
        key_: value
        for key_, value in {
            "kind": kind,
            "title": title,
            "document": text,
            "subject": subject,
            "name": name,
            "public_key_multibase": public_key,
            "rules": parsed_rules,
        }.items()
        if value is not None
    }
    answer = _call(url, key, "POST", f"/board/meetings/{meeting}/proposals", "the proposal was not added", json=body)
    _show(answer, as_json)


@meeting_app.command("sign")
def meeting_sign(
    meeting: Annotated[int, typer.Argument(help="The meeting's id.")],
    position: Annotated[int, typer.Argument(help="The proposal's place in the meeting (1, 2, ...).")],
    choice: Annotated[str, typer.Argument(help="for, against, abstain or recused (a conflict of interest).")],
    reason: Annotated[str, typer.Option("--reason", help="Why; required for recused.")] = "",
    url: ApiUrl = "http://127.0.0.1:8000",
    key: ApiKey = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the service's JSON answer.")] = False,
) -> None:
    """Sign your ballot on a proposal of the meeting (the service signs with your key); a new one replaces it."""
    if choice not in CHOICES:
        usage_problem(f"choice {choice!r}: one of {', '.join(CHOICES)}", False)
    answer = _call(
        url,
        key,
        "POST",
        f"/board/meetings/{meeting}/proposals/{position}/ballots",
        "the ballot was not signed",
        json={"choice": choice, "reason": reason},
    )
    _show(answer, as_json)


@meeting_app.command("close")
def meeting_close(
    meeting: Annotated[int, typer.Argument(help="The meeting's id.")],
    url: ApiUrl = "http://127.0.0.1:8000",
    key: ApiKey = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the service's JSON answer.")] = False,
) -> None:
    """Close the meeting (the secretary only): every proposal and ballot goes on chain in one transaction."""
    _show(_call(url, key, "POST", f"/board/meetings/{meeting}/close", "the meeting was not recorded"), as_json)


@meeting_app.command("show")
def meeting_show(
    meeting: Annotated[int, typer.Argument(help="The meeting's id.")],
    url: ApiUrl = "http://127.0.0.1:8000",
    key: ApiKey = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the service's JSON answer.")] = False,
) -> None:
    """Show the meeting: its proposals and the ballots signed so far, or its transaction once recorded."""
    _show(_call(url, key, "GET", f"/board/meetings/{meeting}", "cannot show the meeting"), as_json)
