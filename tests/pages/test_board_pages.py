"""The board's public pages on a real anvil with the hub deployed: the register (members and their seats, the
proposals), a proposal's own page, the approved partners and the decisions about each, and the redirect from a
credential's "issuer accredited" check to the decision in force when it was anchored. In English and Dutch.

Decisions are made as the hub's board makes them: proposed, voted on by four of the six members and executed
on chain (tests/api/conftest.py's `accredited`), or proposed, voted on and recused from through the API.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from service.chain.board import Action
from service.credentials import multikey
from service.demo import ORGANISATIONS
from service.hub import Hub
from tests.chain import advance_time
from tests.pages.test_pages import assert_page, text_of

HANZE = "Hanzehogeschool Groningen"
ALFA = "Alfa-college"


def dutch(client: TestClient, path: str, status: int = 200) -> str:
    """The page at `path` in Dutch (the browser asks for it), as text."""
    response = client.get(path, headers={"Accept-Language": "nl"})
    assert response.status_code == status, response.text[:500]
    assert '<html lang="nl">' in response.text
    return text_of(response)


def links(response: Any, pattern: str) -> list[str]:
    return re.findall(rf'href="({pattern})"', response.text)


def unix(moment: str) -> int:
    return int(datetime.fromisoformat(moment).timestamp())


def decide_about_alfa(client: TestClient, hub: Hub, accredited: Any) -> list[dict[str, Any]]:
    """Alfa-college accredited, suspended and accredited again, a day apart: the three decisions as the JSON
    API's decision register lists them (with executed_at)."""
    accredited(ALFA)
    advance_time(hub.w3, 86_400)
    accredited.suspend(ALFA)
    advance_time(hub.w3, 86_400)
    accredited(ALFA)  # suspended: accredited again by a third decision
    hub.indexer.catch_up()
    decisions = client.get("/board/decisions").json()
    assert [d["kind"] for d in decisions] == ["accredit-issuer", "suspend-issuer", "accredit-issuer"]
    return decisions


# ---------------------------------------------------------------- the register


def test_register_lists_the_members_in_their_seats_and_each_proposal_links_to_its_page(
    client: TestClient, hub: Hub, keys: Any, accredited: Any
) -> None:
    accredited(HANZE)  # proposal 1
    proposed = client.post(
        "/board/proposals",
        headers=keys.member("TVM verzekeringen"),
        json={"kind": "resolution", "title": "Jaarrekening 2025", "document": "De jaarrekening 2025 is vastgesteld."},
    )
    assert proposed.status_code == 201, proposed.text
    hub.indexer.catch_up()

    response = client.get("/board/register")
    text = assert_page(response)
    members = [org.name for org in ORGANISATIONS if org.board_account is not None]
    seats = text[text.index("Members of the board") : text.index("Proposals")]
    for number, name in enumerate(members, start=1):
        assert f"Seat {number} {name} (member since" in seats, (number, name)
    assert "2 proposals in total." in text
    assert text.index("Proposal 2 · Resolution") < text.index("Proposal 1 · Approve an issuing partner")
    assert "0 for 0 against 0 abstained 0 did not take part 6 have not voted yet" in text
    assert "4 for 0 against 0 abstained 0 did not take part 2 did not vote" in text
    # each proposal links to its own page (no raw JSON on the register), and each link resolves
    assert set(links(response, r"/board/register/proposals/\d+")) == {
        "/board/register/proposals/1",
        "/board/register/proposals/2",
    }
    assert 'href="/board/proposals/' not in response.text
    for path in links(response, r"/board/register/proposals/\d+"):
        assert_page(client.get(path))
    # the decision about Hanze links to its partner page, which resolves
    (partner,) = set(links(response, r"/partners/[a-z0-9-]+"))
    assert partner == "/partners/hanzehogeschool-groningen"
    assert HANZE in assert_page(client.get(partner))
    assert 'href="/partners"' in response.text  # in the navigation too

    nl = dutch(client, "/board/register")
    assert "Besluitenregister van het bestuur" in nl and "Leden van het bestuur" in nl
    assert f"Zetel 1 {members[0]} (lid sinds" in nl
    assert "2 voorstellen in totaal." in nl
    assert "Voorstel 2 · Besluit" in nl and "Voorstel 1 · Een uitgevende partner erkennen" in nl
    assert "4 voor 0 tegen 0 onthouding 0 niet deelgenomen 2 niet gestemd" in nl
    assert "Jaarrekening 2025" in nl  # the board's own words, as written


