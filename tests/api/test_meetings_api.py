"""Board meetings over the API on a real anvil: a secretary opens a meeting for a set of proposals, members sign
their ballots (keys held by the service, or client-side), one recuses with a reason, and the close records it all
in ONE transaction; every refusal as problem+json.

The deployed board has six members (service.demo.dev_board); the first meeting adds a seventh, so that the second
is a meeting of seven.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from service.board import meetings
from service.chain.board import BoardClient, VoteType
from service.errors import ChainUnavailable
from service.hub import Hub
from tests.api.test_board_api import (
    ALFA,
    DOCUMENT,
    HANZE,
    NHL,
    RUG,
    TITLE,
    TVM,
    UNIGARANT,
    accounts,
    accredit_nhl,
    assert_problem,
    board_account,
    outsider,
    vote,
)
from tests.chain import advance_time, rpc

MEMBERS = [TVM, UNIGARANT, HANZE, RUG, NHL, ALFA]
SEVENTH_NAME = "Gemeente Hoogeveen"


def seventh() -> LocalAccount:
    return accounts()[18]


def open_meeting(client: TestClient, keys: Any, by: str = TVM, title: str = "Bestuursvergadering") -> dict[str, Any]:
    response = client.post("/board/meetings", headers=keys.member(by), json={"title": title})
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/board/meetings/{response.json()['id']}"
    return response.json()


def add(client: TestClient, keys: Any, meeting_id: int, body: dict[str, Any], by: str = TVM) -> dict[str, Any]:
    response = client.post(f"/board/meetings/{meeting_id}/proposals", headers=keys.member(by), json=body)
    assert response.status_code == 201, response.text
    return response.json()


def ballot(
    client: TestClient, keys: Any, meeting_id: int, position: int, by: str, choice: str = "for", reason: str = ""
) -> Any:
    return client.post(
        f"/board/meetings/{meeting_id}/proposals/{position}/ballots",
        headers=keys.member(by),
        json={"choice": choice, "reason": reason},
    )


def client_ballot(
    client: TestClient, meeting_id: int, position: int, signer: LocalAccount, choice: str = "for", voter: str = ""
) -> Any:
    """A ballot signed client-side over the service's typed data, as a wallet would, and posted without a key."""
    voter = voter or signer.address
    typed = client.get(
        f"/board/meetings/{meeting_id}/proposals/{position}/ballot-typed-data",
        params={"voter": voter, "choice": choice},
    )
    assert typed.status_code == 200, typed.text
    signature = Account.sign_typed_data(signer.key, full_message=typed.json()["typed_data"]).signature
    return client.post(
        f"/board/meetings/{meeting_id}/proposals/{position}/ballots",
        json={"choice": choice, "voter": voter, "signature": "0x" + bytes(signature).hex()},
    )


def add_seventh_member(client: TestClient, keys: Any) -> dict[str, Any]:
    meeting = open_meeting(client, keys, title="Uitbreiding bestuur")
    add(
        client,
        keys,
        meeting["id"],
        {
            "kind": "add-member",
            "subject": seventh().address,
            "name": SEVENTH_NAME,
            "title": "Gemeente Hoogeveen treedt toe",
            "document": "Het bestuur neemt de Gemeente Hoogeveen op als zevende lid.",
        },
    )
    for name in MEMBERS:
        assert ballot(client, keys, meeting["id"], 1, name).status_code == 201
    closed = client.post(f"/board/meetings/{meeting['id']}/close", headers=keys.member(TVM))
    assert closed.status_code == 200, closed.text
    return closed.json()


