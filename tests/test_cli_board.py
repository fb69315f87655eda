"""`hub board meeting` against a real server (the app on uvicorn, a real anvil node, the demo seeded): open,
add, sign (a recusal too), close in one transaction, show; refusals readable with their exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner
from web3 import Web3

from service.cli import app
from service.demo import ORGANISATIONS
from tests.live import LiveHub, live_hub

runner = CliRunner(env={"HUB_API_URL": None, "HUB_API_KEY": None, "COLUMNS": "200"})
MEMBERS = [org.name for org in ORGANISATIONS]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    with live_hub(tmp_path_factory.mktemp("board-cli")) as live:
        yield live


def hub_cli(hub: LiveHub, member: str, *args: str) -> object:
    return runner.invoke(app, ["board", "meeting", *args, "--url", hub.url, "--key", hub.key("member", member)])


def test_a_meeting_from_the_command_line_is_one_transaction(hub: LiveHub, tmp_path: Path) -> None:
    opened = hub_cli(hub, MEMBERS[0], "open", "Bestuursvergadering maart", "--json")
    assert opened.exit_code == 0, opened.output
    meeting = str(json.loads(opened.output)["id"])
    text = tmp_path / "besluit.txt"
    text.write_text("Het bestuur stelt de jaarrekening 2026 vast.", encoding="utf-8")
    added = hub_cli(
        hub, MEMBERS[0], "add", meeting, "--kind", "resolution", "--title", "Jaarrekening", "--document", str(text)
    )
    assert added.exit_code == 0, added.output
    assert "1. [resolution] Jaarrekening" in added.output
    for member in MEMBERS[:-1]:
        signed = hub_cli(hub, member, "sign", meeting, "1", "for", "--reason", "Akkoord")
        assert signed.exit_code == 0, signed.output
    recused = hub_cli(hub, MEMBERS[-1], "sign", meeting, "1", "recused", "--reason", "Eigen belang")
    assert recused.exit_code == 0 and "recused" in recused.output and "Eigen belang" in recused.output
    closed = hub_cli(hub, MEMBERS[0], "close", meeting, "--json")
    assert closed.exit_code == 0, closed.output
    result = json.loads(closed.output)
    assert result["status"] == "recorded" and result["proposals"][0]["outcome"] == "executed"
    receipt = Web3(Web3.HTTPProvider(hub.chain.node.url)).eth.get_transaction_receipt(result["tx_hash"])
    assert receipt["status"] == 1
    shown = hub_cli(hub, MEMBERS[2], "show", meeting)
    assert shown.exit_code == 0 and f"Recorded in transaction {result['tx_hash']}" in shown.output


def test_meeting_refusals_are_readable(hub: LiveHub, tmp_path: Path) -> None:
    opened = hub_cli(hub, MEMBERS[0], "open", "Tweede vergadering", "--json")
    meeting = str(json.loads(opened.output)["id"])
    # Not the secretary: refused by the service, exit 1 with its detail.
    text = tmp_path / "besluit.txt"
    text.write_text("Tekst", encoding="utf-8")
    other = hub_cli(hub, MEMBERS[1], "add", meeting, "--kind", "resolution", "--title", "X", "--document", str(text))
    assert other.exit_code == 1 and "only the meeting's secretary" in other.output
    # Unusable input: exit 2.
    missing = hub_cli(
        hub,
        MEMBERS[0],
        "add",
        meeting,
        "--kind",
        "resolution",
        "--title",
        "X",
        "--document",
        str(tmp_path / "nope.txt"),
    )
    assert missing.exit_code == 2 and "cannot read" in missing.output
    assert hub_cli(hub, MEMBERS[0], "sign", meeting, "1", "maybe").exit_code == 2
    nothing = hub_cli(hub, MEMBERS[0], "close", meeting)
    assert nothing.exit_code == 1 and "has no proposals" in nothing.output
    unreachable = runner.invoke(app, ["board", "meeting", "show", meeting, "--url", "http://127.0.0.1:9", "--key", "x"])
    assert unreachable.exit_code == 2 and "cannot reach" in unreachable.output


def test_show_tells_the_outcome_of_a_proposal_decided_after_the_meeting(hub: LiveHub, tmp_path: Path) -> None:
    """The meeting's one ballot leaves the proposal active; members vote and execute it through the board API
    afterwards: `show` tells it is executed, not active."""
    meeting = str(json.loads(hub_cli(hub, MEMBERS[0], "open", "Korte vergadering", "--json").output)["id"])
    text = tmp_path / "besluit.txt"
    text.write_text("Het bestuur stelt het jaarplan 2027 vast.", encoding="utf-8")
    added = hub_cli(
        hub, MEMBERS[0], "add", meeting, "--kind", "resolution", "--title", "Jaarplan", "--document", str(text)
    )
    assert added.exit_code == 0, added.output
    assert hub_cli(hub, MEMBERS[0], "sign", meeting, "1", "for").exit_code == 0
    closed = hub_cli(hub, MEMBERS[0], "close", meeting, "--json")
    assert closed.exit_code == 0, closed.output
    proposal = json.loads(closed.output)["proposals"][0]
    assert proposal["outcome"] == "active"
    shown = hub_cli(hub, MEMBERS[1], "show", meeting)
    assert f"1. [resolution] Jaarplan -> proposal {proposal['proposal_id']}, active" in shown.output
    with httpx.Client(base_url=hub.url, timeout=60) as api:
        for member in MEMBERS[1:4]:
            voted = api.post(
                f"/board/proposals/{proposal['proposal_id']}/votes",
                headers=hub.auth("member", member),
                json={"support": "for"},
            )
            assert voted.status_code == 201, voted.text
        executed = api.post(
            f"/board/proposals/{proposal['proposal_id']}/execute", headers=hub.auth("member", MEMBERS[4])
        )
        assert executed.status_code == 200, executed.text
    shown = hub_cli(hub, MEMBERS[1], "show", meeting)
    assert shown.exit_code == 0, shown.output
    assert f"1. [resolution] Jaarplan -> proposal {proposal['proposal_id']}, executed" in shown.output
