"""The graduate's own page (/holder) on a real anvil with the hub deployed: the holder link becomes a session at
once (the token leaves the URL, the access log never writes it), she sees her whole credential, makes share
links with her choice of claims (none by default), downloads their files, adds them to LinkedIn, withdraws
them (410 from then on), and signs out. Every form needs its CSRF token."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select

from service.db import models
from service.documents.certificate import disclosed_claims
from service.hub import Hub
from service.main import create_app
from service.web.logs import redact_holder_paths
from tests.pages.conftest import HANZE, issue_with

NAME, GRADE = "Jan de Vries", "8.5"


def holder_path(issued: dict[str, Any]) -> str:
    return urlsplit(issued["holder_url"]).path


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def signed_in(client: TestClient, issued: dict[str, Any]) -> str:
    """Open the holder link (as the graduate does); her page's HTML."""
    response = client.get(holder_path(issued))
    assert response.status_code == 200, response.text[:500]
    assert str(response.url).endswith("/holder")
    return response.text


def form_id_of(html: str) -> str:
    found = re.search(r'name="form_id" value="([^"]+)"', html)
    assert found, "no once-only form id on the page"
    return found.group(1)


def make_link(client: TestClient, html: str, label: str, claims: list[str]) -> tuple[int, str]:
    """Make a share link with the form of her page `html`: (its id, its share path)."""
    response = client.post(
        "/holder/links",
        data={"csrf": csrf_of(html), "form_id": form_id_of(html), "label": label, "claims": claims},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:500]
    link_id = int(parse_qs(urlsplit(response.headers["location"]).query)["made"][0])
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    url = re.search(rf'id="url-{link_id}" class="copy-field" value="([^"]+)"', page.text)
    assert url, page.text[:500]
    return link_id, urlsplit(url.group(1)).path


@pytest.fixture
def issued(issue: Any) -> dict[str, Any]:
    return issue(name=NAME, grade=GRADE)


# ---------------------------------------------------------------- the holder link and the session