def test_a_meeting_of_seven_with_a_recusal_is_recorded_in_one_transaction(
    client: TestClient, keys: Any, hub: Hub
) -> None:
    board = BoardClient(hub.w3, hub.board_address)
    first = add_seventh_member(client, keys)
    assert first["status"] == "recorded" and first["proposals"][0]["outcome"] == "executed"
    assert board.is_member(seventh().address) and len(board.members()) == 7

    meeting = open_meeting(client, keys)
    assert meeting["secretary"] == keys.addresses[("member", TVM)] and meeting["status"] == "open"
    add(client, keys, meeting["id"], accredit_nhl(keys))
    resolution = {
        "kind": "resolution",
        "title": "Jaarrekening 2026",
        "document": "De jaarrekening 2026 is vastgesteld.",
    }
    body = add(client, keys, meeting["id"], resolution)
    assert [(p["position"], p["kind"], p["nonce"]) for p in body["proposals"]] == [
        (1, "accredit-issuer", 1),
        (2, "resolution", 2),
    ]
    # Proposal 1: NHL Stenden recuses itself with its reason, the others vote; a member changes its mind.
    choices = {TVM: "for", UNIGARANT: "against", HANZE: "for", RUG: "abstain", ALFA: "for"}
    for name, choice in choices.items():
        assert ballot(client, keys, meeting["id"], 1, name, choice).status_code == 201
    assert ballot(client, keys, meeting["id"], 1, UNIGARANT, "for", "Na uitleg toch voor").status_code == 201
    choices[UNIGARANT] = "for"
    recusal = ballot(client, keys, meeting["id"], 1, NHL, "recused", "Wij zijn zelf de partner van dit besluit")
    assert recusal.status_code == 201, recusal.text
    assert client_ballot(client, meeting["id"], 1, seventh()).status_code == 201
    # Proposal 2: all seven for, the seventh client-side.
    for name in MEMBERS:
        assert ballot(client, keys, meeting["id"], 2, name).status_code == 201
    assert client_ballot(client, meeting["id"], 2, seventh()).status_code == 201
    shown = client.get(f"/board/meetings/{meeting['id']}", headers=keys.member(HANZE)).json()
    assert [len(p["ballots"]) for p in shown["proposals"]] == [7, 7]

    before = hub.w3.eth.block_number
    closed = client.post(f"/board/meetings/{meeting['id']}/close", headers=keys.member(TVM))
    assert closed.status_code == 200, closed.text
    result = closed.json()
    assert result["status"] == "recorded" and result["tx_hash"]
    # ONE transaction: both proposals created, counted and executed in it.
    receipt = hub.w3.eth.get_transaction_receipt(result["tx_hash"])
    assert receipt["status"] == 1 and hub.w3.eth.block_number == before + 1
    created = [int(e.args["proposalId"]) for e in board.events(receipt, "ProposalCreated")]
    executed = [int(e.args["proposalId"]) for e in board.events(receipt, "ProposalExecuted")]
    assert created == executed == [p["proposal_id"] for p in result["proposals"]] == [2, 3]
    assert [p["outcome"] for p in result["proposals"]] == ["executed", "executed"]
    # The register shows every ballot of the meeting, the recusal with its reason, all in that transaction.
    register = client.get("/board/proposals/2").json()
    assert register["state"] == "executed"
    assert sorted((v["name"], v["support"]) for v in register["votes"]) == sorted(
        [(name, choice) for name, choice in choices.items()] + [(SEVENTH_NAME, "for")]
    )
    assert [(r["name"], r["reason"], r["tx_hash"]) for r in register["recusals"]] == [
        (NHL, "Wij zijn zelf de partner van dit besluit", result["tx_hash"])
    ]
    assert {v["tx_hash"] for v in register["votes"]} == {result["tx_hash"]}
    assert board.proposal(2).recusals == 1 and board.proposal(3).for_votes == 7


