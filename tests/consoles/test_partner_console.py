"""The partner console (/console/partner) over real HTTP (TestClient) on a real anvil node and SQLite file: a
cohort upload refused with its line numbers or anchored with its links file and exports, one credential issued
from the form, revoked with a reason after a confirmation step, search, and partner A's staff never seeing
partner B's batches, credentials, files or search hits, by URL guessing too."""

from __future__ import annotations

import asyncio
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

from service import i18n
from service.api import idempotency
from service.credentials.canonical import from_hex32
from service.db import models
from service.demo import DEMO_PROGRAMMES
from service.errors import InvalidInput
from service.hub import Hub
from service.issuing import cohorts
from service.issuing.requests import RowProblem
from service.pages.cohort_refusals import problem_sentence, refusal_lines
from service.pages.once import Done, once
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
    assert "Line 3 (row 2): the column email holds no valid e-mail address: “not-an-address”." in page
    assert "Line 4 (row 3): the column result holds no grade from 1.0 to 10.0 with at most one decimal: “11”." in page
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
    assert "Line 1: the header names a column the hub does not know: programme." in text_of(unknown.text)
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
    assert "There is a problem: nothing was issued" in page
    assert "The field email holds no valid e-mail address: “jan-at-example.org”." in page
    assert "The field result holds no grade from 1.0 to 10.0 with at most one decimal: “12”." in page
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


def test_a_send_whose_browser_went_away_mid_work_still_stores_its_answer(hub: Hub) -> None:  # noqa: F811
    """The request is cancelled (the browser closed) while the work runs: the work ends in its thread and its answer
    is stored, so the form sent again shows it; the key is never given up after the work was done."""
    keyed = idempotency.KeyedRequest.of("staff:1", "a" * 43, "POST", "/console/partner/credentials", "text/csv", b"x")
    started, go_on = threading.Event(), threading.Event()

    def work() -> dict[str, Any]:
        started.set()
        assert go_on.wait(10)
        return {"credential_id": "the first"}

    async def cancelled_mid_work() -> None:
        task = asyncio.create_task(once(hub, keyed, work))
        assert await asyncio.to_thread(started.wait, 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancelled_mid_work())
    go_on.set()
    deadline = time.monotonic() + 10
    while not isinstance(held := idempotency.claim(hub.sessions, keyed), idempotency.Stored):
        assert isinstance(held, idempotency.Running) and time.monotonic() < deadline, held
        time.sleep(0.05)

    def again() -> dict[str, Any]:
        raise AssertionError("the work was done twice")

    assert asyncio.run(once(hub, keyed, again)) == Done({"credential_id": "the first"}, replayed=True)


