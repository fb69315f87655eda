"""The board console (/console/board) on a real anvil with the hub deployed: a board member proposes every kind
of decision the contract supports (a resolution's document uploaded and hashed, a partner's key as a Multikey
or its key file), votes, recuses and executes, each act confirmed with the member's password before the
member's key (in the service keystore) signs and the relayer pays. Refused acts are sentences in the reader's
language. Signed-in sessions come from tests/consoles/kit.py (the sign-in pages are J1's)."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from functools import cache
from typing import Any

import argon2
import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from service.chain.devchain import dev_accounts
from service.demo import ORGANISATIONS
from service.hub import Hub
from service.issuing.signing_keys import dev_signing_key, public_multibase
from tests.api.conftest import (  # noqa: F401 - fixtures, registered by importing them here
    anvil,
    chain_state,
    client,
    deployments_dir,
    hub,
    keys,
    settings,
)
from tests.chain import advance_time
from tests.consoles.kit import make_account, sign_in
from tests.pages.test_pages import text_of

PASSWORD = "paarse olifant op de dijk"
TVM, UNIGARANT, HANZE, RUG, NHL, ALFA = (org.name for org in ORGANISATIONS)
WEEK = 7 * 24 * 3600
SOMEONE = "0x" + "11" * 20  # an account nobody holds


@cache
def password_hash() -> str:
    return argon2.PasswordHasher().hash(PASSWORD)


@cache
def address_of(name: str, role: str = "board") -> str:
    org = next(org for org in ORGANISATIONS if org.name == name)
    index = org.board_account if role == "board" else org.issuer_account
    assert index is not None
    return dev_accounts()[index].address


class Board:
    """Board members signed in to the console of one TestClient (one at a time: `as_member` switches)."""

    def __init__(self, client: TestClient, hub: Hub) -> None:
        self.client, self.hub = client, hub
        self.accounts: dict[str, int] = {}
        self.csrf = ""

    def as_member(self, name: str) -> Board:
        if name not in self.accounts:
            email = re.sub(r"[^a-z]", "", name.lower()) + "@example.org"
            self.accounts[name] = make_account(
                self.hub, "board", email, f"Bestuurder {name}", address_of(name), password_hash()
            )
        self.csrf = sign_in(self.client, self.hub, self.accounts[name])
        return self

    def form(self, **fields: Any) -> dict[str, Any]:
        return {"csrf": self.csrf, "password": PASSWORD, **fields}

    def propose(self, files: dict[str, Any] | None = None, **fields: Any) -> Any:
        return self.client.post("/console/board/propose", data=self.form(**fields), files=files, follow_redirects=False)

    def act(self, proposal_id: int, act: str, **fields: Any) -> Any:
        return self.client.post(
            f"/console/board/proposals/{proposal_id}/{act}", data=self.form(**fields), follow_redirects=False
        )


@pytest.fixture
def board(client: TestClient, hub: Hub) -> Board:
    return Board(client, hub)


def proposal_id_of(response: Any) -> int:
    assert response.status_code == 303, text_of(response)[:600]
    match = re.fullmatch(r"/console/board/proposals/(\d+)\?done=proposed", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def api_proposal(client: TestClient, proposal_id: int) -> dict[str, Any]:
    response = client.get(f"/board/proposals/{proposal_id}")
    assert response.status_code == 200, response.text
    return response.json()


def resolution(board: Board, title: str = "Jaarrekening 2025") -> int:
    return proposal_id_of(
        board.propose(kind="resolution", title=title, document="Het bestuur stelt de jaarrekening 2025 vast.")
    )


def assert_refused(response: Any, status: int, sentence: str) -> str:
    assert response.status_code == status, text_of(response)[:600]
    text = text_of(response)
    assert sentence in text, text[:1500]
    return text


# ---------------------------------------------------------------- who may open it


def test_the_console_asks_to_sign_in_and_is_only_for_board_members(client: TestClient, hub: Hub) -> None:
    response = client.get("/console/board", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Fconsole%2Fboard"
    response = client.post("/console/board/proposals/1/vote", data={"support": "for"}, follow_redirects=False)
    assert response.status_code == 303  # no session: nothing signed, to the sign-in page

    partner = make_account(hub, "partner", "staf@hanze.example", "Staf Hanze", address_of(HANZE, "issuer"))
    csrf = sign_in(client, hub, partner)
    assert_refused(client.get("/console/board"), 403, "Your account cannot open this page.")
    response = client.post(
        "/console/board/propose",
        data={"csrf": csrf, "password": PASSWORD, "kind": "resolution", "title": "x", "document": "y"},
    )
    assert_refused(response, 403, "Your account cannot open this page.")
    assert client.get("/board/proposals").json() == []


def test_the_home_page_shows_the_members_their_seats_and_the_proposals(
    board: Board, client: TestClient, hub: Hub
) -> None:
    # an account stored with its address in lower case still finds its seat
    lower = make_account(hub, "board", "tvm@example.org", "TVM", address_of(TVM).lower(), password_hash())
    board.accounts[TVM] = lower
    board.as_member(TVM)
    proposal_id = resolution(board, "Begroting 2026")
    response = client.get("/console/board")
    assert response.status_code == 200
    assert response.headers["cache-control"].startswith("no-store")
    text = text_of(response)
    for org in ORGANISATIONS:
        assert org.name in text
    assert "Seat 1" in text and "your seat" in text
    assert f"Proposal {proposal_id}: Begroting 2026" in text
    assert "Voting stays open 7 days" in text
    dutch = text_of(client.get("/console/board", headers={"Accept-Language": "nl"}))
    assert "Zetel 1" in dutch and "jouw zetel" in dutch and "Stemming open" in dutch


# ---------------------------------------------------------------- propose → vote → execute


def test_a_resolution_with_an_uploaded_document_is_proposed_voted_on_and_executed(
    board: Board, client: TestClient, hub: Hub
) -> None:
    document = "Het bestuur stelt de jaarrekening 2025 van de stichting vast.\nBijlage: balans en resultaat.\n"
    board.as_member(TVM)
    response = board.propose(
        kind="resolution",
        title="Jaarrekening 2025",
        document="",
        files={"document_file": ("jaarrekening.txt", document.encode(), "text/plain")},
    )
    proposal_id = proposal_id_of(response)
    proposal = api_proposal(client, proposal_id)
    assert proposal["document_hash"] == "0x" + hashlib.sha256(document.encode()).hexdigest()
    assert proposal["document"]["text"] == document and proposal["document"]["matches_chain"]
    assert proposal["proposer"] == address_of(TVM)  # the member's key signed; the relayer sent it
    page = text_of(client.get(f"/console/board/proposals/{proposal_id}?done=proposed"))
    assert "Your proposal is on the blockchain." in page and "Bijlage: balans en resultaat." in page

    for member, support in ((TVM, "for"), (UNIGARANT, "for"), (HANZE, "against"), (RUG, "for"), (NHL, "for")):
        response = board.as_member(member).act(proposal_id, "vote", support=support, reason=f"{member} stemt")
        assert response.status_code == 303, text_of(response)[:600]
        assert response.headers["location"] == f"/console/board/proposals/{proposal_id}?done=vote"
    proposal = api_proposal(client, proposal_id)
    assert proposal["state"] == "succeeded"
    assert {v["voter"]: v["support"] for v in proposal["votes"]}[address_of(HANZE)] == "against"
    assert {v["voter"]: v["reason"] for v in proposal["votes"]}[address_of(RUG)] == f"{RUG} stemt"

    page = text_of(board.client.get(f"/console/board/proposals/{proposal_id}"))
    assert "Carry out the decision" in page and "Cast my vote" not in page
    response = board.as_member(ALFA).act(proposal_id, "execute")
    assert response.status_code == 303, text_of(response)[:600]
    assert api_proposal(client, proposal_id)["state"] == "executed"
    decisions = client.get("/board/decisions").json()
    assert [d["proposal_id"] for d in decisions] == [proposal_id]
    register = text_of(client.get(f"/board/register/proposals/{proposal_id}"))
    assert "Bijlage: balans en resultaat." in register and f"{RUG} stemt" in register


def test_a_partner_is_accredited_with_its_key_file(board: Board, client: TestClient, keys: Any) -> None:
    nhl = address_of(NHL, "issuer")
    multikey = public_multibase(dev_signing_key(nhl))
    key_file = json.dumps({"version": 1, "type": "Ed25519", "address": nhl, "publicKeyMultibase": multikey})
    board.as_member(TVM)
    response = board.propose(
        kind="accredit-issuer",
        title="Accreditatie NHL Stenden",
        name=NHL,
        subject="",  # the key file names the account
        document="Het bestuur accrediteert NHL Stenden als uitgever van microcredentials.",
        files={"key_file": (f"{nhl}.json", key_file.encode(), "application/json")},
    )
    proposal = api_proposal(client, proposal_id_of(response))
    assert (proposal["kind"], proposal["subject"], proposal["name"]) == ("accredit-issuer", nhl, NHL)
    assert proposal["public_key_multibase"] == multikey
    for member in (TVM, UNIGARANT, HANZE, RUG):
        assert board.as_member(member).act(proposal["id"], "vote", support="for").status_code == 303
    assert board.act(proposal["id"], "execute").status_code == 303
    partners = text_of(client.get("/partners"))
    assert NHL in partners


def test_every_other_kind_of_proposal_from_its_form(board: Board, client: TestClient) -> None:
    board.as_member(UNIGARANT)
    newcomer = dev_accounts()[18].address
    hanze = address_of(HANZE, "issuer")
    new_key = public_multibase(dev_signing_key(dev_accounts()[17].address))
    text = "Toelichting bij het voorstel."
    forms: list[dict[str, Any]] = [
        {"kind": "add-member", "subject": newcomer, "name": "Gemeente Hoogeveen"},
        {"kind": "remove-member", "subject": address_of(ALFA)},
        {"kind": "suspend-issuer", "subject": hanze},
        {"kind": "rotate-issuer-key", "subject": hanze, "public_key_multibase": new_key},
        {
            "kind": "change-rules",
            "quorum_bps": "60",
            "majority_bps": "50",
            "supermajority_bps": "66,67",  # a Dutch decimal comma
            "voting_period": "14",
            "execution_period": "0,5",
        },
    ]
    for fields in forms:
        form_page = client.get(f"/console/board/propose?kind={fields['kind']}")
        assert form_page.status_code == 200 and 'enctype="multipart/form-data"' in form_page.text
        response = board.propose(title=f"Voorstel {fields['kind']}", document=text, **fields)
        proposal = api_proposal(client, proposal_id_of(response))
        assert proposal["kind"] == fields["kind"] and proposal["proposer"] == address_of(UNIGARANT)
        if "subject" in fields:
            assert proposal["subject"] == fields["subject"]
    add, _remove, _suspend, rotate, rules = client.get("/board/proposals").json()[::-1]
    assert add["name"] == "Gemeente Hoogeveen"
    assert rotate["public_key_multibase"] == new_key
    assert api_proposal(client, rules["id"])["rules"] == {
        "quorum_bps": 6000,
        "majority_bps": 5000,
        "supermajority_bps": 6667,
        "voting_period": 14 * 86_400,
        "execution_period": 43_200,
    }


# ---------------------------------------------------------------- refusals, readable


def test_a_wrong_password_signs_nothing(board: Board, client: TestClient) -> None:
    board.as_member(TVM)
    proposal_id = resolution(board)
    response = board.act(proposal_id, "vote", support="for", password="niet mijn wachtwoord")
    assert_refused(response, 403, "That is not your password. Nothing was signed")
    response = board.propose(kind="resolution", title="Tweede", document="Tekst.", password="")
    assert_refused(response, 403, "That is not your password.")
    proposal = api_proposal(client, proposal_id)
    assert proposal["votes"] == [] and proposal["tally"]["for_votes"] == 0
    assert len(client.get("/board/proposals").json()) == 1


def test_a_pause_of_acts_is_logged_with_the_address_it_came_from(board: Board, client: TestClient) -> None:
    """Wrong confirmation passwords that pause a member's acts write one audit line naming the request's client
    address, as every other line of the audit log does (it was left empty)."""
    from sqlalchemy import select

    from service.db import models
    from service.web import signin

    board.as_member(TVM)
    for _attempt in range(signin.ACT_LIMIT):
        response = board.propose(kind="resolution", title="x", document="y", password="niet mijn wachtwoord")
        assert_refused(response, 403, "That is not your password.")
    assert_refused(board.propose(kind="resolution", title="x", document="y"), 429, "Too many wrong passwords")
    with board.hub.sessions() as db:
        (line,) = db.scalars(select(models.AuditEntry)).all()
        assert (line.act, line.actor_id, line.client_address) == ("acts-paused", board.accounts[TVM], "testclient")


def test_a_form_without_its_csrf_token_changes_nothing(board: Board, client: TestClient) -> None:
    board.as_member(TVM)
    proposal_id = resolution(board)
    response = client.post(
        f"/console/board/proposals/{proposal_id}/vote", data={"password": PASSWORD, "support": "for"}
    )
    assert_refused(response, 403, "This form has expired")
    response = client.post(
        "/console/board/propose",
        data={"csrf": "not-the-token", "password": PASSWORD, "kind": "resolution", "title": "x", "document": "y"},
    )
    assert_refused(response, 403, "This form has expired")
    assert api_proposal(client, proposal_id)["votes"] == []
    assert len(client.get("/board/proposals").json()) == 1


def test_voting_twice_is_refused_with_a_sentence_in_both_languages(board: Board, client: TestClient) -> None:
    board.as_member(TVM)
    proposal_id = resolution(board)
    assert board.act(proposal_id, "vote", support="for").status_code == 303
    page = text_of(client.get(f"/console/board/proposals/{proposal_id}"))
    assert "Cast my vote" not in page and "Voted for" in page  # no form to vote again
    again = board.act(proposal_id, "vote", support="against")  # the same form, posted again
    assert_refused(again, 409, "You already voted on this proposal. A vote cannot be changed.")
    dutch = client.post(
        f"/console/board/proposals/{proposal_id}/vote",
        data=board.form(support="against"),
        headers={"Accept-Language": "nl"},
    )
    assert_refused(dutch, 409, "Je hebt al gestemd over dit voorstel.")
    assert [v["support"] for v in api_proposal(client, proposal_id)["votes"]] == ["for"]


def test_voting_after_recusing_is_refused(board: Board, client: TestClient) -> None:
    board.as_member(TVM)
    proposal_id = resolution(board)
    response = board.as_member(HANZE).act(proposal_id, "recuse", reason="Wij leveren de accountant.")
    assert response.status_code == 303, text_of(response)[:600]
    page = text_of(client.get(f"/console/board/proposals/{proposal_id}"))
    assert "Did not take part (conflict of interest)" in page and "Cast my vote" not in page
    response = board.act(proposal_id, "vote", support="for")
    assert_refused(response, 409, "You said you do not take part in this proposal")
    response = board.act(proposal_id, "recuse", reason="")
    assert_refused(response, 422, "Say why you do not take part")
    proposal = api_proposal(client, proposal_id)
    assert proposal["votes"] == []
    assert [(r["member"], r["reason"]) for r in proposal["recusals"]] == [
        (address_of(HANZE), "Wij leveren de accountant.")
    ]


def test_acts_on_a_closed_proposal_are_refused(board: Board, client: TestClient, hub: Hub) -> None:
    board.as_member(TVM)
    proposal_id = resolution(board)
    advance_time(hub.w3, WEEK + 60)
    page = text_of(client.get(f"/console/board/proposals/{proposal_id}"))
    assert "Cast my vote" not in page and "Carry out the decision" not in page
    response = board.act(proposal_id, "vote", support="for")
    assert_refused(response, 409, "This cannot be done now: the proposal is no longer in that stage.")
    response = board.act(proposal_id, "execute")
    assert_refused(response, 409, "This cannot be done now")
    unknown = "The board has made no proposal with this number."
    assert_refused(board.act(999, "vote", support="for"), 404, unknown)
    assert_refused(client.get("/console/board/proposals/abc"), 404, unknown)
    for odd in ("²", "1²", "٣"):  # digits to isdigit(), not to int(): no such proposal, never a crash
        assert_refused(client.get(f"/console/board/proposals/{odd}"), 404, unknown)


@pytest.mark.parametrize(
    ("fields", "files", "sentence"),
    [
        ({"kind": "resolution", "title": "", "document": "Tekst."}, None, "Give the proposal a title."),
        ({"kind": "resolution", "title": "T", "document": " "}, None, "Type the decision text or upload it"),
        ({"kind": "unknown", "title": "T", "document": "x"}, None, "Choose what kind of proposal this is."),
        (
            {"kind": "resolution", "title": "T", "document": ""},
            {"document_file": ("scan.pdf", b"%PDF-1.7\xff\xfe\x00", "application/pdf")},
            "The document must be a text file (UTF-8)",
        ),
        (
            {"kind": "resolution", "title": "T", "document": ""},
            {"document_file": ("groot.txt", b"a" * 200_001, "text/plain")},
            "The file is too large: at most 200 kB.",
        ),
        (
            {"kind": "suspend-issuer", "title": "T", "document": "x", "subject": "0x1234"},
            None,
            "Account address: not a blockchain account",
        ),
        ({"kind": "add-member", "title": "T", "document": "x", "name": "Nieuw"}, None, "Account address: this is"),
        (
            {
                "kind": "accredit-issuer",
                "title": "T",
                "document": "x",
                "name": "N",
                "subject": SOMEONE,
                "public_key_multibase": "z6Mkniet",
            },
            None,
            "Signing key: this is not an Ed25519 signing key",
        ),
        (
            {"kind": "accredit-issuer", "title": "T", "document": "x", "name": "N", "subject": SOMEONE},
            {
                "key_file": (
                    "key.json",
                    b'{"address": "0x' + b"22" * 20 + b'", "publicKeyMultibase": "z6Mk"}',
                    "application/json",
                )
            },
            "The key file belongs to another account",
        ),
        (
            {
                "kind": "change-rules",
                "title": "T",
                "document": "x",
                "quorum_bps": "veel",
                "majority_bps": "50",
                "supermajority_bps": "60",
                "voting_period": "7",
                "execution_period": "7",
            },
            None,
            "Quorum: give a percentage",
        ),
        (
            {
                "kind": "change-rules",
                "title": "T",
                "document": "x",
                "quorum_bps": "inf",
                "majority_bps": "50",
                "supermajority_bps": "60",
                "voting_period": "nan",
                "execution_period": "7",
            },
            None,
            "Quorum: give a percentage",
        ),
        (
            {
                "kind": "change-rules",
                "title": "T",
                "document": "x",
                "quorum_bps": "50",
                "majority_bps": "50",
                "supermajority_bps": "60",
                "voting_period": "0",
                "execution_period": "7",
            },
            None,
            "Voting period: this value is outside what the rules allow",
        ),
    ],
)
def test_a_proposal_form_with_a_mistake_says_what_is_wrong_and_proposes_nothing(
    board: Board, client: TestClient, fields: dict[str, Any], files: Any, sentence: str
) -> None:
    board.as_member(TVM)
    response = board.propose(files=files, **fields)
    text = assert_refused(response, 413 if sentence.startswith("The file") else 422, sentence)
    assert "There is a problem" in text
    assert client.get("/board/proposals").json() == []


def test_a_member_whose_key_the_hub_does_not_hold_is_told_so(board: Board, client: TestClient, hub: Hub) -> None:
    board.as_member(TVM)
    proposal_id = resolution(board)
    stranger = make_account(hub, "board", "gemeente@example.org", "Gemeente", Account.create().address, password_hash())
    board.csrf = sign_in(client, hub, stranger)
    response = board.act(proposal_id, "vote", support="for")
    assert_refused(response, 403, "The hub holds no key for your seat, so it cannot sign for you.")
    page = assert_refused(client.get(f"/console/board/proposals/{proposal_id}"), 200, "Your part")
    assert "you were not a member when it was made" in page and "Cast my vote" not in page
    assert api_proposal(client, proposal_id)["votes"] == []


def test_the_password_that_unlocks_a_key_is_never_logged(
    board: Board, client: TestClient, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    board.as_member(TVM)
    proposal_id = resolution(board)
    assert board.act(proposal_id, "vote", support="for", reason="akkoord").status_code == 303
    board.act(proposal_id, "vote", support="for", password=PASSWORD + "x")  # refused: a wrong one neither
    logged = caplog.text + "".join(capfd.readouterr())
    assert f"proposal {proposal_id}" in logged  # the acts are logged, by account id
    assert PASSWORD not in logged


def test_a_proposal_form_sent_twice_proposes_once(board: Board, client: TestClient) -> None:
    """A double click (or a reloaded answer) sends the same form twice: its once-only id makes the second answer
    the proposal the first made; a new form (a new id) proposes again."""
    board.as_member(TVM)
    form_page = client.get("/console/board/propose?kind=resolution")
    form_id = re.search(r'name="form_id" value="([^"]+)"', form_page.text)
    assert form_id, "the propose form carries its once-only id"
    fields = {"kind": "resolution", "title": "Tweemaal verstuurd", "document": "Eén besluit.", "form_id": form_id[1]}
    first = proposal_id_of(board.propose(**fields))
    second = proposal_id_of(board.propose(**fields))
    assert first == second
    assert len(client.get("/board/proposals").json()) == 1
    another = proposal_id_of(board.propose(**{**fields, "form_id": "x" * 22}))
    assert another != first