def test_meeting_refusals_are_problems(client: TestClient, keys: Any, hub: Hub) -> None:
    assert_problem(client.get("/board/meetings"), 401)
    assert_problem(client.post("/board/meetings", headers=keys.issuer(NHL), json={"title": "x"}), 403)
    assert_problem(client.get("/board/meetings/99", headers=keys.member(TVM)), 404, "there is no meeting 99")
    meeting = open_meeting(client, keys)
    mid = meeting["id"]
    # Only the secretary adds and closes.
    assert_problem(
        client.post(f"/board/meetings/{mid}/proposals", headers=keys.member(HANZE), json=accredit_nhl(keys)), 403
    )
    assert_problem(client.post(f"/board/meetings/{mid}/close", headers=keys.member(TVM)), 409)  # nothing to record
    add(client, keys, mid, accredit_nhl(keys))
    assert_problem(client.post(f"/board/meetings/{mid}/close", headers=keys.member(HANZE)), 403)
    assert_problem(ballot(client, keys, mid, 2, HANZE), 404, f"meeting {mid} has no proposal 2")
    # A recusal needs its reason; a choice is one of four.
    assert_problem(ballot(client, keys, mid, 1, HANZE, "recused"), 422)
    assert_problem(ballot(client, keys, mid, 1, HANZE, "maybe"), 422)
    # Without a key: a client-side ballot, and only the voter's own; an outsider is no member.
    assert_problem(client.post(f"/board/meetings/{mid}/proposals/1/ballots", json={"choice": "for"}), 401)
    assert_problem(client_ballot(client, mid, 1, outsider(), voter=keys.addresses[("member", RUG)]), 403)
    assert_problem(client_ballot(client, mid, 1, outsider()), 403)
    for name in (TVM, UNIGARANT, HANZE, RUG):
        assert ballot(client, keys, mid, 1, name).status_code == 201
    # The secretary signs something else meanwhile: its signed proposal's nonce is spent, the close is refused.
    other = client.post(
        "/board/proposals", headers=keys.member(TVM), json={"kind": "resolution", "title": TITLE, "document": DOCUMENT}
    )
    assert other.status_code == 201, other.text
    refused = assert_problem(client.post(f"/board/meetings/{mid}/close", headers=keys.member(TVM)), 409)
    assert "signed something else" in refused["detail"]
    # A meeting recorded once takes nothing more.
    second = open_meeting(client, keys)
    add(client, keys, second["id"], {"kind": "resolution", "title": TITLE, "document": DOCUMENT})
    vote(client, keys, 1, HANZE)  # another member's signature does not matter
    assert client.post(f"/board/meetings/{second['id']}/close", headers=keys.member(TVM)).status_code == 200
    assert_problem(client.post(f"/board/meetings/{second['id']}/close", headers=keys.member(TVM)), 409)
    assert_problem(ballot(client, keys, second["id"], 1, HANZE), 409)
    assert_problem(
        client.post(f"/board/meetings/{second['id']}/proposals", headers=keys.member(TVM), json=accredit_nhl(keys)),
        409,
    )


def test_a_meeting_past_its_validity_is_refused_at_the_close(client: TestClient, keys: Any, hub: Hub) -> None:
    response = client.post("/board/meetings", headers=keys.member(TVM), json={"title": "Kort", "valid_for": 60})
    assert response.status_code == 201, response.text
    mid = response.json()["id"]
    add(client, keys, mid, {"kind": "resolution", "title": TITLE, "document": DOCUMENT})
    assert ballot(client, keys, mid, 1, HANZE).status_code == 201
    advance_time(hub.w3, 120)
    refused = assert_problem(client.post(f"/board/meetings/{mid}/close", headers=keys.member(TVM)), 409)
    assert "signatures expired" in refused["detail"]
    assert BoardClient(hub.w3, hub.board_address).proposal_count() == 0
    assert_problem(client.post("/board/meetings", headers=keys.member(TVM), json={"title": "x", "valid_for": 59}), 422)


def test_a_proposal_the_secretary_signed_client_side(client: TestClient, keys: Any, hub: Hub) -> None:
    mid = open_meeting(client, keys)["id"]
    body = {"kind": "resolution", "title": TITLE, "document": DOCUMENT}
    typed = client.post(f"/board/meetings/{mid}/proposal-typed-data", json=body)
    assert typed.status_code == 200, typed.text
    data = typed.json()
    assert data["proposer"] == keys.addresses[("member", TVM)] and data["nonce"] == 0
    # Signed by another key than the secretary's: refused, nothing added.
    wrong = Account.sign_typed_data(board_account(HANZE).key, full_message=data["typed_data"]).signature
    assert_problem(
        client.post(
            f"/board/meetings/{mid}/proposals",
            headers=keys.member(TVM),
            json={**body, "signature": "0x" + bytes(wrong).hex()},
        ),
        403,
    )
    signature = (
        "0x" + bytes(Account.sign_typed_data(board_account(TVM).key, full_message=data["typed_data"]).signature).hex()
    )
    added = client.post(
        f"/board/meetings/{mid}/proposals", headers=keys.member(TVM), json={**body, "signature": signature}
    )
    assert added.status_code == 201, added.text
    assert [p["position"] for p in added.json()["proposals"]] == [1]
    for name in MEMBERS[:4]:
        assert ballot(client, keys, mid, 1, name).status_code == 201
    closed = client.post(f"/board/meetings/{mid}/close", headers=keys.member(TVM))
    assert closed.status_code == 200, closed.text
    assert closed.json()["proposals"][0]["outcome"] == "executed"
    # the proposal on chain is the one signed client-side
    receipt = hub.w3.eth.get_transaction_receipt(closed.json()["tx_hash"])
    assert signature[2:] in receipt_input(hub, receipt)