def test_register_shows_a_free_seat_after_a_member_leaves(client: TestClient, hub: Hub, accredited: Any) -> None:
    table = accredited.board.member_table()
    leaving = next(member for member in accredited.board.members() if member.account == table[1])
    address = leaving.account
    accredited._decide(Action.remove_member(address), f"{leaving.name} treedt terug uit het bestuur.")
    hub.indexer.catch_up()
    response = client.get("/board/register")
    text = assert_page(response)
    seats = text[text.index("Members of the board") : text.index("Proposals")]
    assert "Seat 2 Free seat" in seats and leaving.name not in seats
    assert "Seat 3 " in seats
    assert "Zetel 2 Vrije zetel" in dutch(client, "/board/register")


def test_register_before_any_proposal(client: TestClient) -> None:
    text = assert_page(client.get("/board/register"))
    assert "The board has not made any proposals yet." in text and "Seat 1 TVM verzekeringen" in text
    assert "The board has not made any proposals yet." in assert_page(client.get("/board/register?page=x"))
    # a digit Python's isdigit() knows but int() does not read ("²"), or another script's digits: the first page
    for page in ("²", "٣", "1²"):
        assert "The board has not made any proposals yet." in assert_page(client.get(f"/board/register?page={page}"))
    assert "Het bestuur heeft nog geen voorstellen gedaan." in dutch(client, "/board/register")


def test_register_page_beyond_the_last_shows_no_members_and_links_back(
    client: TestClient, accredited: Any, hub: Hub
) -> None:
    accredited(HANZE)
    hub.indexer.catch_up()
    text = assert_page(client.get("/board/register?page=3"))
    assert "There are no proposals on this page. Go to the newest proposals." in text
    assert "Members of the board" not in text


# ---------------------------------------------------------------- a proposal's page


def test_a_proposal_page_shows_votes_recusals_result_and_transactions_in_both_languages(
    client: TestClient, hub: Hub, keys: Any, accredited: Any
) -> None:
    accredited(HANZE)  # proposal 1, made on chain directly: the hub has no text for it
    document = "Het bestuur stelt de jaarrekening 2025 van de stichting vast."
    assert (
        client.post(
            "/board/proposals",
            headers=keys.member("TVM verzekeringen"),
            json={"kind": "resolution", "title": "Jaarrekening 2025", "document": document},
        ).status_code
        == 201
    )
    vote = client.post(
        "/board/proposals/2/votes",
        headers=keys.member("Unigarant"),
        json={"support": "against", "reason": "Eerst de accountantsverklaring."},
    )
    assert vote.status_code == 201, vote.text
    recusal = client.post(
        "/board/proposals/2/recusals",
        headers=keys.member("NHL Stenden"),
        json={"reason": "Onze penningmeester stelde de jaarrekening op."},
    )
    assert recusal.status_code == 201, recusal.text
    hub.indexer.catch_up()
    data = client.get("/board/proposals/2").json()

    response = client.get("/board/register/proposals/2")
    text = assert_page(response)
    assert "Board decision register · Proposal 2 · Resolution" in text
    assert "Jaarrekening 2025" in text and "Voting open" in text
    assert document in text and data["document"]["chain_document_hash"] in text
    assert "The text above matches the fingerprint on the blockchain." in text
    assert "0 for 1 against 0 abstained 1 did not take part 4 have not voted yet" in text
    assert "At least 50% of the members who may vote must take part" in text
    assert "Unigarant: Voted against – “Eerst de accountantsverklaring.”" in text
    assert vote.json()["tx_hash"] in text and f"block {vote.json()['block_number']}" in text
    assert "NHL Stenden – “Onze penningmeester stelde de jaarrekening op.”" in text
    assert recusal.json()["tx_hash"] in text
    silent = text[text.index("Have not voted yet") : text.index("Record on the blockchain")]
    for member in data["eligible_members"]:
        assert (member["name"] in silent) == (member["status"] == "not-voted"), member
    assert data["created_tx"] in text and data["proposal_hash"] in text
    assert "matches the commitment on the blockchain" in text
    assert 'href="/board/proposals/2"' in response.text  # the JSON stays, for developers

    nl = dutch(client, "/board/register/proposals/2")
    assert "Besluitenregister van het bestuur · Voorstel 2 · Besluit" in nl
    assert "Stemming open" in nl and "Tekst van het voorstel" in nl
    assert "Unigarant: Tegen gestemd – “Eerst de accountantsverklaring.”" in nl
    assert "Niet deelgenomen (belangenverstrengeling)" in nl
    assert "0 voor 1 tegen 0 onthouding 1 niet deelgenomen 4 nog niet gestemd" in nl
    assert "Minstens 50% van de leden" in nl
    assert "De tekst hierboven komt overeen met de vingerafdruk op de blockchain." in nl

    advance_time(hub.w3, 8 * 86_400)  # past the week of voting: too few took part
    text = text_of(client.get("/board/register/proposals/2"))
    assert "Lapsed Not decided: too few members voted" in text and "Voting closed" in text
    assert "Did not vote" in text

    decision = client.get("/board/proposals/1").json()
    response = client.get("/board/register/proposals/1")
    text = assert_page(response)
    assert "Decided" in text and "4 for 0 against" in text
    assert "The hub does not hold the text of this proposal." in text
    for value in (decision["executed_tx"], decision["created_tx"], decision["document_hash"], decision["subject"]):
        assert value in text, value
    key_hash = decision["key_hash"]
    assert f"Signing key hash {key_hash[:10]}…{key_hash[-6:]} Full key {key_hash}" in text
    assert 'href="/partners/hanzehogeschool-groningen"' in response.text


