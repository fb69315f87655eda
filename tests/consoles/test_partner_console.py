"""The partner console (/console/partner) over real HTTP (TestClient) on a real anvil node and SQLite file: a
cohort upload refused with its line numbers or anchored with its links file and exports, one credential issued
from the form, revoked with a reason after a confirmation step, search, and partner A's staff never seeing
partner B's batches, credentials, files or search hits, by URL guessing too."""

from __future__ import annotations

import base64
import csv
import io
import json
import logging
import re
import threading
import time
import zipfile
from html import unescape
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import func, select

from service.credentials.canonical import from_hex32
from service.db import models
from service.hub import Hub
from service.issuing import cohorts
from tests.chain import rpc
from tests.consoles.kit import make_account, sign_in
from tests.pages.conftest import (  # noqa: F401 - fixtures, registered by importing them here
    HANZE,
    Keys,
    accredited,
    add_catalogue,
    anvil,
    chain_state,
    client,
    deployments_dir,
    hanze,
    hub,
    issue_with,
    keys,
    settings,
)

RUG = "Rijksuniversiteit Groningen"  # partner B: issues blockchain-foundations
GOOD_CSV = (
    "programme_id,email,name,result\n"
    "miw-data-analytics,anna.bakker@example.org,Anna Bakker,8.0\n"
    "miw-data-analytics,sem.jansen@example.org,Sem Jansen,7.5\n"
)
BAD_CSV = (
    "programme_id,email,name,result\n"
    "miw-data-analytics,anna.bakker@example.org,Anna Bakker,8.0\n"
    "miw-data-analytics,not-an-address,Sem Jansen,7.5\n"
    "miw-data-analytics,lisa.smit@example.org,Lisa Smit,11\n"
)


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def batch_count(hub: Hub) -> int:
    with hub.sessions() as db:
        return int(db.scalar(select(func.count()).select_from(models.Batch)) or 0)