def receipt_input(hub: Hub, receipt: Any) -> str:
    return bytes(hub.w3.eth.get_transaction(receipt["transactionHash"])["input"]).hex()


def test_a_close_whose_answer_was_lost_is_finished_not_sent_again(
    client: TestClient, keys: Any, hub: Hub, monkeypatch: Any
) -> None:
    """The node does not mine in time: the close answers 503 with the transaction it sent. Closing again once it is
    mined finishes that very transaction's bookkeeping (the relayer gives it back for the meeting's reference)
    instead of refusing on the nonce and deadline it used; nothing is sent twice."""
    monkeypatch.setattr(hub, "settings", hub.settings.model_copy(update={"request_wait": 1.0}))
    meeting = open_meeting(client, keys)
    mid = meeting["id"]
    add(client, keys, mid, {"kind": "resolution", "title": TITLE, "document": DOCUMENT})
    assert ballot(client, keys, mid, 1, HANZE).status_code == 201
    rpc(hub.w3, "evm_setAutomine", False)
    try:
        pending = client.post(f"/board/meetings/{mid}/close", headers=keys.member(TVM))
        assert pending.status_code == 503, pending.text
        assert BoardClient(hub.w3, hub.board_address).proposal_count() == 0
    finally:
        rpc(hub.w3, "evm_setAutomine", True)
    rpc(hub.w3, "evm_mine")
    closed = client.post(f"/board/meetings/{mid}/close", headers=keys.member(TVM))
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "recorded"
    assert BoardClient(hub.w3, hub.board_address).proposal_count() == 1  # one proposal: sent once
    assert_problem(client.post(f"/board/meetings/{mid}/close", headers=keys.member(TVM)), 409)


# ---------------------------------------------------------------- a ballot's signature sent again (no nonce in it)

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def ballot_signature(
    client: TestClient, meeting_id: int, position: int, signer: LocalAccount, choice: str, reason: str = ""
) -> dict[str, Any]:
    """The body of a ballot `signer` signed client-side over the service's typed data, as a wallet would."""
    typed = client.get(
        f"/board/meetings/{meeting_id}/proposals/{position}/ballot-typed-data",
        params={"voter": signer.address, "choice": choice, "reason": reason},
    )
    assert typed.status_code == 200, typed.text
    signature = Account.sign_typed_data(signer.key, full_message=typed.json()["typed_data"]).signature
    return {"choice": choice, "reason": reason, "voter": signer.address, "signature": "0x" + bytes(signature).hex()}


def other_s(signature: str) -> str:
    """The same ECDSA signature with the other s (n - s, v flipped): it recovers the same signer."""
    raw = bytes.fromhex(signature[2:])
    s = SECP256K1_N - int.from_bytes(raw[32:64], "big")
    return "0x" + (raw[:32] + s.to_bytes(32, "big") + bytes([55 - raw[64]])).hex()  # 27 <-> 28


def post_ballot(client: TestClient, meeting_id: int, position: int, body: dict[str, Any]) -> Any:
    """Posted by anyone: a client-signed ballot needs no key."""
    return client.post(f"/board/meetings/{meeting_id}/proposals/{position}/ballots", json=body)


def ballots_of(meeting: dict[str, Any], position: int = 1) -> dict[str, tuple[str, str]]:
    return {b["voter"]: (b["choice"], b["reason"]) for b in meeting["proposals"][position - 1]["ballots"]}


