"""The board API on a real anvil with the hub deployed: the member flow, every refusal, the index.

The initial board is service.demo.dev_board() (six organisations, default rules: quorum 50%, simple
majority for issuer decisions, a week to vote and a week to execute).
"""

from __future__ import annotations

import hashlib
import time
from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from service.chain.artifacts import load_artifact
from service.chain.board import Action, BoardClient, VoteType, document_hash
from service.chain.devchain import dev_accounts
from service.chain.transactions import send
from service.credentials import multikey
from service.db.models import BoardProposal, ChainEvent, ProposalDocument
from service.db.session import transaction
from service.demo import ORGANISATIONS
from service.hub import Hub
from service.issuing.signing_keys import dev_signing_key, public_multibase
from tests.chain import advance_time, propose_calldata

TVM, UNIGARANT, HANZE, RUG, NHL, ALFA = (org.name for org in ORGANISATIONS)
WEEK = 7 * 24 * 3600
DOCUMENT = (
    "Het bestuur accrediteert NHL Stenden als uitgever van microcredentials van de IT Hub Hoogeveen, "
    "met ingang van de uitvoering van dit besluit."
)
TITLE = "Accreditatie NHL Stenden"


@cache
def accounts() -> tuple[LocalAccount, ...]:
    return tuple(dev_accounts())  # deriving them takes a while: once per session


def board_account(name: str) -> LocalAccount:
    org = next(org for org in ORGANISATIONS if org.name == name)
    return accounts()[org.board_account]


def outsider() -> LocalAccount:
    return accounts()[19]


def nhl_key(keys: Any) -> str:
    """NHL Stenden's credential signing key (its development key), as a Multikey."""
    return public_multibase(dev_signing_key(keys.addresses[("issuer", NHL)]))


def accredit_nhl(keys: Any, **overrides: Any) -> dict[str, Any]:
    body = {
        "kind": "accredit-issuer",
        "subject": keys.addresses[("issuer", NHL)],
        "name": NHL,
        "public_key_multibase": nhl_key(keys),
        "title": TITLE,
        "document": DOCUMENT,
    }
    if overrides.get("kind", "accredit-issuer") not in ("accredit-issuer", "rotate-issuer-key"):
        body.pop("public_key_multibase")  # the other kinds name no key (unless a test gives one)
    return {**body, **overrides}


def propose(client: TestClient, keys: Any, by: str = TVM, **overrides: Any) -> dict[str, Any]:
    response = client.post("/board/proposals", headers=keys.member(by), json=accredit_nhl(keys, **overrides))
    assert response.status_code == 201, response.text
    return response.json()


def vote(
    client: TestClient,
    keys: Any,
    proposal_id: int,
    by: str,
    support: str = "for",
    reason: str = "",
) -> dict[str, Any]:
    response = client.post(
        f"/board/proposals/{proposal_id}/votes", headers=keys.member(by), json={"support": support, "reason": reason}
    )
    assert response.status_code == 201, response.text
    return response.json()


def signed_ballot(
    client: TestClient,
    proposal_id: int,
    signer: LocalAccount,
    support: str = "for",
    reason: str = "",
    voter: str | None = None,
) -> dict[str, Any]:
    """A ballot signed client-side from the service's typed data, as a wallet would."""
    voter = voter or signer.address
    typed = client.get(
        f"/board/proposals/{proposal_id}/ballot-typed-data",
        params={"voter": voter, "support": support, "reason": reason},
    )
    assert typed.status_code == 200, typed.text
    data = typed.json()
    signature = Account.sign_typed_data(signer.key, full_message=data["typed_data"]).signature
    return {
        "support": support,
        "reason": reason,
        "voter": voter,
        "deadline": data["deadline"],
        "signature": "0x" + bytes(signature).hex(),
    }