def test_a_proposal_page_shows_the_new_rules(client: TestClient, hub: Hub, keys: Any) -> None:
    rules = {
        "quorum_bps": 5000,
        "majority_bps": 5000,
        "supermajority_bps": 6666,
        "voting_period": 1_209_600,
        "execution_period": 129_600,
    }
    proposed = client.post(
        "/board/proposals",
        headers=keys.member("TVM verzekeringen"),
        json={"kind": "change-rules", "title": "Stemtermijn 14 dagen", "rules": rules, "document": "Veertien dagen."},
    )
    assert proposed.status_code == 201, proposed.text
    text = assert_page(client.get("/board/register/proposals/1"))
    assert (
        "New rules quorum 50%, majority 50%, for members and rules 66.66%; 14 days to vote, 1.5 days to carry out"
        in text
    )
    nl = dutch(client, "/board/register/proposals/1")
    assert "quorum 50%, meerderheid 50%, voor leden en regels 66,66%; 14 dagen om te stemmen, 1,5 dagen" in nl


def test_an_unknown_proposal_is_a_404_page(client: TestClient, hub: Hub) -> None:
    for path in (
        "/board/register/proposals/1",  # none made yet
        "/board/register/proposals/0",
        "/board/register/proposals/-1",
        "/board/register/proposals/abc",
        "/board/register/proposals/99999999999999999999999",
        "/board/register/proposals/²",
        "/board/register/proposals/٣",
    ):
        text = assert_page(client.get(path), 404)
        assert "There is no such proposal" in text, path
    assert "Dit voorstel bestaat niet" in dutch(client, "/board/register/proposals/7", 404)


# ---------------------------------------------------------------- the partners