def test_a_superseded_ballot_sent_again_is_refused_and_the_newer_one_is_recorded(
    client: TestClient, keys: Any, hub: Hub
) -> None:
    """Hanzehogeschool signs For in its wallet, then Against. Someone who saw the For signature posts it again: it
    is refused, the ballot stays Against, and the close records Against on chain. Sending the current ballot again
    changes nothing."""
    board = BoardClient(hub.w3, hub.board_address)
    hanze = board_account(HANZE)
    mid = open_meeting(client, keys)["id"]
    add(client, keys, mid, {"kind": "resolution", "title": TITLE, "document": DOCUMENT})
    first = ballot_signature(client, mid, 1, hanze, "for")
    assert post_ballot(client, mid, 1, first).status_code == 201
    second = ballot_signature(client, mid, 1, hanze, "against", "Toch niet")
    changed = post_ballot(client, mid, 1, second)
    assert changed.status_code == 201, changed.text
    assert ballots_of(changed.json())[hanze.address] == ("against", "Toch niet")

    replayed = assert_problem(post_ballot(client, mid, 1, first), 409)
    assert replayed["detail"].startswith(f"{hanze.address} signed this ballot (for) before and replaced it on ")
    # the same signature with its other s (it recovers the same signer; the contract would refuse it): refused
    assert_problem(post_ballot(client, mid, 1, {**first, "signature": other_s(first["signature"])}), 422)
    # the current ballot again: nothing changes (200, not 201), the same ballot and the same history
    shown = client.get(f"/board/meetings/{mid}", headers=keys.member(TVM)).json()
    again = post_ballot(client, mid, 1, second)
    assert again.status_code == 200, again.text
    assert again.json()["proposals"] == shown["proposals"]
    item = shown["proposals"][0]
    assert ballots_of(shown) == {hanze.address: ("against", "Toch niet")}
    assert [(b["voter"], b["choice"]) for b in item["superseded"]] == [(hanze.address, "for")]
    assert item["superseded"][0]["superseded_at"] == item["ballots"][0]["signed_at"]
    assert "signature" not in str(shown)  # no answer shows a member's signature

    for name in (TVM, UNIGARANT, RUG, NHL):
        assert ballot(client, keys, mid, 1, name).status_code == 201
    assert_problem(post_ballot(client, mid, 1, first), 409)  # still refused just before the close
    closed = client.post(f"/board/meetings/{mid}/close", headers=keys.member(TVM))
    assert closed.status_code == 200, closed.text
    proposal_id = closed.json()["proposals"][0]["proposal_id"]
    on_chain = board.receipt(proposal_id, hanze.address)
    assert on_chain.has_voted and on_chain.support is VoteType.AGAINST
    assert (board.proposal(proposal_id).for_votes, board.proposal(proposal_id).against_votes) == (4, 1)
    register = client.get(f"/board/proposals/{proposal_id}").json()
    assert [(v["support"], v["reason"]) for v in register["votes"] if v["voter"] == hanze.address] == [
        ("against", "Toch niet")
    ]


def test_a_member_returns_to_an_earlier_choice_with_its_key_and_replays_stay_refused(
    client: TestClient, keys: Any, hub: Hub
) -> None:
    """A client-signed ballot the member had before is refused; the member itself returns to that choice through
    its member key (authenticated), or signs it with another reason (another signed message)."""
    rug = board_account(RUG)
    mid = open_meeting(client, keys)["id"]
    add(client, keys, mid, {"kind": "resolution", "title": TITLE, "document": DOCUMENT})
    signed_for = ballot_signature(client, mid, 1, rug, "for")
    signed_against = ballot_signature(client, mid, 1, rug, "against")
    assert post_ballot(client, mid, 1, signed_for).status_code == 201
    assert post_ballot(client, mid, 1, signed_against).status_code == 201
    assert_problem(post_ballot(client, mid, 1, signed_for), 409)
    # with its member key: accepted, a new ballot (the service signed it for the authenticated member)
    back = ballot(client, keys, mid, 1, RUG, "for")
    assert back.status_code == 201, back.text
    assert ballots_of(back.json())[rug.address] == ("for", "")
    assert_problem(post_ballot(client, mid, 1, signed_against), 409)  # the Against signature cannot undo it
    assert post_ballot(client, mid, 1, signed_for).status_code == 200  # the current one: nothing changes
    # with its key again for the same choice: nothing changes either
    assert ballot(client, keys, mid, 1, RUG, "for").status_code == 200
    # a client-signed Against with another reason is a new signed message: accepted
    renewed = post_ballot(client, mid, 1, ballot_signature(client, mid, 1, rug, "against", "Na overleg"))
    assert renewed.status_code == 201, renewed.text
    item = renewed.json()["proposals"][0]
    assert ballots_of(renewed.json()) == {rug.address: ("against", "Na overleg")}
    assert [b["choice"] for b in item["superseded"]] == ["for", "against", "for"]
    assert all(b["superseded_at"] for b in item["superseded"])


