"""The board console's meetings over real HTTP forms (TestClient, a real anvil): open, add a proposal, sign
ballots (one recusal), close in one transaction; CSRF, role, secretary and password refusals as readable pages."""

from __future__ import annotations

from typing import Any

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from service.chain.board import BoardClient
from service.errors import ChainUnavailable
from service.hub import Hub
from tests.api.test_board_api import ALFA, HANZE, NHL, RUG, TVM, UNIGARANT
from tests.consoles.kit import make_account, sign_in

PASSWORD = "correct horse battery staple"
MEMBERS = [TVM, UNIGARANT, HANZE, RUG, NHL, ALFA]


def board_accounts(hub: Hub, keys: Any) -> dict[str, int]:
    hashed = PasswordHasher().hash(PASSWORD)
    return {
        name: make_account(
            hub, "board", f"lid{i}@example.org", name, keys.addresses[("member", name)], password_hash=hashed
        )
        for i, name in enumerate(MEMBERS)
    }


def post(client: TestClient, path: str, csrf: str | None, **fields: str) -> Any:
    data = dict(fields)
    if csrf is not None:
        data["csrf"] = csrf
    return client.post(path, data=data, follow_redirects=False)


def test_a_meeting_in_the_console_is_recorded_in_one_transaction(client: TestClient, hub: Hub, keys: Any) -> None:
    accounts = board_accounts(hub, keys)
    csrf = sign_in(client, hub, accounts[TVM])
    opened = post(client, "/console/board/meetings", csrf, title="Vergadering april")
    assert opened.status_code == 303, opened.text
    path = opened.headers["location"]
    added = post(
        client,
        f"{path}/proposals",
        csrf,
        kind="resolution",
        title="Jaarrekening 2026",
        document="Het bestuur stelt de jaarrekening 2026 vast.",
        password=PASSWORD,
    )
    assert added.status_code == 303, added.text
    for name in MEMBERS[:-1]:
        member_csrf = sign_in(client, hub, accounts[name])
        signed = post(client, f"{path}/proposals/1/ballot", member_csrf, choice="for", reason="", password=PASSWORD)
        assert signed.status_code == 303, signed.text
    alfa_csrf = sign_in(client, hub, accounts[ALFA])
    no_reason = post(client, f"{path}/proposals/1/ballot", alfa_csrf, choice="recused", reason="", password=PASSWORD)
    assert no_reason.status_code == 422 and "a conflict of interest needs its reason" in no_reason.text
    recused = post(
        client, f"{path}/proposals/1/ballot", alfa_csrf, choice="recused", reason="Eigen belang", password=PASSWORD
    )
    assert recused.status_code == 303
    # Not the secretary: refused, nothing recorded.
    not_secretary = post(client, f"{path}/close", alfa_csrf)
    assert not_secretary.status_code == 403 and "Only the secretary" in not_secretary.text
    csrf = sign_in(client, hub, accounts[TVM])
    before = hub.w3.eth.block_number
    closed = post(client, f"{path}/close", csrf)
    assert closed.status_code == 303, closed.text
    assert hub.w3.eth.block_number == before + 1
    page = client.get(path)
    assert "Recorded on the blockchain in one transaction" in page.text
    board = BoardClient(hub.w3, hub.board_address)
    assert board.proposal(1).for_votes == 5 and board.proposal(1).recusals == 1
    register = client.get("/board/proposals/1").json()
    assert [r["reason"] for r in register["recusals"]] == ["Eigen belang"]
    assert len({v["tx_hash"] for v in register["votes"]} | {r["tx_hash"] for r in register["recusals"]}) == 1
    # The register's page of the proposal names the meeting and its one transaction, with every ballot.
    proposal_page = client.get("/board/register/proposals/1")
    tx_hash = register["recusals"][0]["tx_hash"]
    assert "Decided in the meeting “Vergadering april”" in proposal_page.text
    assert proposal_page.text.count(tx_hash) >= 7  # the meeting's line, five votes, the recusal
    for name in MEMBERS:
        assert name in proposal_page.text
    dutch = client.get(path, headers={"Accept-Language": "nl"})
    assert "Niet deelgenomen" in dutch.text and "Eigen belang" in dutch.text