def test_partners_page_lists_each_partner_with_status_key_did_and_decisions(
    client: TestClient, hub: Hub, accredited: Any
) -> None:
    hanze, alfa = accredited(HANZE, ALFA)  # proposals 1 and 2
    accredited.suspend(ALFA)  # proposal 3
    identity = hub.identity_for(hanze)  # the hub knows Hanze's key and made its DID
    hub.indexer.catch_up()

    response = client.get("/partners")
    text = assert_page(response)
    assert "Approved partners" in text
    assert 'href="/partners" aria-current="page"' in response.text
    hanze_entry = text[text.index(HANZE) : text.index(ALFA)]  # approved first, then suspended
    alfa_entry = text[text.index(ALFA) :]
    assert "Status Approved since" in hanze_entry and f"Account {hanze}" in hanze_entry
    assert f"Signing key {multikey.short_fingerprint(identity.public_key_multibase)}" in hanze_entry
    assert f"Identity (DID) {identity.did} DID document" in hanze_entry
    assert f'href="/issuers/{identity.slug}/did.json"' in response.text
    assert "Approved by the board" in hanze_entry and "proposal 1" in hanze_entry
    assert "Status Suspended since" in alfa_entry and f"Account {alfa}" in alfa_entry
    alfa_hash = "0x" + hub.registry.signing_keys(alfa)[0].key_hash.hex()
    assert f"Signing key hash {alfa_hash[:10]}…{alfa_hash[-6:]}" in alfa_entry  # never seen by the hub
    assert "Identity (DID)" not in alfa_entry  # no DID made for it yet
    assert alfa_entry.index("Approved by the board") < alfa_entry.index("Suspended,")
    assert "proposal 2" in alfa_entry and "proposal 3" in alfa_entry
    # every link resolves: partner pages, decisions' pages, the DID document
    for path in links(response, r"/partners/[a-z0-9-]+"):
        assert_page(client.get(path))
    proposal_links = links(response, r"/board/register/proposals/\d+")
    assert sorted(proposal_links) == [f"/board/register/proposals/{n}" for n in (1, 2, 3)]
    for path in proposal_links:
        assert_page(client.get(path))
    assert client.get(f"/issuers/{identity.slug}/did.json").status_code == 200

    response = client.get("/partners/alfa-college")
    text = assert_page(response)
    assert "The board suspended Alfa-college" in text and "Decisions of the board" in text
    assert links(response, r"/board/register/proposals/\d+") == [
        "/board/register/proposals/2",
        "/board/register/proposals/3",
    ]

    nl = dutch(client, "/partners")
    assert "Erkende partners" in nl and "Erkend sinds" in nl and "Geschorst sinds" in nl
    assert "Erkend door het bestuur" in nl and "voorstel 3" in nl
    assert "Het bestuur heeft Alfa-college geschorst" in dutch(client, "/partners/alfa-college")


def test_a_key_rotation_is_listed_among_the_decisions(client: TestClient, hub: Hub, accredited: Any) -> None:
    from service.issuing.signing_keys import dev_signing_key, key_hash

    (hanze,) = accredited(HANZE)
    other = dev_signing_key(accredited.address(ALFA))  # any other Ed25519 key
    accredited._decide(Action.rotate_issuer_key(hanze, key_hash(other)), "Nieuwe sleutel voor Hanze.")
    hub.indexer.catch_up()
    response = client.get("/partners/hanzehogeschool-groningen")
    text = assert_page(response)
    assert "Signing key replaced" in text and "proposal 2" in text
    assert "Ondertekeningssleutel vervangen" in dutch(client, "/partners/hanzehogeschool-groningen")


def test_no_partners_yet_and_unknown_partners(client: TestClient, hub: Hub) -> None:
    assert "The board has not approved any partner yet." in assert_page(client.get("/partners"))
    assert "Het bestuur heeft nog geen partner erkend." in dutch(client, "/partners")
    for slug in ("nosuch", "Hanzehogeschool-Groningen", "x" * 70, "-a-", "%2e%2e"):
        text = assert_page(client.get(f"/partners/{slug}"), 404)
        assert "There is no such partner" in text, slug
        assert_page(client.get(f"/partners/{slug}/accreditation?at=1"), 404)
    assert "Deze partner bestaat niet" in dutch(client, "/partners/nosuch", 404)


# ---------------------------------------------------------------- the accreditation in force at a moment