# ---------------------------------------------------------------- outcomes after the close


def test_a_proposal_the_meeting_left_active_shows_its_outcome_on_chain_later(
    client: TestClient, keys: Any, hub: Hub, monkeypatch: Any
) -> None:
    """Only the secretary's ballots in the meeting: both proposals stay active at the close. Members then vote
    through the board API: the meeting shows each outcome as the chain has it, at the service's depth, stores the
    final ones and reads them from the chain no more."""
    mid = open_meeting(client, keys)["id"]
    add(client, keys, mid, accredit_nhl(keys))
    add(client, keys, mid, {"kind": "resolution", "title": TITLE, "document": DOCUMENT})
    for position in (1, 2):
        assert ballot(client, keys, mid, position, TVM).status_code == 201
    closed = client.post(f"/board/meetings/{mid}/close", headers=keys.member(TVM))
    assert closed.status_code == 200, closed.text
    first, second = (p["proposal_id"] for p in closed.json()["proposals"])
    assert [p["outcome"] for p in closed.json()["proposals"]] == ["active", "active"]

    def outcomes() -> list[str]:
        shown = client.get(f"/board/meetings/{mid}", headers=keys.member(HANZE))
        assert shown.status_code == 200, shown.text
        return [p["outcome"] for p in shown.json()["proposals"]]

    def stored() -> list[str | None]:
        with hub.sessions() as db:
            return [item.outcome for item, _ in meetings.meeting_view(db, mid).items]

    # The chain does not answer: no outcome it did not give (503), rather than "active" from the close.
    real_proposals = BoardClient.proposals

    def no_answer(*args: Any, **kwargs: Any) -> Any:
        raise ChainUnavailable("the node does not answer (test)")

    monkeypatch.setattr(BoardClient, "proposals", no_answer)
    assert_problem(client.get(f"/board/meetings/{mid}", headers=keys.member(HANZE)), 503)
    monkeypatch.setattr(BoardClient, "proposals", real_proposals)

    for name in (UNIGARANT, HANZE):
        vote(client, keys, first, name)
    assert outcomes() == ["active", "active"]
    recused = client.post(f"/board/proposals/{first}/recusals", headers=keys.member(RUG), json={"reason": "Partner"})
    assert recused.status_code == 201, recused.text
    for name in (UNIGARANT, HANZE, RUG, NHL):
        vote(client, keys, second, name, "against")
    assert outcomes() == ["succeeded", "defeated"]  # 3 for of 5 (one recused): decided, not executed yet
    assert stored() == ["succeeded", "defeated"]

    # At a depth of one block the execution is not counted until a block is mined on it.
    monkeypatch.setattr(hub, "settings", hub.settings.model_copy(update={"confirmations": 1}))
    executed = client.post(f"/board/proposals/{first}/execute", headers=keys.member(ALFA))
    assert executed.status_code == 200, executed.text
    assert outcomes() == ["succeeded", "defeated"]
    rpc(hub.w3, "evm_mine")
    assert outcomes() == ["executed", "defeated"]
    assert stored() == ["executed", "defeated"]

    # Final outcomes are as stored: the chain is not asked again.
    monkeypatch.setattr(BoardClient, "proposals", no_answer)
    assert outcomes() == ["executed", "defeated"]
    register = client.get(f"/board/proposals/{first}").json()
    assert register["state"] == "executed"