def test_meeting_forms_refuse_without_csrf_password_or_role(client: TestClient, hub: Hub, keys: Any) -> None:
    signed_out = client.get("/console/board/meetings", follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/signin?next=")
    accounts = board_accounts(hub, keys)
    partner = make_account(hub, "partner", "staf@hanze.example", "Staf Hanze", keys.addresses[("issuer", HANZE)])
    sign_in(client, hub, partner)
    assert client.get("/console/board/meetings").status_code == 403
    csrf = sign_in(client, hub, accounts[TVM])
    assert post(client, "/console/board/meetings", None, title="Zonder token").status_code == 403
    assert post(client, "/console/board/meetings", "wrong", title="Fout token").status_code == 403
    assert "There are no meetings yet" in client.get("/console/board/meetings").text
    path = post(client, "/console/board/meetings", csrf, title="Vergadering").headers["location"]
    wrong = post(client, f"{path}/proposals", csrf, kind="resolution", title="T", document="Tekst", password="not it")
    assert wrong.status_code == 403 and "That is not your password. Nothing was signed" in wrong.text
    nothing = post(client, f"{path}/close", csrf)
    assert nothing.status_code == 409 and "Add at least one proposal" in nothing.text
    assert client.get("/console/board/meetings/999").status_code == 404


def test_a_proposal_left_open_by_the_meeting_shows_its_later_outcome(
    client: TestClient, hub: Hub, keys: Any, monkeypatch: Any
) -> None:
    """The meeting's ballots do not decide the proposal (the secretary's alone); the members vote through the board
    API afterwards and it is executed: the meeting's page says so, not "still open"."""
    accounts = board_accounts(hub, keys)
    csrf = sign_in(client, hub, accounts[TVM])
    path = post(client, "/console/board/meetings", csrf, title="Vergadering mei").headers["location"]
    added = post(
        client,
        f"{path}/proposals",
        csrf,
        kind="resolution",
        title="Begroting 2027",
        document="Het bestuur stelt de begroting 2027 vast.",
        password=PASSWORD,
    )
    assert added.status_code == 303, added.text
    signed = post(client, f"{path}/proposals/1/ballot", csrf, choice="for", reason="", password=PASSWORD)
    assert signed.status_code == 303, signed.text
    assert post(client, f"{path}/close", csrf).status_code == 303
    page = client.get(path)
    assert "Still open for the members who were not there" in page.text
    proposal_id = BoardClient(hub.w3, hub.board_address).proposal_count()

    # The chain does not answer: the page says so and shows no outcome it could not check.
    def no_answer(*args: Any, **kwargs: Any) -> Any:
        raise ChainUnavailable("the node does not answer (test)")

    with monkeypatch.context() as patched:
        patched.setattr(BoardClient, "proposals", no_answer)
        unreadable = client.get(path)
        assert unreadable.status_code == 503
        assert "the outcome of a proposal that was still open is not shown" in unreadable.text
        assert "Still open for the members" not in unreadable.text

    for name in (UNIGARANT, HANZE, RUG):
        voted = client.post(f"/board/proposals/{proposal_id}/votes", headers=keys.member(name), json={"support": "for"})
        assert voted.status_code == 201, voted.text
    assert "Decided, not carried out yet" in client.get(path).text
    assert client.post(f"/board/proposals/{proposal_id}/execute", headers=keys.member(NHL)).status_code == 200
    page = client.get(path)
    assert "Decided and carried out" in page.text and "Still open" not in page.text
    assert "Besloten en uitgevoerd" in client.get(path, headers={"Accept-Language": "nl"}).text