def wait_anchored(hub: Hub, batch_id: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with hub.sessions() as db:
            batch = db.get(models.Batch, batch_id)
            assert batch is not None
            if batch.status == "anchored":
                return
            assert batch.status != "failed", batch.error
        time.sleep(0.2)
    raise AssertionError(f"batch {batch_id} was not anchored in {timeout} s")


@pytest.fixture
def partner(client: TestClient, hub: Hub, hanze: str) -> str:  # noqa: F811
    """`client` signed in as a staff member of Hanzehogeschool Groningen (accredited, with the catalogue): the
    session's CSRF token."""
    account = make_account(hub, "partner", "docent@hanze.example", "Petra Docent", hanze)
    return sign_in(client, hub, account)


def upload(client: TestClient, csrf: str, data: str, name: str = "cohort.csv") -> Any:
    return client.post(
        "/console/partner/cohorts", data={"csrf": csrf}, files={"file": (name, data.encode(), "text/csv")}
    )


def links_file(html: str) -> tuple[str, list[dict[str, str]]]:
    found = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)" download="([^"]+)"', html)
    assert found, "the page offers no links file"
    text = base64.b64decode(found.group(1)).decode()
    return found.group(2), list(csv.DictReader(io.StringIO(text)))


def form_id_of(html: str) -> str:
    found = re.search(r'name="form_id" value="([^"]+)"', html)
    assert found, "the issue-one form has no form id"
    return found.group(1)


def issue_one(client: TestClient, csrf: str, form_id: str | None = None, **fields: str) -> Any:
    """Send the issue-one form (with the id of a newly shown form, unless `form_id` is given)."""
    form_id = form_id or form_id_of(client.get("/console/partner").text)
    form = {
        "csrf": csrf,
        "form_id": form_id,
        "programme_id": "miw-data-analytics",
        "name": "Jan de Vries",
        "email": "jan@example.org",
    }
    return client.post("/console/partner/credentials", data={**form, **fields})


def credential_ids(hub: Hub) -> list[str]:
    with hub.sessions() as db:
        return list(db.scalars(select(models.Credential.id)))


# ---------------------------------------------------------------- who may open it


def test_signed_out_goes_to_sign_in_and_another_role_gets_403(client: TestClient, hub: Hub) -> None:  # noqa: F811
    answer = client.get("/console/partner/batches", follow_redirects=False)
    assert answer.status_code == 303
    assert unquote(answer.headers["location"]) == "/signin?next=/console/partner/batches"
    board = make_account(hub, "board", "lid@bestuur.example", "Bert Bestuur", "0x" + "11" * 20)
    sign_in(client, hub, board)
    refused = client.get("/console/partner")
    assert refused.status_code == 403
    assert "This page is not for your account" in text_of(refused.text)
    unbound = make_account(hub, "partner", "los@partner.example", "Lou Los", None)
    sign_in(client, hub, unbound)
    for path in ("/console/partner", "/console/partner/search?q=a"):
        answer = client.get(path)
        assert answer.status_code == 403 and "Your account is not linked to a partner" in text_of(answer.text)
    assert upload(client, csrf_of(answer.text), GOOD_CSV).status_code == 403
    assert batch_count(hub) == 0


# ---------------------------------------------------------------- a cohort


def test_a_bad_cohort_is_refused_with_its_line_numbers(client: TestClient, hub: Hub, partner: str) -> None:  # noqa: F811
    answer = upload(client, partner, BAD_CSV)
    assert answer.status_code == 422
    page = text_of(answer.text)
    assert "The file was refused: nothing was issued" in page
    assert "Line 3 (row 2): email:" in page and "not-an-address" in page
    assert "Line 4 (row 3): result:" in page
    assert "Line 2" not in page  # the good row is not a problem
    assert batch_count(hub) == 0


def test_an_empty_upload_and_an_unknown_column_are_refused_in_words(
    client: TestClient,  # noqa: F811
    hub: Hub,  # noqa: F811
    partner: str,
) -> None:
    empty = client.post("/console/partner/cohorts", data={"csrf": partner})
    assert empty.status_code == 422 and "Choose a CSV file to upload." in text_of(empty.text)
    unknown = upload(client, partner, "programme,email,name\nx,a@example.org,A\n")
    assert unknown.status_code == 422
    assert "Line 1: the CSV has unknown column 'programme'" in text_of(unknown.text)
    assert batch_count(hub) == 0


def test_a_form_without_its_csrf_token_changes_nothing(client: TestClient, hub: Hub, partner: str) -> None:  # noqa: F811
    assert upload(client, "forged", GOOD_CSV).status_code == 403
    no_token = client.post("/console/partner/cohorts", files={"file": ("c.csv", GOOD_CSV.encode(), "text/csv")})
    assert no_token.status_code == 403
    assert issue_one(client, "forged").status_code == 403
    assert batch_count(hub) == 0


def test_a_cohort_is_anchored_with_its_links_file_and_exports(
    client: TestClient,  # noqa: F811
    hub: Hub,  # noqa: F811
    partner: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = upload(client, partner, GOOD_CSV, name="voorjaar 2026.csv")
    assert answer.status_code == 201, text_of(answer.text)
    name, rows = links_file(answer.text)
    batch_link = re.search(r'href="/console/partner/batches/([0-9a-f-]{36})"', answer.text)
    assert batch_link
    batch_id = batch_link.group(1)
    assert name == f"voorjaar-2026-issued-{batch_id[:8]}.csv"
    assert [row["email"] for row in rows] == ["anna.bakker@example.org", "sem.jansen@example.org"]
    assert [row["line"] for row in rows] == ["2", "3"]
    assert "hold_" not in caplog.text  # the personal links are never logged
    assert "UTF-8, columns separated by commas or semicolons; at most 20,000 graduates and 2 MB per file." in text_of(
        client.get("/console/partner").text
    )
    assert list(rows[0]) == ["row", "line", "email", "credential_id", "share_url", "holder_url"]
    with hub.sessions() as db:
        stored = {row.id: row for row in db.scalars(select(models.Credential))}
    assert set(stored) == {row["credential_id"] for row in rows}
    # the same file again in this session (a double click, a reloaded answer): nothing issued again, the same
    # links file once more (kept encrypted with a key from the session's cookie, which the database lacks)
    again = upload(client, partner, GOOD_CSV, name="voorjaar 2026.csv")
    assert again.status_code == 200
    assert "You uploaded this file already: nothing was issued again." in text_of(again.text)
    assert links_file(again.text) == (name, rows)
    assert batch_count(hub) == 1
    with hub.sessions() as db:
        kept = db.scalars(select(models.IdempotencyRecord)).one()
        assert kept.body is not None and rows[0]["holder_url"].encode() not in kept.body
    # the progress page reloads itself until anchored, then stops
    progress = client.get(f"/console/partner/batches/{batch_id}")
    assert progress.status_code == 200
    wait_anchored(hub, batch_id)
    done = client.get(f"/console/partner/batches/{batch_id}")
    assert 'http-equiv="refresh"' not in done.text
    assert "Recorded in the public register: 2 credentials." in text_of(done.text)
    assert "Anna Bakker" in done.text and "Sem Jansen" in done.text
    # each personal link opens the graduate's own page
    holder = TestClient(client.app)
    opened = holder.get(urlsplit(rows[0]["holder_url"]).path, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/holder"
    # the export: per credential its JSON and a PDF printing the name, in the language asked for
    export = client.get(f"/console/partner/batches/{batch_id}/export.zip?pdf=nl")
    assert export.status_code == 200 and export.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(export.content))
    ids = [row["credential_id"] for row in rows]
    assert sorted(archive.namelist()) == sorted([f"{i}.json" for i in ids] + [f"{i}.pdf" for i in ids])
    document = json.loads(archive.read(f"{ids[0]}.json"))
    assert document["id"] == f"urn:uuid:{ids[0]}"
    assert any(proof["type"] == "DataIntegrityProof" for proof in document["proof"])
    text = " ".join(PdfReader(io.BytesIO(archive.read(f"{ids[0]}.pdf"))).pages[0].extract_text().split())
    assert "Anna Bakker" in text and re.search(r"\b8[.,]0\b", text)  # the name and the grade printed


def test_the_progress_page_reloads_until_anchored_and_nothing_is_exported_before(
    client: TestClient,  # noqa: F811
    hub: Hub,  # noqa: F811
    partner: str,
) -> None:
    rpc(hub.w3, "evm_setAutomine", False)  # the anchoring transaction waits for a block
    try:
        answer = upload(client, partner, GOOD_CSV)
        assert answer.status_code == 201
        batch_id = re.search(r"/console/partner/batches/([0-9a-f-]{36})", answer.text).group(1)  # type: ignore[union-attr]
        _name, rows = links_file(answer.text)
        waiting = client.get(f"/console/partner/batches/{batch_id}")
        assert '<meta http-equiv="refresh" content="2">' in waiting.text
        assert "This page reloads itself every few seconds until the batch is recorded." in text_of(waiting.text)
        early = client.get(f"/console/partner/batches/{batch_id}/export.zip")
        assert early.status_code == 409 and "Not recorded yet" in text_of(early.text)
        pdf = client.get(f"/console/partner/credentials/{rows[0]['credential_id']}/certificate.pdf")
        assert pdf.status_code == 409
        revoke = client.get(f"/console/partner/credentials/{rows[0]['credential_id']}/revoke")
        assert "The credential is not recorded yet, so there is nothing to revoke." in text_of(revoke.text)
    finally:
        rpc(hub.w3, "evm_setAutomine", True)
        rpc(hub.w3, "evm_mine")
    wait_anchored(hub, batch_id)
    done = client.get(f"/console/partner/batches/{batch_id}")
    assert 'http-equiv="refresh"' not in done.text


# ---------------------------------------------------------------- one credential, revoked


def test_one_credential_is_issued_from_the_form_and_revoked_after_a_confirmation(
    client: TestClient,  # noqa: F811
    hub: Hub,  # noqa: F811
    partner: str,
) -> None:
    refused = issue_one(client, partner, email="jan-at-example.org", result="12")
    assert refused.status_code == 422
    page = text_of(refused.text)
    assert "There is a problem: nothing was issued" in page and "email:" in page and "result:" in page
    assert 'value="jan-at-example.org"' in refused.text  # the form keeps what was typed
    assert batch_count(hub) == 0

    answer = issue_one(client, partner, result="8,5")
    assert answer.status_code == 201, text_of(answer.text)
    holder_link = re.search(r'id="holder-link" class="copy-field" value="([^"]+)"', answer.text)
    assert holder_link and "/holder/hold_" in holder_link.group(1)
    credential_id = re.search(r"/console/partner/credentials/([0-9a-f-]{36})", answer.text).group(1)  # type: ignore[union-attr]
    with hub.sessions() as db:
        row = db.get(models.Credential, credential_id)
        assert row is not None
        batch_id = row.batch_id
    wait_anchored(hub, batch_id)

    page = client.get(f"/console/partner/credentials/{credential_id}")
    assert page.status_code == 200 and "Jan de Vries" in page.text
    assert "Make IT Work: Data Analytics" in text_of(page.text)  # the programme by its name
    form = client.get(f"/console/partner/credentials/{credential_id}/revoke")
    assert form.status_code == 200 and "Why is the credential revoked?" in text_of(form.text)
    # no reason: asked again, nothing done
    missing = client.post(f"/console/partner/credentials/{credential_id}/revoke", data={"csrf": partner})
    assert missing.status_code == 422 and "Choose why the credential is revoked." in text_of(missing.text)
    # the first step only asks for a confirmation
    step = client.post(
        f"/console/partner/credentials/{credential_id}/revoke", data={"csrf": partner, "reason": "issued-in-error"}
    )
    assert step.status_code == 200
    assert "Are you sure?" in text_of(step.text) and "Reason: Issued in error." in text_of(step.text)
    with hub.sessions() as db:
        assert db.get(models.Credential, credential_id).revoked_at is None  # type: ignore[union-attr]
    # a forged confirmation is refused
    forged = client.post(
        f"/console/partner/credentials/{credential_id}/revoke",
        data={"csrf": "forged", "reason": "issued-in-error", "confirm": "yes"},
    )
    assert forged.status_code == 403
    done = client.post(
        f"/console/partner/credentials/{credential_id}/revoke",
        data={"csrf": partner, "reason": "issued-in-error", "confirm": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/partner/credentials/{credential_id}?revoked=1"
    with hub.sessions() as db:
        row = db.get(models.Credential, credential_id)
        assert row is not None and row.revoked_at is not None and row.revocation_reason == 2
        proof = next(p for p in row.document["proof"] if p["type"] == "MerkleAnchor2026")
    on_chain = hub.registry.revocation(row.issuer_address, from_hex32(proof["merkleRoot"]), from_hex32(row.digest))
    assert on_chain.revoked and on_chain.reason == 2
    shown = text_of(client.get(done.headers["location"]).text)
    assert "The credential is revoked." in shown and "Issued in error" in shown
    again = client.post(
        f"/console/partner/credentials/{credential_id}/revoke",
        data={"csrf": partner, "reason": "fraud-or-misconduct", "confirm": "yes"},
    )
    assert again.status_code == 409 and "This credential was revoked already." in text_of(again.text)


def test_the_issue_form_sent_twice_issues_one_credential(
    client: TestClient,  # noqa: F811
    hub: Hub,  # noqa: F811
    hanze: str,
    partner: str,
) -> None:
    home = client.get("/console/partner")
    form_id = form_id_of(home.text)
    assert form_id != form_id_of(client.get("/console/partner").text)  # each form shown has its own id
    first = issue_one(client, partner, form_id)
    assert first.status_code == 201, text_of(first.text)
    again = issue_one(client, partner, form_id)  # a double click, or the answer reloaded
    assert again.status_code == 200
    assert "You sent this form already" in text_of(again.text) and "nothing was issued again" in text_of(again.text)
    [credential_id] = credential_ids(hub)
    for answer in (first, again):
        assert f"/console/partner/credentials/{credential_id}" in answer.text
        assert 'id="holder-link"' in answer.text
    holder = re.compile(r'id="holder-link" class="copy-field" value="([^"]+)"')
    assert holder.search(first.text).group(1) == holder.search(again.text).group(1)  # type: ignore[union-attr]
    # the same form id with other details is not a new credential either
    changed = issue_one(client, partner, form_id, name="Jan de Vries-Bakker")
    assert changed.status_code == 409 and "fill in a new form" in text_of(changed.text)
    with hub.sessions() as db:
        batch_id = db.get(models.Credential, credential_id).batch_id  # type: ignore[union-attr]
    wait_anchored(hub, batch_id)
    assert issue_one(client, partner, form_id).status_code == 200  # also once it is anchored
    assert credential_ids(hub) == [credential_id] and batch_count(hub) == 1
    assert len([event for event in hub.registry.anchorings() if event.issuer == hanze]) == 1
    # a newly shown form issues a new credential
    assert issue_one(client, partner, email="piet@example.org").status_code == 201
    assert len(credential_ids(hub)) == 2


def test_two_sends_of_one_issue_form_at_once_issue_one_credential(
    client: TestClient,  # noqa: F811
    hub: Hub,  # noqa: F811
    partner: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    form_id = form_id_of(client.get("/console/partner").text)
    store_one = cohorts.store_one
    storing = threading.Event()

    def slow_store_one(*args: Any, **kwargs: Any) -> Any:  # the first send is still busy when the second comes
        storing.set()
        time.sleep(1.0)
        return store_one(*args, **kwargs)

    monkeypatch.setattr(cohorts, "store_one", slow_store_one)
    answers: list[Any] = []
    first = threading.Thread(target=lambda: answers.append(issue_one(client, partner, form_id)))
    first.start()
    assert storing.wait(10)
    second = issue_one(client, partner, form_id)
    first.join(30)
    assert len(answers) == 1 and answers[0].status_code == 201, text_of(answers[0].text)
    assert second.status_code == 409
    assert "The same form is being processed right now. Reload this page in a moment." in text_of(second.text)
    assert len(credential_ids(hub)) == 1
    reloaded = issue_one(client, partner, form_id)  # "reload in a moment": the first answer
    assert reloaded.status_code == 200 and credential_ids(hub)[0] in reloaded.text
    assert len(credential_ids(hub)) == 1


def test_an_issue_form_without_its_id_is_refused_in_words(
    client: TestClient,  # noqa: F811
    hub: Hub,  # noqa: F811
    partner: str,
) -> None:
    for form_id in ("", "short", "x" * 44, "not/a/form/id/at/all"):
        form = {
            "csrf": partner,
            "form_id": form_id,
            "programme_id": "miw-data-analytics",
            "name": "A",
            "email": "a@example.org",
        }
        refused = client.post("/console/partner/credentials", data=form)
        assert refused.status_code == 400
        assert "Open the partner console again and fill it in there: nothing was issued." in text_of(refused.text)
    dutch = client.post(
        "/console/partner/credentials",
        data={"csrf": partner, "programme_id": "miw-data-analytics", "name": "A", "email": "a@example.org"},
        headers={"Accept-Language": "nl"},
    )
    assert dutch.status_code == 400 and "er is niets uitgegeven" in text_of(dutch.text)
    assert credential_ids(hub) == [] and batch_count(hub) == 0


def test_a_refused_issue_form_keeps_its_id_and_issues_once_corrected(
    client: TestClient,  # noqa: F811
    hub: Hub,  # noqa: F811
    partner: str,
) -> None:
    form_id = form_id_of(client.get("/console/partner").text)
    refused = issue_one(client, partner, form_id, programme_id="no-such-programme")
    assert refused.status_code == 422
    assert form_id_of(refused.text) == form_id  # shown again to correct it: the same form
    assert issue_one(client, partner, form_id).status_code == 201
    assert issue_one(client, partner, form_id).status_code == 200
    assert len(credential_ids(hub)) == 1


# ---------------------------------------------------------------- search


def test_search_by_part_of_a_name_or_a_whole_email_address(
    client: TestClient,  # noqa: F811
    hub: Hub,  # noqa: F811
    partner: str,
) -> None:
    answer = upload(client, partner, GOOD_CSV)
    assert answer.status_code == 201
    by_name = text_of(client.get("/console/partner/search", params={"q": "  bakker "}).text)
    assert "1 credential found." in by_name and "Anna Bakker" in by_name and "Sem Jansen" not in by_name
    by_email = text_of(client.get("/console/partner/search", params={"q": "Sem.Jansen@example.org"}).text)
    assert "1 credential found." in by_email and "Sem Jansen" in by_email
    part_of_email = text_of(client.get("/console/partner/search", params={"q": "jansen@example"}).text)
    assert "0 credentials found." in part_of_email


# ---------------------------------------------------------------- partner A never sees partner B


def test_partner_a_never_sees_partner_bs_graduates(
    client: TestClient,  # noqa: F811
    hub: Hub,  # noqa: F811
    keys: Keys,  # noqa: F811
    accredited: Any,  # noqa: F811
    partner: str,
) -> None:
    accredited(RUG)
    theirs = client.post(
        "/credentials",
        headers=keys.issuer(RUG),
        json={"programme_id": "blockchain-foundations", "email": "bram@rug.example", "name": "Bram Visser"},
    )
    assert theirs.status_code == 201, theirs.text
    their_id, their_batch = theirs.json()["id"], theirs.json()["batch_id"]
    mine = upload(client, partner, GOOD_CSV)
    assert mine.status_code == 201

    for path in (
        f"/console/partner/batches/{their_batch}",
        f"/console/partner/batches/{their_batch}/export.zip",
        f"/console/partner/credentials/{their_id}",
        f"/console/partner/credentials/{their_id}/credential.json",
        f"/console/partner/credentials/{their_id}/certificate.pdf",
        f"/console/partner/credentials/{their_id}/revoke",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "Bram Visser" not in answer.text and their_batch not in answer.text.replace(path, "")
    unknown = client.get("/console/partner/credentials/00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 404 and text_of(unknown.text) == text_of(
        client.get(f"/console/partner/credentials/{their_id}").text
    ).replace(their_id, "00000000-0000-4000-8000-000000000000")
    revoke = client.post(
        f"/console/partner/credentials/{their_id}/revoke",
        data={"csrf": partner, "reason": "fraud-or-misconduct", "confirm": "yes"},
    )
    assert revoke.status_code == 404
    with hub.sessions() as db:
        assert db.get(models.Credential, their_id).revoked_at is None  # type: ignore[union-attr]
    assert "0 credentials found." in text_of(client.get("/console/partner/search", params={"q": "Bram"}).text)
    assert "0 credentials found." in text_of(
        client.get("/console/partner/search", params={"q": "bram@rug.example"}).text
    )
    listed = client.get("/console/partner/batches").text
    assert their_batch not in listed and "blockchain-foundations" not in listed
    # B's staff see theirs, and not A's
    rug_staff = make_account(hub, "partner", "staf@rug.example", "Rita", accredited.address(RUG))
    other = TestClient(client.app, headers={"Accept-Language": "en"})
    sign_in(other, hub, rug_staff)
    assert other.get(f"/console/partner/credentials/{their_id}").status_code == 200
    assert "Anna Bakker" not in other.get("/console/partner/search", params={"q": "Anna"}).text


# ---------------------------------------------------------------- Dutch


def test_the_console_in_dutch(client: TestClient, hub: Hub, partner: str) -> None:  # noqa: F811
    page = client.get("/console/partner", headers={"Accept-Language": "nl"})
    assert page.status_code == 200 and '<html lang="nl">' in page.text
    text = text_of(page.text)
    for words in ("Partnerconsole", "Een cohort uitgeven", "Eén credential uitgeven", "Opleidingen van de hub"):
        assert words in text, words
    refused = client.post(
        "/console/partner/cohorts",
        data={"csrf": partner},
        files={"file": ("c.csv", BAD_CSV.encode(), "text/csv")},
        headers={"Accept-Language": "nl"},
    )
    assert "Regel 3 (rij 2): email:" in text_of(refused.text)


def test_a_file_over_the_body_limit_is_a_readable_page(
    client: TestClient,  # noqa: F811
    hub: Hub,  # noqa: F811
    keys: Keys,  # noqa: F811
    partner: str,
) -> None:
    big = GOOD_CSV + "miw-data-analytics,x@example.org,X,8.0\n" * 60_000  # about 2.4 MB
    assert len(big) > hub.settings.max_body_bytes
    for language, words in (
        ("en", "Nothing was sent. A form here takes at most 2 MB: split the file and try again."),
        (
            "nl",
            "Er is niets verstuurd. Een formulier mag hier hoogstens 2 MB zijn: splits het bestand",
        ),
    ):
        answer = client.post(
            "/console/partner/cohorts",
            data={"csrf": partner},
            files={"file": ("big.csv", big.encode(), "text/csv")},
            headers={"Accept-Language": language},
        )
        assert answer.status_code == 413 and answer.headers["content-type"].startswith("text/html")
        assert words in text_of(answer.text)
    assert batch_count(hub) == 0
    # the API keeps its problem+json
    api = client.post(
        "/credentials/batch", content=big.encode(), headers={**keys.issuer(HANZE), "Content-Type": "text/csv"}
    )
    assert api.status_code == 413 and api.headers["content-type"] == "application/problem+json"