def assert_problem(response: Any, status: int, detail: str | None = None, error: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    if detail is not None:
        assert body["detail"] == detail
    if error is not None:
        assert body["error"] == error
    return body


def board_contract(hub: Hub) -> Any:
    return hub.w3.eth.contract(address=hub.board_address, abi=load_artifact("HubBoard").abi)


def transact(hub: Hub, function: Any, account: LocalAccount) -> None:
    """Send a contract call from `account` directly, not through the API."""
    send(hub.w3, function.build_transaction({"from": account.address}), account)


# ---------------------------------------------------------------- reading


def test_members_are_the_initial_board_in_seat_order(client: TestClient, hub: Hub) -> None:
    hub.indexer.catch_up()
    response = client.get("/board/members")
    assert response.status_code == 200
    members = response.json()
    assert [m["name"] for m in members] == [TVM, UNIGARANT, HANZE, RUG, NHL, ALFA]
    assert members[0]["address"] == board_account(TVM).address
    assert all(m["member"] and m["since"] and m["added_block"] >= 1 for m in members)


def test_proposals_and_decisions_are_empty_at_first(client: TestClient) -> None:
    assert client.get("/board/proposals").json() == []
    assert client.get("/board/decisions").json() == []


# ---------------------------------------------------------------- the member flow


def test_member_flow_accredits_nhl_stenden_as_issuer(client: TestClient, keys: Any, hub: Hub) -> None:
    issuer = keys.addresses[("issuer", NHL)]
    created = client.post("/board/proposals", headers=keys.member(TVM), json=accredit_nhl(keys))
    assert created.status_code == 201, created.text
    proposal = created.json()
    assert created.headers["location"] == f"/board/proposals/{proposal['id']}"
    assert proposal["id"] == 1
    assert (proposal["kind"], proposal["subject"], proposal["name"]) == ("accredit-issuer", issuer, NHL)
    key = nhl_key(keys)
    assert proposal["public_key_multibase"] == key
    assert proposal["key_hash"] == "0x" + multikey.key_hash_of(key).hex()
    assert proposal["proposer"] == board_account(TVM).address and proposal["proposer_name"] == TVM
    assert proposal["state"] == "active"
    assert proposal["tally"] == {
        "for_votes": 0,
        "against_votes": 0,
        "abstain_votes": 0,
        "recusals": 0,
        "eligible": 6,
        "remaining": 6,
        "quorum_bps": 5000,
        "threshold_bps": 5000,
    }
    assert proposal["document"]["matches_chain"] is True
    assert [m["status"] for m in proposal["eligible_members"]] == ["not-voted"] * 6

    first = vote(client, keys, 1, TVM, "for", "Voldoet aan de eisen")
    assert (first["voter"], first["name"], first["support"]) == (board_account(TVM).address, TVM, "for")
    assert first["proposal"]["tally"]["for_votes"] == 1 and first["proposal"]["state"] == "active"
    vote(client, keys, 1, UNIGARANT, "for")

    # Hanzehogeschool signs its ballot in its own wallet; the relayed ballot needs no key
    ballot = signed_ballot(client, 1, board_account(HANZE), "for", "Goede samenwerking")
    relayed = client.post("/board/proposals/1/votes", json=ballot)
    assert relayed.status_code == 201, relayed.text
    assert relayed.json()["voter"] == board_account(HANZE).address
    assert relayed.json()["proposal"]["state"] == "active"  # 3 of 6 for: the rest could still block it

    recusal = client.post(
        "/board/proposals/1/recusals",
        headers=keys.member(RUG),
        json={"reason": "RUG werkt samen met NHL Stenden in dit programma"},
    )
    assert recusal.status_code == 201, recusal.text
    assert recusal.json()["member"] == board_account(RUG).address
    assert recusal.json()["proposal"]["state"] == "succeeded"  # 3 for of 5: passes whatever the other two vote

    executed = client.post("/board/proposals/1/execute", headers=keys.member(ALFA))
    assert executed.status_code == 200, executed.text
    decision = executed.json()
    assert (decision["proposal_id"], decision["kind"], decision["subject"], decision["title"]) == (
        1,
        "accredit-issuer",
        issuer,
        TITLE,
    )
    assert decision["document_hash"] == "0x" + hashlib.sha256(DOCUMENT.encode()).hexdigest()
    assert decision["tally"]["for_votes"] == 3 and decision["tally"]["recusals"] == 1
    assert decision["executed_tx"].startswith("0x") and decision["executed_at"]

    register = client.get("/board/decisions").json()
    assert register == [decision]

    registry = hub.w3.eth.contract(address=hub.registry_address, abi=load_artifact("CredentialRegistry").abi)
    name, accredited, _since, _relayer, _keys = registry.functions.issuer(issuer).call()
    assert (name, accredited) == (NHL, True)
    assert [k[0] for k in registry.functions.issuer(issuer).call()[4]] == [multikey.key_hash_of(key)]
    assert (decision["public_key_multibase"], decision["key_hash"]) == (key, proposal["key_hash"])

    detail = client.get("/board/proposals/1").json()
    assert detail["state"] == "executed" and detail["executed_tx"] == decision["executed_tx"]
    assert [(v["name"], v["support"], v["reason"]) for v in detail["votes"]] == [
        (TVM, "for", "Voldoet aan de eisen"),
        (UNIGARANT, "for", ""),
        (HANZE, "for", "Goede samenwerking"),
    ]
    assert [(r["name"], r["reason"]) for r in detail["recusals"]] == [
        (RUG, "RUG werkt samen met NHL Stenden in dit programma")
    ]
    assert {m["name"]: m["status"] for m in detail["eligible_members"]} == {
        TVM: "for",
        UNIGARANT: "for",
        HANZE: "for",
        RUG: "recused",
        NHL: "not-voted",
        ALFA: "not-voted",
    }

    listed = client.get("/board/proposals").json()
    assert [(p["id"], p["state"], p["tally"]["for_votes"]) for p in listed] == [(1, "executed", 3)]


def test_proposals_are_listed_newest_first_with_state_and_tally(client: TestClient, keys: Any) -> None:
    propose(client, keys)
    propose(
        client,
        keys,
        by=UNIGARANT,
        kind="resolution",
        subject=None,
        name=None,
        title="Jaarrekening 2025",
        document="Het bestuur stelt de jaarrekening 2025 vast.",
    )
    vote(client, keys, 2, TVM, "against")
    listed = client.get("/board/proposals").json()
    assert [(p["id"], p["kind"], p["state"]) for p in listed] == [
        (2, "resolution", "active"),
        (1, "accredit-issuer", "active"),
    ]
    assert listed[0]["tally"]["against_votes"] == 1 and listed[0]["proposer_name"] == UNIGARANT
    assert listed[0]["subject"] is None and listed[0]["name"] is None
    assert [p["id"] for p in client.get("/board/proposals", params={"limit": 1, "offset": 1}).json()] == [1]


def test_change_rules_proposal_carries_its_rules(client: TestClient, keys: Any) -> None:
    rules = {
        "quorum_bps": 6000,
        "majority_bps": 5000,
        "supermajority_bps": 7500,
        "voting_period": 3600,
        "execution_period": 3600,
    }
    created = propose(
        client,
        keys,
        kind="change-rules",
        subject=None,
        name=None,
        rules=rules,
        title="Strengere regels",
        document="Quorum 60%, tweederde wordt driekwart.",
    )
    assert created["rules"] == rules
    assert created["tally"]["threshold_bps"] == 6666  # membership and rule changes need two-thirds


# ---------------------------------------------------------------- the document and the chain's record


def test_document_text_is_checked_against_the_chain(client: TestClient, keys: Any, hub: Hub) -> None:
    created = propose(client, keys)
    document = created["document"]
    assert document["text"] == DOCUMENT
    assert document["sha256"] == document["chain_document_hash"] == created["document_hash"]
    assert document["matches_chain"] is True and created["commitment_verified"] is True

    with transaction(hub.sessions) as session:  # someone edits the stored text afterwards
        session.execute(update(ProposalDocument).values(text=DOCUMENT + " Ook Alfa-college."))
    tampered = client.get("/board/proposals/1").json()["document"]
    assert tampered["text"].endswith("Ook Alfa-college.")
    assert tampered["sha256"] != tampered["chain_document_hash"]
    assert tampered["matches_chain"] is False


def test_proposal_made_on_chain_directly_is_listed_without_its_text(client: TestClient, hub: Hub) -> None:
    board = board_contract(hub)
    action = (0, "0x" + "00" * 20, "", b"\x00" * 32, (0, 0, 0, 0, 0))
    transact(hub, board.functions.propose(action, "Rechtstreeks voorgesteld", b"\x42" * 32), board_account(UNIGARANT))
    hub.indexer.catch_up()
    detail = client.get("/board/proposals/1")
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert (body["kind"], body["title"], body["proposer_name"]) == ("resolution", "Rechtstreeks voorgesteld", UNIGARANT)
    assert body["commitment_verified"] is True
    assert body["document"] == {
        "text": None,
        "sha256": None,
        "chain_document_hash": "0x" + "42" * 32,
        "matches_chain": False,
    }


def test_a_meeting_executed_on_chain_reads_as_every_decision(client: TestClient, keys: Any, hub: Hub) -> None:
    """recordMeeting stores no commitment for the proposal it executes, and logs its ballots in one event: the
    decision still shows the commitment (from its ProposalCreated, in the same transaction as its execution),
    verified, and one vote per ballot."""
    board = BoardClient(hub.w3, hub.board_address)
    action = Action.accredit_issuer(keys.addresses[("issuer", NHL)], NHL, multikey.key_hash_of(nhl_key(keys)))
    proposal = board.sign_proposal(
        board_account(TVM), action, TITLE, document_hash(DOCUMENT), deadline=board.chain_time() + 600
    )
    voters = [
        (TVM, VoteType.FOR, "Akkoord"),
        (UNIGARANT, VoteType.AGAINST, ""),
        (HANZE, VoteType.FOR, ""),
        (RUG, VoteType.ABSTAIN, ""),
        (NHL, VoteType.FOR, "Met belang, toch gestemd"),
        (ALFA, VoteType.FOR, ""),
    ]
    ballots = [
        board.sign_meeting_ballot(board_account(name), proposal, support, reason) for name, support, reason in voters
    ]
    send(hub.w3, {**board.record_meeting(proposal, ballots), "gasPrice": hub.w3.eth.gas_price}, outsider())
    assert board.proposal(1).proposal_hash == bytes(32)  # nothing stored: it was executed
    hub.indexer.catch_up()
    body = client.get("/board/proposals/1").json()
    assert body["state"] == "executed"
    assert body["proposal_hash"] == "0x" + board.hash_proposal(action, document_hash(DOCUMENT)).hex()
    assert body["commitment_verified"] is True
    assert [(v["name"], v["support"], v["reason"]) for v in body["votes"]] == [
        (name, support.slug, reason) for name, support, reason in voters
    ]

    with transaction(hub.sessions) as session:  # the indexed action no longer what the meeting executed
        session.execute(update(BoardProposal).values(name="Alfa-college"))
    assert client.get("/board/proposals/1").json()["commitment_verified"] is False


def test_a_proposal_titled_in_invalid_utf8_on_chain_does_not_stop_the_board(
    client: TestClient, keys: Any, hub: Hub
) -> None:
    """A member calls HubBoard.propose directly with a title that is not UTF-8 (and holds a NUL): the index keeps
    it readable and moves on, and proposals through the API go on working (after a restart too)."""
    member = board_account(UNIGARANT)
    send(
        hub.w3,
        {
            "to": hub.board_address,
            "data": propose_calldata(b"\xff\xfe Besluit\x00 ok"),
            "gasPrice": hub.w3.eth.gas_price,
        },
        member,
    )
    hub.indexer.catch_up()
    odd = client.get("/board/proposals/1")
    assert odd.status_code == 200, odd.text
    assert odd.json()["title"] == "\ufffd\ufffd Besluit\\x00 ok"
    created = propose(client, keys)
    assert created["id"] == 2
    restarted = Hub.start(hub.settings)  # the index survives a restart: nothing is stuck on that page
    try:
        assert restarted.indexer.catch_up() >= hub.w3.eth.block_number
    finally:
        restarted.close()
    assert [item["id"] for item in client.get("/board/proposals").json()] == [2, 1]


def test_vote_cast_on_chain_directly_appears_once_the_indexer_catches_up(
    client: TestClient, keys: Any, hub: Hub
) -> None:
    propose(client, keys)
    transact(hub, board_contract(hub).functions.castVote(1, 0, "Zelf gestemd, zonder de API"), board_account(TVM))
    deadline = time.monotonic() + 15  # the lifespan's background indexer polls every index_interval
    votes: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not votes:
        votes = client.get("/board/proposals/1").json()["votes"]
        time.sleep(0.1)
    assert [(v["voter"], v["name"], v["support"], v["reason"]) for v in votes] == [
        (board_account(TVM).address, TVM, "against", "Zelf gestemd, zonder de API")
    ]
    detail = client.get("/board/proposals/1").json()
    assert detail["tally"]["against_votes"] == 1
    assert {m["name"]: m["status"] for m in detail["eligible_members"]}[TVM] == "against"


# ---------------------------------------------------------------- refusals


def test_propose_without_a_key_is_401(client: TestClient, keys: Any) -> None:
    assert_problem(client.post("/board/proposals", json=accredit_nhl(keys)), 401)


def test_propose_with_an_issuer_key_is_403(client: TestClient, keys: Any) -> None:
    body = assert_problem(client.post("/board/proposals", headers=keys.issuer(NHL), json=accredit_nhl(keys)), 403)
    assert "member key" in body["detail"]


def test_vote_without_a_key_or_a_signature_is_401(client: TestClient, keys: Any) -> None:
    propose(client, keys)
    body = assert_problem(client.post("/board/proposals/1/votes", json={"support": "for"}), 401)
    assert "ballot-typed-data" in body["detail"]


def test_vote_with_an_issuer_key_is_403(client: TestClient, keys: Any) -> None:
    propose(client, keys)
    assert_problem(client.post("/board/proposals/1/votes", headers=keys.issuer(NHL), json={"support": "for"}), 403)


def test_a_proposal_the_chain_refuses_leaves_no_text_behind(client: TestClient, hub: Hub) -> None:
    """A member key of an account that is not (or no longer) on the board: the chain refuses the proposal
    (BoardUnauthorizedMember), and its document (up to the body limit) is not kept: nothing is stored from a
    refused request."""
    from service.auth import Role, create_key
    from service.db.models import ProposalDocument
    from service.db.session import transaction

    with transaction(hub.sessions) as session:
        token, _ = create_key(session, Role.MEMBER, "Oud-bestuurslid", outsider().address)
    body = {"kind": "resolution", "title": "Vul de database", "document": "x" * 190_000}
    refused = client.post("/board/proposals", headers={"Authorization": f"Bearer {token}"}, json=body)
    assert refused.status_code in (403, 409), refused.text
    assert refused.json()["error"] == "BoardUnauthorizedMember"
    with hub.sessions() as session:
        assert session.query(ProposalDocument).count() == 0


def test_signed_ballot_of_a_non_member_is_403(client: TestClient, keys: Any) -> None:
    propose(client, keys)
    stranger = outsider()
    response = client.post("/board/proposals/1/votes", json=signed_ballot(client, 1, stranger))
    assert_problem(
        response,
        403,
        error="BoardNotEligible",
        detail=f"{stranger.address} may not vote on proposal 1: not a member when it was created, or no longer",
    )


def test_ballot_signed_by_another_key_than_the_voter_is_403(client: TestClient, keys: Any) -> None:
    propose(client, keys)
    forged = signed_ballot(client, 1, outsider(), voter=board_account(TVM).address)
    response = client.post("/board/proposals/1/votes", json=forged)
    body = assert_problem(response, 403, error="BoardInvalidSignature")
    assert board_account(TVM).address in body["detail"]


def test_member_whose_key_the_service_does_not_hold_is_403(client: TestClient, hub: Hub, keys: Any) -> None:
    from service.auth import Role, create_key

    propose(client, keys)
    with transaction(hub.sessions) as session:
        token, _ = create_key(session, Role.MEMBER, "Gemeente Hoogeveen", Account.create().address)
    response = client.post(
        "/board/proposals/1/votes", headers={"Authorization": f"Bearer {token}"}, json={"support": "for"}
    )
    body = assert_problem(response, 403)
    assert "sign the request client-side" in body["detail"]


def test_double_vote_is_409(client: TestClient, keys: Any) -> None:
    propose(client, keys)
    vote(client, keys, 1, TVM)
    response = client.post("/board/proposals/1/votes", headers=keys.member(TVM), json={"support": "against"})
    assert_problem(
        response, 409, error="BoardAlreadyVoted", detail=f"{board_account(TVM).address} already voted on proposal 1"
    )


def test_vote_after_recusal_is_409(client: TestClient, keys: Any) -> None:
    propose(client, keys)
    assert (
        client.post(
            "/board/proposals/1/recusals", headers=keys.member(NHL), json={"reason": "Wij zijn het onderwerp"}
        ).status_code
        == 201
    )
    response = client.post("/board/proposals/1/votes", headers=keys.member(NHL), json={"support": "for"})
    assert_problem(
        response,
        409,
        error="BoardAlreadyRecused",
        detail=f"{board_account(NHL).address} recused itself from proposal 1",
    )


def test_vote_after_expiry_is_409(client: TestClient, keys: Any, anvil: Any) -> None:
    propose(client, keys)
    advance_time(anvil.w3, WEEK + 1)
    response = client.post("/board/proposals/1/votes", headers=keys.member(UNIGARANT), json={"support": "for"})
    assert_problem(
        response, 409, error="BoardUnexpectedProposalState", detail="proposal 1 is Expired, it must be Active"
    )
    assert client.get("/board/proposals/1").json()["state"] == "expired"


def test_expired_signed_ballot_is_422(client: TestClient, keys: Any, anvil: Any) -> None:
    propose(client, keys)
    ballot = signed_ballot(client, 1, board_account(HANZE))
    advance_time(anvil.w3, 2 * 3600)  # past the ballot's deadline, voting still open
    body = assert_problem(client.post("/board/proposals/1/votes", json=ballot), 422, error="BoardExpiredSignature")
    assert str(ballot["deadline"]) in body["detail"]


def test_execute_before_success_is_409(client: TestClient, keys: Any) -> None:
    propose(client, keys)
    vote(client, keys, 1, TVM)
    response = client.post("/board/proposals/1/execute", headers=keys.member(TVM))
    assert_problem(
        response, 409, error="BoardUnexpectedProposalState", detail="proposal 1 is Active, it must be Succeeded"
    )


def test_execute_without_a_member_key_is_refused(client: TestClient, keys: Any) -> None:
    propose(client, keys)
    assert_problem(client.post("/board/proposals/1/execute"), 401)
    assert_problem(client.post("/board/proposals/1/execute", headers=keys.admin()), 403)


def test_malformed_bodies_are_422_with_the_field_named(client: TestClient, keys: Any) -> None:
    propose(client, keys)
    member = keys.member(TVM)
    bad_support = assert_problem(client.post("/board/proposals/1/votes", headers=member, json={"support": "yes"}), 422)
    assert bad_support["detail"].startswith("support: ")
    no_title = accredit_nhl(keys)
    del no_title["title"]
    assert (
        assert_problem(client.post("/board/proposals", headers=member, json=no_title), 422)["detail"]
        == "title: is required"
    )
    bad_subject = client.post("/board/proposals", headers=member, json=accredit_nhl(keys, subject="0x1234"))
    assert assert_problem(bad_subject, 422)["detail"].startswith("subject: ")
    no_subject = client.post("/board/proposals", headers=member, json=accredit_nhl(keys, subject=None))
    assert assert_problem(no_subject, 422)["detail"] == (
        "subject: an accredit-issuer proposal needs the account it is about"
    )
    resolution_with_name = client.post(
        "/board/proposals",
        headers=member,
        json=accredit_nhl(keys, kind="resolution", subject=None, public_key_multibase=None),
    )
    assert assert_problem(resolution_with_name, 422)["detail"] == "name: a resolution proposal has no name"
    bad_kind = client.post("/board/proposals", headers=member, json=accredit_nhl(keys, kind="abolish-board"))
    assert assert_problem(bad_kind, 422)["detail"].startswith("kind: ")
    bad_rules = client.post(
        "/board/proposals",
        headers=member,
        json=accredit_nhl(
            keys,
            kind="change-rules",
            subject=None,
            name=None,
            public_key_multibase=None,
            rules={
                "quorum_bps": 0,
                "majority_bps": 5000,
                "supermajority_bps": 6666,
                "voting_period": 3600,
                "execution_period": 3600,
            },
        ),
    )
    assert assert_problem(bad_rules, 422)["detail"].startswith("rules.quorum_bps: ")
    half_signed = client.post("/board/proposals/1/votes", json={"support": "for", "voter": board_account(TVM).address})
    assert "voter, deadline and signature together" in assert_problem(half_signed, 422)["detail"]
    empty_reason = client.post("/board/proposals/1/recusals", headers=member, json={"reason": "  "})
    assert assert_problem(empty_reason, 422)["detail"].startswith("reason: ")


def test_unknown_proposal_is_404(client: TestClient, keys: Any) -> None:
    member = keys.member(TVM)
    detail = "there is no proposal 99"
    assert_problem(client.get("/board/proposals/99"), 404, detail=detail)
    assert_problem(
        client.post("/board/proposals/99/votes", headers=member, json={"support": "for"}), 404, detail=detail
    )
    assert_problem(
        client.post("/board/proposals/99/recusals", headers=member, json={"reason": "x"}), 404, detail=detail
    )
    assert_problem(client.post("/board/proposals/99/execute", headers=member), 404, detail=detail)
    assert_problem(
        client.get("/board/proposals/99/ballot-typed-data", params={"voter": board_account(TVM).address}),
        404,
        detail=detail,
    )


# ---------------------------------------------------------------- the signed-ballot path and the docs


def test_ballot_typed_data_is_an_eip712_ballot_for_the_voter(client: TestClient, keys: Any, hub: Hub) -> None:
    propose(client, keys)
    voter = board_account(HANZE).address
    response = client.get(
        "/board/proposals/1/ballot-typed-data",
        params={"voter": voter.lower(), "support": "abstain", "reason": "Geen mening"},
    )
    assert response.status_code == 200, response.text
    data = response.json()
    typed = data["typed_data"]
    assert typed["primaryType"] == "Ballot"
    assert typed["domain"] == {
        "name": "IT Hub Hoogeveen Board",
        "version": "1",
        "chainId": hub.chain_id,
        "verifyingContract": hub.board_address,
    }
    assert typed["message"] == {
        "proposalId": 1,
        "support": 2,
        "reason": "Geen mening",
        "voter": voter,
        "nonce": data["nonce"],
        "deadline": data["deadline"],
    }
    assert_problem(client.get("/board/proposals/1/ballot-typed-data", params={"voter": "nobody"}), 422)


def test_openapi_shows_an_example_for_every_request_body(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    board_ops = {
        (path, method): op
        for path, ops in spec["paths"].items()
        if path.startswith("/board")
        for method, op in ops.items()
    }
    meeting_ops = {key for key in board_ops if key[0].startswith("/board/meetings")}
    assert (
        len(board_ops) - len(meeting_ops) == 9 and len(meeting_ops) == 8
    )  # the meetings: tests/api/test_meetings_api.py
    for (path, method), op in board_ops.items():
        assert "200" in op["responses"] or "201" in op["responses"], (path, method)
        if "requestBody" not in op:
            continue
        content = op["requestBody"]["content"]["application/json"]
        schema_name = content["schema"]["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][schema_name]
        assert content.get("examples") or schema.get("examples"), (path, method)
    votes = board_ops[("/board/proposals/{proposal_id}/votes", "post")]
    assert set(votes["requestBody"]["content"]["application/json"]["examples"]) == {"member-key", "signed-ballot"}
    assert {"401", "403", "404", "409", "422"} <= set(votes["responses"])


# ---------------------------------------------------------------- signing keys


def test_accrediting_without_a_signing_key_or_with_a_bad_one_is_422(client: TestClient, keys: Any) -> None:
    member = keys.member(TVM)
    without = client.post("/board/proposals", headers=member, json=accredit_nhl(keys, public_key_multibase=None))
    assert assert_problem(without, 422)["detail"] == (
        "public_key_multibase: an accredit-issuer proposal needs the issuer's signing key"
    )
    for bad in ("z6MkNOTAKEY", "u" + nhl_key(keys)[1:], "zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"):
        refused = client.post("/board/proposals", headers=member, json=accredit_nhl(keys, public_key_multibase=bad))
        assert assert_problem(refused, 422)["detail"].startswith("public_key_multibase: not an Ed25519 Multikey")
    suspend_with_key = client.post(
        "/board/proposals",
        headers=member,
        json=accredit_nhl(keys, kind="suspend-issuer", name=None, public_key_multibase=nhl_key(keys)),
    )
    assert assert_problem(suspend_with_key, 422)["detail"] == (
        "public_key_multibase: a suspend-issuer proposal has no public_key_multibase"
    )
    assert client.get("/board/proposals").json() == []  # nothing was proposed


def decide(client: TestClient, keys: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Propose `body` as TVM, have three more members vote for, execute it: the decision."""
    created = client.post("/board/proposals", headers=keys.member(TVM), json=body)
    assert created.status_code == 201, created.text
    proposal_id = created.json()["id"]
    for member in (TVM, UNIGARANT, HANZE, ALFA):
        vote(client, keys, proposal_id, member)
    executed = client.post(f"/board/proposals/{proposal_id}/execute", headers=keys.member(TVM))
    assert executed.status_code == 200, executed.text
    return dict(executed.json())


def test_rotating_an_issuers_key_is_a_board_decision_and_keeps_the_history(
    client: TestClient, keys: Any, hub: Hub
) -> None:
    issuer = keys.addresses[("issuer", NHL)]
    decide(client, keys, accredit_nhl(keys))
    advance_time(hub.w3, 60)
    new_key = public_multibase(Ed25519PrivateKey.generate())
    rotation = decide(
        client,
        keys,
        {
            "kind": "rotate-issuer-key",
            "subject": issuer,
            "public_key_multibase": new_key,
            "title": "Nieuwe ondertekeningssleutel NHL Stenden",
            "document": "Het bestuur accrediteert de nieuwe sleutel van NHL Stenden.",
        },
    )
    assert (rotation["kind"], rotation["subject"], rotation["name"]) == ("rotate-issuer-key", issuer, None)
    assert rotation["public_key_multibase"] == new_key
    history = hub.registry.signing_keys(issuer)
    assert [k.key_hash for k in history] == [multikey.key_hash_of(nhl_key(keys)), multikey.key_hash_of(new_key)]
    assert history[0].since < history[1].since
    assert hub.registry.signing_key_at(issuer, history[1].since - 1) == multikey.key_hash_of(nhl_key(keys))
    register = client.get("/board/decisions").json()
    assert [(d["kind"], d["public_key_multibase"]) for d in register] == [
        ("accredit-issuer", nhl_key(keys)),
        ("rotate-issuer-key", new_key),
    ]
    # the indexer recorded both key events
    with hub.sessions() as session:
        events = session.scalars(
            select(ChainEvent)
            .where(ChainEvent.name.in_(("IssuerAccredited", "IssuerKeyRotated")))
            .order_by(ChainEvent.block_number)
        ).all()
    assert [(e.name, e.args["keyHash"]) for e in events] == [
        ("IssuerAccredited", rotation_hex(nhl_key(keys))),
        ("IssuerKeyRotated", rotation_hex(new_key)),
    ]
    assert events[1].args["previousKeyHash"] == rotation_hex(nhl_key(keys))


def rotation_hex(multibase: str) -> str:
    return "0x" + multikey.key_hash_of(multibase).hex()


def test_rotating_the_key_of_an_issuer_that_is_not_accredited_is_refused_at_execution(
    client: TestClient, keys: Any
) -> None:
    body = {
        "kind": "rotate-issuer-key",
        "subject": keys.addresses[("issuer", NHL)],
        "public_key_multibase": nhl_key(keys),
        "title": "Sleutel",
        "document": "Nieuwe sleutel.",
    }
    created = client.post("/board/proposals", headers=keys.member(TVM), json=body)
    assert created.status_code == 201, created.text
    for member in (TVM, UNIGARANT, HANZE, ALFA):
        vote(client, keys, created.json()["id"], member)
    refused = client.post(f"/board/proposals/{created.json()['id']}/execute", headers=keys.member(TVM))
    issuer = keys.addresses[("issuer", NHL)]
    assert_problem(
        refused, 403, error="RegistryIssuerNotAccredited", detail=f"{issuer} is not an accredited issuer now"
    )