def test_four_sends_of_one_issue_form_racing_issue_one_credential(
    client: TestClient,  # noqa: F811
    hub: Hub,  # noqa: F811
    partner: str,
) -> None:
    form_id = form_id_of(client.get("/console/partner").text)
    start = threading.Barrier(4)
    answers: list[Any] = []

    def send() -> None:
        start.wait(10)
        answers.append(issue_one(client, partner, form_id))

    senders = [threading.Thread(target=send) for _ in range(4)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(60)
    statuses = sorted(answer.status_code for answer in answers)
    assert len(statuses) == 4 and statuses.count(201) == 1, statuses
    assert set(statuses) <= {200, 201, 409}, statuses  # replayed, issued, or "reload in a moment"
    [credential_id] = credential_ids(hub)
    for answer in answers:
        assert answer.status_code == 409 or credential_id in answer.text


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
    assert "Regel 3 (rij 2): de kolom email bevat geen geldig e-mailadres: “not-an-address”." in text_of(refused.text)


BAD_ROWS_CSV = (
    "programme_id,email,name,result,valid_until\n"
    "miw-data-analytics,anna.bakker@example.org,Anna Bakker,8.0,\n"  # line 2: good
    "miw-data-analytics,not-an-address,Sem Jansen,7.5,\n"
    "miw-data-analytics,lisa.smit@example.org,Lisa Smit,8.75,\n"
    ",piet@example.org,Piet Post,7.0,\n"
    "miw-data-analytics,kees@example.org,,7.0,\n"
    "miw-data-analytics,tom@example.org,Tom Dijk,7.0,2020-01-01\n"
    "miw-data-analytics,eva@example.org,Eva Smit,7.0,morgen\n"
    "miw-data-analytics,=cmd@example.org,Evil,7.0,\n"
    "miw-data-analytics,bram@example.org\n"
)
SERVICE_REFUSED_CSV = (
    "programme_id,email,name,result\n"
    "no-such-programme,a@example.org,Ada,7.0\n"
    "miw-data-analytics,b@example.org,Bob,7.0\n"
    "miw-data-analytics,B@Example.org,Bob Again,7.5\n"
    "ungraded-course,c@example.org,Cas,7.0\n"
)
# (the file, the Dutch sentences, the English sentences) of refusals of the whole file
FILE_REFUSALS = [
    (
        b"\n",
        "Het bestand is leeg: het heeft een kopregel nodig met de kolommen programme_id, email en name",
        "The file is empty: it needs a header row with the columns programme_id, email and name",
    ),
    (
        "programme_id,email,name\nmiw-data-analytics,a@example.org,Jürgen\n".encode("latin-1"),
        "Het bestand is geen UTF-8-tekst (byte 58). Sla het op als “CSV UTF-8” en upload het opnieuw.",
        "The file is not UTF-8 text (byte 58). Save it as “CSV UTF-8” and upload it again.",
    ),
    (
        b"programme_id\temail\tname\nmiw-data-analytics\ta@example.org\tAda\n",
        "Regel 1: de kolommen zijn niet gescheiden door komma's of puntkomma's.",
        "Line 1: the columns are not separated by commas or semicolons.",
    ),
    (
        b"programme_id,name\nmiw-data-analytics,Ada\n",
        "Regel 1: de kopregel mist de kolom email; er zijn minstens programme_id, email en name nodig.",
        "Line 1: the header lacks the column email; it needs at least programme_id, email and name.",
    ),
    (
        b"programme_id,email,name,cijfer,opmerking\n",
        "Regel 1: de kopregel noemt kolommen die de hub niet kent: cijfer, opmerking.",
        "Line 1: the header names columns the hub does not know: cijfer, opmerking.",
    ),
    (
        b"programme_id,email,name,grade,result\n",
        "Regel 1: de kopregel noemt een kolom twee keer (grade en result zijn dezelfde kolom).",
        "Line 1: the header names a column twice (grade and result are the same column).",
    ),
    (
        b"programme_id,email,name\n",
        "Het bestand heeft een kopregel maar geen afgestudeerden: voeg één rij per afgestudeerde toe.",
        "The file has a header row but no graduates: add one row per graduate.",
    ),
    (
        b'programme_id,email,name\nmiw-data-analytics,"a@example.org"x,Ada\n',
        "Regel 2: het bestand is niet als CSV te lezen (",
        "Line 2: the file cannot be read as CSV (",
    ),
]
ENGLISH_FRAGMENTS = (
    "Field required",
    "Value error",
    "is required",
    "is not a valid",
    "there is no programme",
    "repeats row",
    "the CSV",
    "Line ",
    "column ",
    "has passed",
)


def problems_on(html: str) -> list[str]:
    box = re.search(r'id="cohort-problems".*?</ul>', html, re.S)
    assert box, "the page lists no problems"
    return [text_of(item) for item in re.findall(r"<li>(.*?)</li>", box.group(0), re.S)]


def upload_in(client: TestClient, csrf: str, data: bytes, language: str) -> Any:
    return client.post(
        "/console/partner/cohorts",
        data={"csrf": csrf},
        files={"file": ("cohort.csv", data, "text/csv")},
        headers={"Accept-Language": language},
    )


def test_csv_row_refusals_read_in_dutch_and_in_english(
    client: TestClient,  # noqa: F811
    hub: Hub,  # noqa: F811
    keys: Keys,  # noqa: F811
    hanze: str,
    partner: str,
) -> None:
    ungraded = {**DEMO_PROGRAMMES[0].as_create(), "id": "ungraded-course", "name": "Ungraded", "graded": False}
    assert client.post("/programmes", headers=keys.admin(), json=ungraded).status_code == 201
    dutch = problems_on(upload_in(client, partner, BAD_ROWS_CSV.encode(), "nl").text)
    assert dutch == [
        "Regel 3 (rij 2): de kolom email bevat geen geldig e-mailadres: “not-an-address”.",
        "Regel 4 (rij 3): de kolom result bevat geen cijfer van 1,0 tot en met 10,0 met hoogstens één decimaal: "
        "“8.75”.",
        "Regel 5 (rij 4): de kolom programme_id is leeg, maar is verplicht.",
        "Regel 6 (rij 5): de kolom name is leeg, maar is verplicht.",
        "Regel 7 (rij 6): de datum in valid_until moet later zijn dan die in valid_from (of dan nu, als valid_from "
        "leeg is).",
        "Regel 8 (rij 7): de kolom valid_until bevat geen datum (2026-07-01) of datum met tijd "
        "(2026-07-01T09:00:00+02:00): “morgen”.",
        "Regel 9 (rij 8): de kolom email bevat “=cmd@example.org”, en dat is geen e-mailadres (een spreadsheet leest "
        "een cel die met = begint als formule).",
        "Regel 10 (rij 9): de rij heeft 2 cellen, maar de kopregel heeft 5 kolommen.",
    ]
    english = problems_on(upload_in(client, partner, BAD_ROWS_CSV.encode(), "en").text)
    assert english[:3] == [
        "Line 3 (row 2): the column email holds no valid e-mail address: “not-an-address”.",
        "Line 4 (row 3): the column result holds no grade from 1.0 to 10.0 with at most one decimal: “8.75”.",
        "Line 5 (row 4): the column programme_id is empty, and it is required.",
    ]
    assert english[-1] == "Line 10 (row 9): the row has 2 cells, but the header has 5 columns."

    dutch = problems_on(upload_in(client, partner, SERVICE_REFUSED_CSV.encode(), "nl").text)
    assert dutch == [
        "Regel 2 (rij 1): de kolom programme_id noemt geen opleiding van de hub: “no-such-programme” (de opleidingen "
        "staan onderaan de partnerconsole).",
        "Regel 4 (rij 3): de kolom email herhaalt rij 2: B@Example.org krijgt deze opleiding al in dit bestand.",
        "Regel 5 (rij 4): de opleiding ungraded-course heeft geen cijfers: laat de kolom result leeg.",
    ]
    english = problems_on(upload_in(client, partner, SERVICE_REFUSED_CSV.encode(), "en").text)
    assert (
        english[1]
        == "Line 4 (row 3): the column email repeats row 2: B@Example.org already gets this programme in this file."
    )
    foreign = (
        "programme_id,email,name,result\n"
        "miw-data-analytics,a@example.org,Ada,7.0\n"
        "blockchain-foundations,b@example.org,Bob,7.0\n"
    )
    assert problems_on(upload_in(client, partner, foreign.encode(), "nl").text) == [
        "Regel 3 (rij 2): de kolom programme_id noemt een opleiding die een andere partner uitgeeft: "
        "blockchain-foundations."
    ]

    for data, in_dutch, in_english in FILE_REFUSALS:
        answer = upload_in(client, partner, data, "nl")
        assert answer.status_code == 422
        [sentence] = problems_on(answer.text)
        assert sentence.startswith(in_dutch), (data, sentence)
        [sentence] = problems_on(upload_in(client, partner, data, "en").text)
        assert sentence.startswith(in_english), (data, sentence)

    limit = hub.settings.max_batch_size
    many = "programme_id,email,name\n" + "".join(
        f"miw-data-analytics,g{n}@example.org,G{n}\n" for n in range(limit + 1)
    )
    [sentence] = problems_on(upload_in(client, partner, many.encode(), "nl").text)
    number = f"{limit:,}".replace(",", ".")
    assert sentence == (
        f"Het bestand heeft meer dan {number} afgestudeerden: splits het in bestanden van elk hoogstens {number} "
        "afgestudeerden."
    )

    for data in [BAD_ROWS_CSV.encode(), SERVICE_REFUSED_CSV.encode()] + [data for data, _nl, _en in FILE_REFUSALS[:-1]]:
        page = " ".join(problems_on(upload_in(client, partner, data, "nl").text))
        for fragment in ENGLISH_FRAGMENTS:
            assert fragment not in page, (fragment, page)
    assert batch_count(hub) == 0

    # the API's problem details stay English, as they were
    api = client.post(
        "/credentials/batch", content=BAD_ROWS_CSV.encode(), headers={**keys.issuer(HANZE), "Content-Type": "text/csv"}
    )
    assert api.status_code == 422 and api.headers["content-type"] == "application/problem+json"
    errors = api.json()["errors"]
    assert errors[0] == {
        "row": 2,
        "line": 3,
        "field": "email",
        "message": "'not-an-address' is not a valid email address",
    }
    assert errors[2] == {"row": 4, "line": 5, "field": "programme_id", "message": "is required"}
    assert errors[-1] == {"row": 9, "line": 10, "message": "has 2 cells, the header has 5 columns"}


def test_a_problem_without_a_sentence_of_its_own_is_told_generically_with_its_english_detail() -> None:
    unknown = RowProblem(2, 3, "email", "something the console has no words for", "some_new_check")
    no_values = RowProblem(4, 5, "email", "is not a valid email address", "email_invalid")  # its value missing
    no_column = RowProblem(6, 7, None, "the row is odd", "another_new_check")
    with i18n.use("nl"):
        assert problem_sentence(unknown) == (
            "Regel 3 (rij 2): de kolom email is niet geldig (something the console has no words for)."
        )
        assert (
            problem_sentence(no_values)
            == "Regel 5 (rij 4): de kolom email is niet geldig (is not a valid email address)."
        )
        assert problem_sentence(no_column) == "Regel 7 (rij 6): de rij is niet geldig (the row is odd)."
        assert problem_sentence(RowProblem(None, None, "name", "odd", "new"), form=True) == (
            "Het veld name is niet geldig (odd)."
        )
        assert refusal_lines(InvalidInput("the hub refused", line=4)) == [
            "Regel 4: het bestand is geweigerd (the hub refused)."
        ]
    with i18n.use("en"):
        assert problem_sentence(unknown) == (
            "Line 3 (row 2): the column email is not valid (something the console has no words for)."
        )
        assert refusal_lines(InvalidInput("the hub refused")) == ["Nothing was issued (the hub refused)."]


def test_a_row_of_one_cell_is_told_in_the_singular() -> None:
    """The parser's own count of cells, worded: "1 cell" / "1 cel", not "1 cells" / "1 cellen"."""
    from service.issuing.requests import parse_cohort_csv

    with pytest.raises(InvalidInput) as refused:
        parse_cohort_csv(b"programme_id,email,name\nAda Lovelace\n", 10)
    with i18n.use("en"):
        assert refusal_lines(refused.value) == ["Line 2 (row 1): the row has 1 cell, but the header has 3 columns."]
    with i18n.use("nl"):
        assert refusal_lines(refused.value) == [
            "Regel 2 (rij 1): de rij heeft 1 cel, maar de kopregel heeft 3 kolommen."
        ]


def test_the_issue_form_refusals_read_in_dutch(client: TestClient, hub: Hub, partner: str) -> None:  # noqa: F811
    refused = client.post(
        "/console/partner/credentials",
        data={
            "csrf": partner,
            "form_id": form_id_of(client.get("/console/partner").text),
            "programme_id": "miw-data-analytics",
            "name": "Jan",
            "email": "jan-at-example.org",
            "valid_until": "2020-01-01",
        },
        headers={"Accept-Language": "nl"},
    )
    assert refused.status_code == 422
    page = text_of(refused.text)
    assert "Het veld email bevat geen geldig e-mailadres: “jan-at-example.org”." in page
    assert "Value error" not in page and "is not a valid" not in page
    assert batch_count(hub) == 0


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