def test_accreditation_redirect_picks_the_decision_in_force_across_accredit_suspend_reaccredit(
    client: TestClient, hub: Hub, accredited: Any
) -> None:
    first, suspended, again = decide_about_alfa(client, hub, accredited)
    t1, t2, t3 = (unix(d["executed_at"]) for d in (first, suspended, again))
    assert t1 < t2 < t3
    path = "/partners/alfa-college/accreditation"

    def goes_to(at: int | None) -> str:
        response = client.get(path if at is None else f"{path}?at={at}", follow_redirects=False)
        assert response.status_code == 303, (at, response.status_code)
        return response.headers["location"]

    first_page = f"/board/register/proposals/{first['proposal_id']}"
    again_page = f"/board/register/proposals/{again['proposal_id']}"
    assert goes_to(t1) == first_page  # in force from the second of its block
    assert goes_to(t1 + 3600) == first_page
    assert goes_to(t2 - 1) == first_page
    assert goes_to(t3) == again_page
    assert goes_to(t3 + 86_400 * 365) == again_page
    assert goes_to(None) == again_page  # now
    for at in (t1 - 1, 0, t2, t2 + 3600, t3 - 1):  # before the first, and while suspended
        response = client.get(f"{path}?at={at}", follow_redirects=False)
        text = assert_page(response, 404)
        assert "Not approved at that moment" in text and "No decision of the board approved Alfa-college on" in text
        assert 'href="/board/register/proposals/' in response.text  # its decisions, to read instead
    nl = dutch(client, f"{path}?at={t2}", 404)
    assert "Niet erkend op dat moment" in nl and "Geen besluit van het bestuur erkende Alfa-college op" in nl
    # the redirect lands on the decision's page
    landed = client.get(f"{path}?at={t2 - 1}")
    assert landed.status_code == 200 and landed.url.path == first_page
    assert "Approve an issuing partner" in text_of(landed)
    for bad in ("abc", "-5", "1.5", "1" * 20, ""):
        response = client.get(f"{path}?at={bad}", follow_redirects=False)
        assert_page(response, 422)
        assert "This link does not name a moment" in text_of(response), bad


def test_the_accreditation_of_an_issued_credential_leads_to_the_decision(
    client: TestClient, hub: Hub, issue: Any
) -> None:
    """The link the "issuer accredited" check carries: the credential's issuer slug and the moment of its anchoring."""
    issued = issue()
    hub.indexer.catch_up()
    slug = issued["document"]["issuer"]["id"].rsplit(":", 1)[1]
    report = client.post("/verify", json=issued["document"]).json()
    anchored_at = report["anchor"]["anchored_at"]
    response = client.get(f"/partners/{slug}/accreditation?at={anchored_at}", follow_redirects=False)
    assert response.status_code == 303
    decision = client.get("/board/decisions").json()[0]
    assert decision["kind"] == "accredit-issuer" and decision["name"] == HANZE
    assert response.headers["location"] == f"/board/register/proposals/{decision['proposal_id']}"


# ---------------------------------------------------------------- a chain that does not answer


def test_board_pages_say_so_when_the_chain_does_not_answer(
    client: TestClient, hub: Hub, accredited: Any, monkeypatch: Any
) -> None:
    accredited(HANZE)
    hub.indexer.catch_up()
    monkeypatch.setattr(hub.w3.provider, "endpoint_uri", "http://127.0.0.1:9")  # nothing listens there
    for path in (
        "/board/register",
        "/board/register/proposals/1",
        "/partners",
        "/partners/hanzehogeschool-groningen",
        "/partners/hanzehogeschool-groningen/accreditation?at=1",
    ):
        text = assert_page(client.get(path), 503)
        assert "The register cannot be read right now" in text, path
    nl = dutch(client, "/partners", 503)
    assert "Het register kan nu niet worden gelezen" in nl and "Probeer het over een minuut opnieuw." in nl


def test_a_moment_beyond_the_year_9999_is_refused_as_a_page(client: TestClient) -> None:
    """`?at=` with twelve digits past the year 9999 is the page's 422, not a crash of the date writer."""
    answer = client.get("/partners/hanzehogeschool-groningen/accreditation?at=999999999999")
    assert answer.status_code == 422 and "text/html" in answer.headers["content-type"]
    for moment in ("²", "1²", "٣"):  # digits to isdigit(), not to int(): refused the same way, never a crash
        answer = client.get(f"/partners/hanzehogeschool-groningen/accreditation?at={moment}")
        assert answer.status_code == 422 and "text/html" in answer.headers["content-type"], moment