def test_the_holder_link_becomes_a_session_and_leaves_the_url(
    client: TestClient, hub: Hub, issued: dict[str, Any]
) -> None:
    token = issued["holder_token"]
    assert issued["holder_url"] == f"{hub.settings.public_url}/holder/{token}"
    opened = client.get(holder_path(issued), follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == "/holder" and token not in opened.headers["location"]
    assert opened.headers["referrer-policy"] == "no-referrer"
    assert opened.headers["cache-control"] == "no-store"
    cookie = opened.headers["set-cookie"]
    assert cookie.startswith("hub_holder=") and token not in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie and "Secure" not in cookie
    session_id = cookie.split(";", 1)[0].split("=", 1)[1]
    with hub.sessions() as db:
        row = db.scalar(select(models.WebSession))
        assert row is not None and row.kind == "holder" and row.subject == issued["id"]
        assert row.id_hash == hashlib.sha256(session_id.encode()).hexdigest()  # only its hash is kept

    page = client.get("/holder")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    words = text_of(page.text)
    # the whole credential: her name and grade, though no share link shows them
    assert "Awarded to Jan de Vries" in words and "8.5" in words and issued["id"] in words
    assert "You have no share links yet." in words
    assert token not in page.text
    full = client.get("/holder/credential.json")
    assert full.status_code == 200 and full.headers["cache-control"] == "no-store"
    assert full.json() == issued["document"]


def test_a_wrong_or_missing_holder_link_is_a_page_not_a_session(client: TestClient, issued: dict[str, Any]) -> None:
    wrong = client.get("/holder/hold_" + "x" * 43, follow_redirects=False)
    assert wrong.status_code == 404 and "set-cookie" not in wrong.headers
    assert "This personal link does not work" in text_of(wrong.text)
    assert client.get("/holder/..%2F..%2Fetc", follow_redirects=False).status_code == 404
    alone = client.get("/holder")
    assert alone.status_code == 401
    assert "Open your credential with your personal link" in text_of(alone.text)
    for path in ("/holder/credential.json", "/holder/links/1/qr.svg", "/holder/links/1/certificate-nl.pdf"):
        assert client.get(path).status_code == 401, path
    assert client.post("/holder/links", data={"label": "x"}).status_code == 401


def test_signing_out_ends_the_session_on_the_server(client: TestClient, issued: dict[str, Any]) -> None:
    html = signed_in(client, issued)
    cookie = client.cookies.get("hub_holder")
    assert cookie
    refused = client.post("/holder/sign-out", data={"csrf": "forged"})
    assert refused.status_code == 403 and client.get("/holder").status_code == 200
    out = client.post("/holder/sign-out", data={"csrf": csrf_of(html)})
    assert out.status_code == 200 and "You are signed out" in text_of(out.text)
    assert 'hub_holder=""' in out.headers["set-cookie"] and "Max-Age=0" in out.headers["set-cookie"]
    # the old cookie, sent again (say, copied off the device), opens nothing
    client.cookies.set("hub_holder", cookie)
    assert client.get("/holder").status_code == 401


# ---------------------------------------------------------------- share links


def test_she_makes_a_link_with_her_name_only(client: TestClient, hub: Hub, issued: dict[str, Any]) -> None:
    html = signed_in(client, issued)
    # nothing personal is ticked by default
    boxes = re.findall(r'<input type="checkbox"[^>]*>', html)
    assert len(boxes) == 3 and not any("checked" in box for box in boxes)
    link_id, path = make_link(client, html, "Employer Acme", ["name"])
    page = client.get("/holder").text
    assert "Employer Acme" in page and "Shows: name." in text_of(page)

    shared = client.get(path)
    assert shared.status_code == 200
    words = text_of(shared.text)
    assert "Awarded to Jan de Vries" in words and "8.5 on a scale" not in words
    copy = client.get(f"/holder/links/{link_id}/credential.json")
    assert copy.status_code == 200 and "attachment" in copy.headers["content-disposition"]
    assert copy.json() == client.get(path + "/credential.json").json()
    assert set(disclosed_claims(copy.json())) == {"name"}

    # the LinkedIn link: LinkedIn's Add to Profile URL for a certification, with this link and the credential id
    linkedin = unescape(re.search(r'class="linkedin" href="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    parts = urlsplit(linkedin)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert query == {
        "startTask": "CERTIFICATION_NAME",
        "name": "Make IT Work: Data Analytics",
        "organizationName": HANZE,
        "issueYear": "2026",
        "issueMonth": "7",
        "expirationYear": "2031",
        "expirationMonth": "7",
        "certUrl": f"{hub.settings.public_url}{path}",
        "certId": issued["id"],
    }

    # the QR code of the link: an SVG served as an image that runs nothing
    qr = client.get(f"/holder/links/{link_id}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.headers["content-security-policy"] == "default-src 'none'" and b"<svg" in qr.content
    assert "attachment" in client.get(f"/holder/links/{link_id}/qr.svg?download=1").headers["content-disposition"]


def test_the_certificate_of_a_link_in_dutch_and_in_english(client: TestClient, issued: dict[str, Any]) -> None:
    link_id, path = make_link(client, signed_in(client, issued), "Stage", ["name", "result"])
    texts = {}
    for language in ("nl", "en"):
        response = client.get(f"/holder/links/{link_id}/certificate-{language}.pdf")
        assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
        assert f"-{language}.pdf" in response.headers["content-disposition"]
        reader = PdfReader(io.BytesIO(response.content))
        texts[language] = " ".join(reader.pages[0].extract_text().split())
        assert "Jan de Vries" in texts[language]
    assert texts["nl"] != texts["en"]
    assert "July 2026" in texts["en"] and "juli 2026" in texts["nl"]
    assert client.get(f"/holder/links/{link_id}/certificate-de.pdf").status_code == 404


def test_she_withdraws_a_link_and_it_answers_410(client: TestClient, issued: dict[str, Any]) -> None:
    html = signed_in(client, issued)
    link_id, path = make_link(client, html, "Old employer", ["name"])
    other_id, other_path = make_link(client, client.get("/holder").text, "Keep", [])
    confirm = client.get(f"/holder/links/{link_id}/withdraw")
    assert confirm.status_code == 200
    assert "Withdraw the link Old employer?" in text_of(confirm.text)
    assert 'method="post"' in confirm.text and 'name="csrf"' in confirm.text
    assert client.post(f"/holder/links/{link_id}/withdraw", data={}).status_code == 403
    assert client.get(path).status_code == 200  # a refused form changed nothing
    done = client.post(
        f"/holder/links/{link_id}/withdraw", data={"csrf": csrf_of(confirm.text)}, follow_redirects=False
    )
    assert done.status_code == 303
    for gone in (path, path + "/credential.json", path + "/certificate.pdf"):
        response = client.get(gone)
        assert response.status_code == 410, gone
        assert "This share link was withdrawn" in text_of(response.text)
        assert "Jan de Vries" not in response.text
    for own in ("credential.json", "certificate-en.pdf", "qr.svg", "withdraw"):
        assert client.get(f"/holder/links/{link_id}/{own}").status_code == 410, own
    # POST /verify with the withdrawn link: refused, in words
    verify = client.post("/verify/check", data={"credential": f"http://testserver{path}"})
    assert verify.status_code == 422 and "withdrew this share link" in text_of(verify.text)
    api = client.post("/verify", content=f"http://testserver{path}", headers={"Content-Type": "text/uri-list"})
    assert api.status_code == 404 and "the graduate withdrew this share link" in api.json()["detail"]
    page = text_of(client.get("/holder").text)
    assert "Withdrawn links" in page and "Old employer: withdrawn on" in page
    assert client.get(other_path).status_code == 200  # the other link still works


def test_a_link_is_hers_alone(client: TestClient, keys: Any, issued: dict[str, Any]) -> None:
    link_id, _path = make_link(client, signed_in(client, issued), "Mine", ["name"])
    other = issue_with(client.post, keys, email="fatima.elamrani@example.org", name="Fatima El Amrani")
    html = signed_in(client, other)  # the same browser, now Fatima's session
    assert "Fatima El Amrani" in html and "Mine" not in html
    for path in ("credential.json", "certificate-nl.pdf", "qr.svg", "withdraw"):
        assert client.get(f"/holder/links/{link_id}/{path}").status_code == 404, path
    assert client.post(f"/holder/links/{link_id}/withdraw", data={"csrf": csrf_of(html)}).status_code == 404


def test_the_form_refuses_in_words(client: TestClient, issued: dict[str, Any]) -> None:
    html = signed_in(client, issued)
    csrf = csrf_of(html)
    forged = client.post("/holder/links", data={"label": "x", "claims": ["name"]})
    assert forged.status_code == 403 and "This form has expired" in text_of(forged.text)
    no_id = client.post("/holder/links", data={"csrf": csrf, "label": "x", "claims": ["name"]})
    assert no_id.status_code == 403 and "This form has expired" in text_of(no_id.text)
    form_id = form_id_of(html)
    long = client.post("/holder/links", data={"csrf": csrf, "form_id": form_id, "label": "x" * 101, "claims": ["name"]})
    assert long.status_code == 422 and "at most 100 characters" in text_of(long.text)
    assert re.search(r'id="claim-name"[^>]*checked', long.text), "the choice is kept"
    unknown = client.post("/holder/links", data={"csrf": csrf, "form_id": form_id, "label": "x", "claims": ["email"]})
    assert unknown.status_code == 422 and "choose from the list" in text_of(unknown.text)
    assert "You have no share links yet." in text_of(unknown.text)


def test_her_page_in_dutch(client: TestClient, issued: dict[str, Any]) -> None:
    html = signed_in(client, issued)
    make_link(client, html, "Werkgever", ["name"])
    page = client.get("/holder", headers={"Accept-Language": "nl"})
    assert page.status_code == 200 and '<html lang="nl">' in page.text
    words = text_of(page.text)
    for dutch in ("Jouw credential", "Jouw deellinks", "Een deellink maken", "Toevoegen aan LinkedIn", "Intrekken"):
        assert dutch in words, dutch
    confirm = client.get("/holder/links/1/withdraw", headers={"Accept-Language": "nl"})
    assert "Ja, deze link intrekken" in text_of(confirm.text)
    client.cookies.clear()
    client.cookies.set("hub_holder", "nothing")
    gone = client.get("/holder", headers={"Accept-Language": "nl"})
    assert gone.status_code == 401 and "persoonlijke link" in text_of(gone.text)


# ---------------------------------------------------------------- the API, the cohort, the access log


def test_the_cohort_answer_gives_each_graduate_her_link(client: TestClient, hub: Hub, keys: Any, hanze: str) -> None:
    cohort = client.post(
        "/credentials/batch",
        headers=keys.issuer(HANZE),
        json={
            "credentials": [
                {"programme_id": "miw-data-analytics", "email": "a@example.org", "name": "An"},
                {"programme_id": "miw-data-analytics", "email": "b@example.org", "name": "Bo"},
            ]
        },
    )
    assert cohort.status_code == 202, cohort.text
    for item in cohort.json()["credentials"]:
        assert item["holder_url"] == f"http://testserver/holder/{item['holder_token']}"
    opened = client.get(urlsplit(cohort.json()["credentials"][1]["holder_url"]).path)
    assert opened.status_code == 200 and str(opened.url).endswith("/holder")
    with hub.sessions() as db:
        assert db.scalars(select(models.WebSession.subject)).all() == [cohort.json()["credentials"][1]["id"]]


def test_the_access_log_never_writes_the_holder_token(hub: Hub, issued: dict[str, Any]) -> None:
    assert redact_holder_paths("GET /holder/hold_abc123XYZ HTTP/1.1") == "GET /holder/… HTTP/1.1"
    assert redact_holder_paths("/holder/links/3/withdraw") == "/holder/links/3/withdraw"
    app = create_app(hub=hub)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info", access_log=True))
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    collect = Collect()
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        logging.getLogger("uvicorn.access").addHandler(collect)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, follow_redirects=True) as http:
            opened = http.get(holder_path(issued))
            assert opened.status_code == 200 and str(opened.url).endswith("/holder")
            assert http.get("/holder/hold_" + "y" * 43).status_code == 404
    finally:
        logging.getLogger("uvicorn.access").removeHandler(collect)
        server.should_exit = True
        thread.join(10)
        sock.close()
    written = "\n".join(lines)
    assert '"GET /holder/… HTTP/1.1" 303' in written and '"GET /holder HTTP/1.1" 200' in written, written
    assert issued["holder_token"] not in written and "y" * 43 not in written


def test_over_https_the_cookie_is_host_bound_and_secure(client: TestClient, hub: Hub, issued: dict[str, Any]) -> None:
    hub.settings.public_url = "https://hub.example.org"
    opened = client.get(holder_path(issued), follow_redirects=False)
    assert opened.status_code == 303
    cookie = opened.headers["set-cookie"]
    assert cookie.startswith("__Host-hub_holder=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie and "Domain" not in cookie
    session_id = cookie.split(";", 1)[0].split("=", 1)[1]
    # the plain name opens nothing there; the __Host- one does
    client.cookies.clear()
    client.cookies.set("hub_holder", session_id)
    assert client.get("/holder").status_code == 401
    client.cookies.clear()
    client.cookies.set("__Host-hub_holder", session_id)
    page = client.get("/holder")
    assert page.status_code == 200 and "Jan de Vries" in page.text


def test_an_expired_session_opens_nothing(client: TestClient, hub: Hub, issued: dict[str, Any]) -> None:
    signed_in(client, issued)
    with hub.sessions() as db:
        row = db.scalar(select(models.WebSession))
        assert row is not None
        assert row.expires_at.replace(tzinfo=UTC) - datetime.now(UTC) > timedelta(hours=7)  # a working day
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.commit()
    page = client.get("/holder")
    assert page.status_code == 401 and "Open your credential with your personal link" in text_of(page.text)


def test_the_number_of_open_links_is_bounded(
    client: TestClient, issued: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import service.pages.holder as holder

    monkeypatch.setattr(holder, "MAX_LINKS", 2)
    html = signed_in(client, issued)
    first, _first_path = make_link(client, html, "One", [])
    make_link(client, client.get("/holder").text, "Two", [])
    html = client.get("/holder").text
    refused = client.post(
        "/holder/links", data={"csrf": csrf_of(html), "form_id": form_id_of(html), "label": "Three", "claims": []}
    )
    assert refused.status_code == 409 and "You have 2 share links" in text_of(refused.text)
    # withdrawing one makes room again (the refused form kept its id: it may be sent again)
    client.post(f"/holder/links/{first}/withdraw", data={"csrf": csrf_of(html)})
    make_link(client, html, "Three", [])


def test_the_link_form_sent_twice_makes_one_link(client: TestClient, issued: dict[str, Any]) -> None:
    """A double tap or a reloaded answer sends the same form again: the first link is shown, no second is made;
    the same form with other choices is refused in words; a new page's form makes a new link."""
    html = signed_in(client, issued)
    link_id, _path = make_link(client, html, "Werkgever", ["name"])
    again = client.post(
        "/holder/links",
        data={"csrf": csrf_of(html), "form_id": form_id_of(html), "label": "Werkgever", "claims": ["name"]},
        follow_redirects=False,
    )
    assert again.status_code == 303 and again.headers["location"] == f"/holder?made={link_id}#link-{link_id}"
    other = client.post(
        "/holder/links",
        data={"csrf": csrf_of(html), "form_id": form_id_of(html), "label": "Anders", "claims": []},
    )
    assert other.status_code == 409 and "You sent this form already with other choices" in text_of(other.text)
    page = client.get("/holder").text
    assert page.count('class="share-link"') == 1, "one link, not two"
    assert form_id_of(page) != form_id_of(html)
    second, _ = make_link(client, page, "Werkgever", ["name"])
    assert second != link_id
    assert client.get("/holder").text.count('class="share-link"') == 2


def test_an_unexpected_error_on_a_holder_link_logs_no_token(
    hub: Hub, issued: dict[str, Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import service.pages.holder as holder

    def broken(_hub: Hub) -> None:
        raise RuntimeError("the session store failed")

    monkeypatch.setattr(holder, "_store", broken)
    with TestClient(create_app(hub=hub), raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR):
        response = client.get(holder_path(issued), follow_redirects=False)
    assert response.status_code == 500
    written = "\n".join(record.getMessage() for record in caplog.records)
    assert "unhandled error on GET /holder/…" in written and issued["holder_token"] not in caplog.text


def test_sessions_a_day_past_their_end_are_deleted(client: TestClient, hub: Hub, issued: dict[str, Any]) -> None:
    signed_in(client, issued)
    signed_in(client, issued)
    with hub.sessions() as db:
        rows = db.scalars(select(models.WebSession).order_by(models.WebSession.created_at)).all()
        assert len(rows) == 2
        rows[0].expires_at = datetime.now(UTC) - timedelta(days=1, minutes=1)  # long gone
        rows[1].expires_at = datetime.now(UTC) - timedelta(hours=23)  # ended, kept a little longer
        kept = rows[1].id_hash
        db.commit()
    signed_in(client, issued)
    with hub.sessions() as db:
        hashes = db.scalars(select(models.WebSession.id_hash)).all()
    assert len(hashes) == 2 and kept in hashes


def test_an_id_no_database_can_hold_is_no_such_page(client: TestClient, issued: dict[str, Any]) -> None:
    """A link id past the database's integers (or 0) is a 404 page, not a database error."""
    signed_in(client, issued)
    for path in ("/holder/links/99999999999999999999/qr.svg", "/holder/links/0/withdraw"):
        answer = client.get(path, headers={"Accept": "text/html"})
        assert answer.status_code == 404 and "text/html" in answer.headers["content-type"], path


def test_her_page_and_a_staff_session_keep_their_own_cookies(client: TestClient, issued: dict[str, Any]) -> None:
    """Opening a personal link never replaces a staff session in the same browser, and a sign-out form from
    elsewhere (no session of hers, no CSRF token) clears nothing."""
    client.cookies.set("hub_session", "a-staff-session")
    signed_in(client, issued)
    assert client.cookies.get("hub_session") == "a-staff-session" and client.cookies.get("hub_holder")
    forged = client.post("/holder/sign-out", data={})  # her session, no token: refused, nothing cleared
    assert forged.status_code == 403
    client.cookies.delete("hub_holder")
    stray = client.post("/holder/sign-out", data={})  # no session of hers at all
    assert "set-cookie" not in stray.headers
    assert client.cookies.get("hub_session") == "a-staff-session"
