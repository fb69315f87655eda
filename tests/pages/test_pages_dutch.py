"""The pages, the certificate PDF and the verification report in Dutch (and the same facts in English), on a real
anvil with the hub deployed: issue 14's "Dutch and English, everywhere a person reads".

The `client` fixture asks for English; these tests ask for Dutch with Accept-Language (as a Dutch browser does),
with `?lang=nl`, or with no language at all (Dutch is the default). What is checked is what a Dutch reader
sees: the words (glossary of the design: Geldig, Ingetrokken, Uitgereikt aan, ...), the dates ("1 juli 2026"),
the numbers and grades ("8,5"), `lang="nl"`; and that no English sentence of ours is left on the page.
Also: a tampered credential shows its claims only muted, folded away and labelled "not confirmed"; the
"issuer accredited" check links to the board's decision in force at the anchoring.
"""

from __future__ import annotations

import copy
import html
import io
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from service import i18n
from service.credentials.verifier import CHECK_ORDER, Status
from service.pages import present
from tests.api.test_verify_carriers import edit_print
from tests.pages.conftest import share_path
from tests.pages.test_pages import checks_on, text_of, verify_form
from tests.pages.test_verify_carriers import printed_rows

NL = {"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}
NAME = "Jan de Vries"
# English sentences of the pages that must not be left on a Dutch page (the verifier's technical reasons,
# marked lang="en", and the issuer's own words are English by nature and not looked for).
ENGLISH = (
    "This credential is valid",
    "Awarded to",
    "Issued by",
    "Date of issue",
    "What was checked",
    "checks passed",
    "Download",
    "Verify a credential",
    "Study load",
    "Not valid",
    "Technical detail",
    "the holder of this credential",
)


def dutch_page(response: Any, status: int = 200) -> str:
    assert response.status_code == status, response.text[:500]
    assert '<html lang="nl">' in response.text
    assert response.headers["content-language"] == "nl"
    text = text_of(response)
    left = [phrase for phrase in ENGLISH if re.search(rf"\b{re.escape(phrase)}\b", text)]
    assert not left, f"English left on a Dutch page: {left}"
    return text


def share_name_and_grade(client: TestClient, issued: dict[str, Any]) -> None:
    response = client.put(
        f"/credentials/{issued['id']}/sharing",
        headers={"X-Holder-Token": issued["holder_token"]},
        json={"disclose": ["name", "result"]},
    )
    assert response.status_code == 200, response.text


def accreditation_href(client: TestClient, issued: dict[str, Any]) -> str:
    """Where the "issuer accredited" check must link: the issuer's slug (the end of its did:web) and the
    moment of the anchoring, as POST /verify reports them."""
    report = client.post("/verify", json=issued["document"]).json()
    slug = report["credential"]["issuer_id"].rsplit(":issuers:", 1)[1]
    assert slug == "hanzehogeschool-groningen"
    anchored_at = report["anchor"]["anchored_at"]
    assert isinstance(anchored_at, int) and anchored_at > 0
    return f"/partners/{slug}/accreditation?at={anchored_at}"


# ---------------------------------------------------------------- share page


def test_share_page_in_dutch_reads_as_a_dutch_certificate(client: TestClient, issue: Any) -> None:
    issued = issue()
    share_name_and_grade(client, issued)
    response = client.get(share_path(issued), headers=NL)
    text = dutch_page(response)
    assert "Geldig" in text
    assert "Deze credential is geldig: uitgegeven door Hanzehogeschool Groningen op 1 juli 2026 (CEST)." in text
    for fact in (
        f"Uitgereikt aan {NAME}",
        "Uitgegeven door Hanzehogeschool Groningen",
        "Datum van uitgifte 1 juli 2026 (CEST)",
        "Geldig tot 1 juli 2031 (CEST)",
        "Studielast 30 ECTS (ongeveer 840 uur studie)",
        "Niveau EQF-niveau 6 (bachelorniveau)",
        "Microcredential · Make IT Work: Data Analytics",
        "Eindcijfer 8,5 op een schaal van 1,0 tot 10,0",  # the hub's name of the grade, and a decimal comma
        "14 van de 14 controles zijn goed.",
        "Wat is gecontroleerd",
    ):
        assert fact in text, fact
    marks = checks_on(response)
    assert marks["Ongewijzigd"] == marks["Uitgever erkend"] == marks["Niet ingetrokken"] == "passed"
    # the verifier's own technical reasons stay English, and say so to a screen reader
    assert re.search(r'<span class="check__reason-label">Technisch detail:</span> <span lang="en">', response.text)
    # the certificate in Dutch (the page's language) and a link to the English one, labelled in English
    assert f'href="{share_path(issued)}/certificate.pdf"' in response.text
    assert f'href="{share_path(issued)}/certificate.pdf?lang=en" hreflang="en" lang="en">Certificate in English' in (
        response.text
    )


def test_the_issuer_accredited_check_links_to_the_boards_decision_in_both_languages(
    client: TestClient, issue: Any
) -> None:
    issued = issue()
    href = accreditation_href(client, issued)
    for headers, words in ((NL, "Het besluit van het bestuur dat de uitgever erkende"), ({}, "The board's decision")):
        response = client.get(share_path(issued), headers=headers)
        block = re.search(r'<h3 class="check__title">[^<]+</h3>(.*?)</li>', response.text, flags=re.S)
        assert block is not None
        accredited = next(
            item
            for item in re.findall(r'<li class="check check--\w+">(.*?)</li>', response.text, flags=re.S)
            if "check__link" in item
        )
        assert f'<a href="{href}">{words}' in accredited.replace("&#39;", "'"), accredited
    # the verify page links the same decision
    response = verify_form(client, json.dumps(issued["document"]))
    assert f'<a href="{href}">' in response.text


def test_a_revoked_credential_in_dutch_says_when_and_why(client: TestClient, keys: Any, issue: Any) -> None:
    issued = issue()
    revoked = client.post(
        f"/credentials/{issued['id']}/revoke",
        headers=keys.issuer("Hanzehogeschool Groningen"),
        json={"reason": "issued-in-error"},
    )
    assert revoked.status_code == 200, revoked.text
    response = client.get(share_path(issued), headers=NL)
    text = dutch_page(response)
    assert re.search(
        r"Niet geldig: hij is ingetrokken op \d{1,2} [a-z]+ \d{4} \(CES?T\) omdat hij per vergissing is uitgegeven\.",
        text,
    ), text
    assert "Ingetrokken" in text
    assert checks_on(response)["Niet ingetrokken"] == "failed"
    # and the API's summary says the same, in the language asked for
    report = client.post("/verify", json=issued["document"], headers=NL)
    assert report.headers["content-language"] == "nl"
    body = report.json()
    assert body["valid"] is False and body["language"] == "nl"
    assert body["summary"].startswith("Niet geldig: hij is ingetrokken op ")
    assert "omdat hij per vergissing is uitgegeven." in body["summary"]
    explained = {check["name"]: check["explanation"] for check in body["checks"]}
    assert explained["not_revoked"] == "Niet goed: de uitgever heeft hem ingetrokken."
    english = client.post("/verify", json=issued["document"]).json()
    assert english["language"] == "en" and "because it was issued in error." in english["summary"]
    assert {check["name"]: check["explanation"] for check in english["checks"]}["not_revoked"] == (
        "Not passed: the issuer has withdrawn it."
    )


def test_an_unknown_share_link_is_a_dutch_404_page(client: TestClient) -> None:
    text = dutch_page(client.get("/share/" + "x" * 32, headers=NL), status=404)
    assert "Deze deellink werkt niet" in text and "Achter deze link zit geen credential." in text


# ---------------------------------------------------------------- the report of POST /verify


def test_the_report_speaks_dutch_by_default_and_english_when_asked(client: TestClient, issue: Any) -> None:
    document = issue()["document"]
    # no language asked for at all (a bare HTTP client): Dutch, the hub's language
    bare = client.post("/verify", json=document, headers={"Accept-Language": ""})
    assert bare.status_code == 200 and bare.headers["content-language"] == "nl"
    report = bare.json()
    assert report["valid"] is True and report["language"] == "nl"
    assert (
        report["summary"]
        == "Deze credential is geldig: uitgegeven door Hanzehogeschool Groningen op 1 juli 2026 (CEST)."
    )
    assert [check["name"] for check in report["checks"]] == [name for name in CHECK_ORDER if name != "recipient"]
    for check in report["checks"]:  # every check has its plain sentence, in Dutch
        with i18n.use("nl"):
            assert check["explanation"] == present.explanation(check["name"], check["status"])
        assert check["explanation"] and check["explanation"] != present.explanation.__doc__
    assert {c["name"]: c["explanation"] for c in report["checks"]}["integrity"] == (
        "Er is niets aan veranderd nadat hij is uitgegeven."
    )
    # the rest stays as developers read it: titles and reasons in English
    assert {c["name"]: c["title"] for c in report["checks"]}["integrity"] == "Integrity"
    english = client.post("/verify", json=document, headers={"Accept-Language": "de-DE, en;q=0.5"}).json()
    assert english["language"] == "en"
    assert english["summary"] == "This credential is valid: issued by Hanzehogeschool Groningen on 1 July 2026 (CEST)."
    # a problem stays English whatever the language
    problem = client.post("/verify", content=b"{", headers={**NL, "Content-Type": "application/json"})
    assert problem.status_code == 400 and problem.headers["content-type"] == "application/problem+json"
    assert "JSON" in problem.json()["detail"] and "geen" not in problem.json()["detail"]


def test_the_report_of_a_tampered_credential_explains_the_failure_in_dutch(client: TestClient, issue: Any) -> None:
    tampered = copy.deepcopy(issue()["document"])
    tampered["credentialSubject"]["achievement"]["creditsAvailable"] = 60
    report = client.post("/verify", json=tampered, headers=NL).json()
    assert report["valid"] is False
    assert report["summary"] == "Niet geldig: het bestand is veranderd nadat het is uitgegeven."
    explained = {c["name"]: (c["status"], c["explanation"]) for c in report["checks"]}
    assert explained["integrity"] == ("failed", "Niet goed: het bestand is veranderd nadat het is uitgegeven.")
    assert explained["anchored"][0] == "not_run" and explained["anchored"][1].startswith("Niet gecontroleerd")


def test_every_check_has_words_in_both_languages() -> None:
    for language in i18n.LOCALES:
        with i18n.use(language):
            for name in (*CHECK_ORDER, "certificate_print"):
                for status in Status:
                    sentence = present.explanation(name, status)
                    assert sentence and sentence.endswith("."), (language, name, status, sentence)
                assert str(present.TITLES[name]) and str(present.CHECK_MEANINGS[name])
                assert name == "format" or str(present.FAILURE_REASONS[name])  # format: "not a credential"
    with i18n.use("nl"):
        assert present.explanation("integrity", Status.PASSED) != "Nothing in it was changed after it was issued."


# ---------------------------------------------------------------- verify page


def test_verify_page_in_dutch_has_the_form_and_a_how_to_for_employers(client: TestClient) -> None:
    response = client.get("/verify", headers=NL)
    text = dutch_page(response)
    assert "Een credential controleren" in text
    assert '<label for="file">Kies het credentialbestand, het certificaat (pdf) of de badge-afbeelding</label>' in (
        response.text
    )
    assert "Credential controleren" in text  # the button
    assert "Zo controleer je een credential (voor werkgevers)" in text
    steps = re.search(r'<ol class="how-to__steps">(.*?)</ol>', response.text, flags=re.S)
    assert steps is not None and steps.group(1).count("<li>") == 5
    assert "deellink" in steps.group(1) and "“Geldig” betekent" in steps.group(1)
    english = client.get("/verify")
    assert "How to verify a credential (for employers)" in text_of(english)
    assert english.text.count('<ol class="how-to__steps">') == 1
    # the language switch keeps the page
    switched = client.get("/verify?lang=nl")
    assert '<html lang="nl">' in switched.text and "hub_lang=nl" in switched.headers["set-cookie"]
    client.cookies.clear()


def test_a_form_problem_is_in_dutch(client: TestClient) -> None:
    files = {"file": ("", b"", "application/octet-stream")}
    response = client.post("/verify/check", data={"credential": "", "email": ""}, files=files, headers=NL)
    text = dutch_page(response, status=422)
    assert "Er is een probleem" in text
    assert "Plak de tekst van de credential (JSON) of de deellink in het vak, of kies het bestand." in text


def test_a_tampered_credential_does_not_show_its_forged_claims_as_a_certificate(client: TestClient, issue: Any) -> None:
    issued = issue()
    share_name_and_grade(client, issued)
    shared = client.get(share_path(issued) + "/credential.json").json()
    assert NAME in json.dumps(shared)
    forged = copy.deepcopy(shared)
    forged["credentialSubject"]["achievement"]["name"] = "Master of Everything"
    for headers, title, summary in (
        (NL, "Wat het bestand beweert — niet bevestigd", "Toon wat het bestand beweert (niet bevestigd)"),
        ({}, "What the file claims — not confirmed", "Show what the file claims (not confirmed)"),
    ):
        response = client.post(
            "/verify/check",
            data={"credential": json.dumps(forged), "email": ""},
            files={"file": ("", b"", "application/octet-stream")},
            headers=headers,
        )
        assert response.status_code == 200
        html = response.text
        assert 'class="verdict verdict--invalid"' in html
        # no certificate card: no big "Awarded to <name>", no programme as the certificate's title
        assert 'class="certificate ' not in html and "certificate__awarded" not in html
        block = re.search(r'<section class="claims-unconfirmed".*?</section>', html, flags=re.S)
        assert block is not None and title in block.group()
        # the claims are only inside the folded, labelled block: nowhere else on the page
        assert f"<summary>{summary}</summary>" in block.group()
        # (the language switch posts the pasted text again in hidden fields: sent, never shown)
        switch = re.search(
            r'<form method="post" action="/verify/check\?lang=[a-z]+"[^>]*class="nav__switch">.*?</form>',
            html,
            flags=re.S,
        )
        assert switch is not None
        outside = html.replace(block.group(), "").replace(switch.group(), "")
        assert NAME not in outside and "Master of Everything" not in outside
        details = re.search(r"<details[^>]*>.*?</details>", block.group(), flags=re.S)
        assert details is not None and NAME in details.group() and "<details open" not in details.group()
    # a genuine credential keeps its certificate card
    genuine = verify_form(client, json.dumps(shared))
    assert 'class="certificate certificate--valid"' in genuine.text and "claims-unconfirmed" not in genuine.text
    # and so does one that is genuine but not issued to the email address given: not valid, not forged
    full = issued["document"]
    other = verify_form(client, json.dumps(full), email="someone.else@example.org")
    assert 'class="verdict verdict--invalid"' in other.text
    assert "Not valid: it was not issued to the email address you gave." in text_of(other)
    assert 'class="certificate certificate--invalid"' in other.text and "claims-unconfirmed" not in other.text
    assert f"Awarded to <strong>{NAME}</strong>" in other.text


# ---------------------------------------------------------------- the certificate PDF


def pdf_text(data: bytes) -> tuple[str, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader.pages[0].extract_text(), str(reader.trailer["/Root"].get("/Lang"))


@pytest.mark.parametrize(
    ("query", "headers", "language"),
    [("?lang=nl", {}, "nl"), ("", NL, "nl"), ("?lang=en", NL, "en"), ("", {}, "en")],
)
def test_the_certificate_pdf_in_the_language_asked_for(
    client: TestClient, issue: Any, query: str, headers: dict[str, str], language: str
) -> None:
    issued = issue()
    share_name_and_grade(client, issued)
    response = client.get(share_path(issued) + "/certificate.pdf" + query, headers=headers)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text, lang = pdf_text(response.content)
    assert lang == language
    if language == "nl":
        for words in (
            "uitgereikt aan",
            "UITGEGEVEN DOOR",
            "1 juli 2026 (CEST)",
            "EINDCIJFER",
            "8,5 (schaal 1,0–10,0)",
            "SCAN OM TE CONTROLEREN",
            "ZO CONTROLEER JE HET",
            "Gecontroleerd op",
            "geldig",
        ):
            assert words in text, words
        assert "awarded to" not in text and "1 July" not in text
    else:
        for words in ("awarded to", "ISSUED BY", "1 July 2026 (CEST)", "8.5 (scale 1.0–10.0)", "SCAN TO VERIFY"):
            assert words in text, words
        assert "uitgereikt" not in text


def test_a_dutch_certificate_verifies_and_an_edited_one_is_caught(client: TestClient, issue: Any) -> None:
    issued = issue()
    share_name_and_grade(client, issued)
    dutch = client.get(share_path(issued) + "/certificate.pdf?lang=nl").content
    client.cookies.clear()  # the switch is remembered (hub_lang): forget it, to read the next page in English
    files = {"file": ("certificaat.pdf", dutch, "application/pdf")}
    # read on an English page: the Dutch print is compared with the Dutch print of the credential
    response = client.post(
        "/verify/check", data={"credential": "", "email": ""}, files=files, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 200
    assert "This credential is valid" in text_of(response)
    assert checks_on(response)["Printed certificate"] == "passed"
    # the facts are labelled in the reader's language, whatever the print's
    assert printed_rows(response.text)["Awarded to"] == (NAME, NAME, "Same")
    report = client.post("/verify", content=dutch, headers={"Content-Type": "application/pdf", **NL}).json()
    assert report["valid"] is True and report["printed"] and all(fact["matches"] for fact in report["printed"])
    assert report["summary"].startswith("Deze credential is geldig")
    # the name edited on a Dutch print: not valid, and the summary says the PDF was changed
    forged = edit_print(dutch, b"(Jan de Vries)", b"(Piet Jansen)")
    report = client.post("/verify", content=forged, headers={"Content-Type": "application/pdf", **NL}).json()
    assert report["valid"] is False
    assert report["summary"] == "Deze pdf is veranderd: wat erop staat is niet wat de credential zegt."
    # the report's fields stay English for developers: the facts are named in English
    differing = [fact for fact in report["printed"] if not fact["matches"]]
    assert [fact["label"] for fact in differing] == ["Awarded to"] and differing[0]["printed"] == "Piet Jansen"
    assert (
        "Awarded to: printed 'Piet Jansen'" in {c["name"]: c["reason"] for c in report["checks"]}["certificate_print"]
    )
    page = client.post(
        "/verify/check",
        data={"credential": "", "email": ""},
        files={"file": ("c.pdf", forged, "application/pdf")},
        headers=NL,
    )
    text = dutch_page(page)
    assert "Deze pdf is veranderd: wat erop staat is niet wat de credential zegt." in text


# ---------------------------------------------------------------- the language switch on an answer page


def _switch_form(answer: str) -> tuple[str, dict[str, str]]:
    """The language switch of an answer page: its action and its hidden fields."""
    match = re.search(r'<form method="post" action="([^"]+)"[^>]*class="nav__switch">(.*?)</form>', answer, re.S)
    assert match, "no language switch form on the answer page"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', match.group(2)))
    return match.group(1), {name: html.unescape(value) for name, value in fields.items()}


def test_the_switch_on_a_verify_answer_keeps_the_answer(client: TestClient, issue: Any) -> None:
    """The verify page's answer is the answer to a form: its language switch posts the same input again, so the
    reader gets the same answer in the other language instead of an empty form."""
    issued = issue()
    english = client.post("/verify/check", data={"credential": json.dumps(issued["document"])}, files={})
    assert english.status_code == 200 and "This credential is valid" in english.text
    action, fields = _switch_form(english.text)
    assert action == "/verify/check?lang=nl"
    assert json.loads(fields["credential"]) == issued["document"]
    dutch = client.post(action, data=fields)
    text = dutch_page(dutch)
    assert "Deze credential is geldig" in text
    client.cookies.clear()


def test_the_switch_keeps_the_answer_for_an_uploaded_pdf(client: TestClient, issue: Any) -> None:
    """A file (here the certificate PDF) is posted again too (base64), so the print is compared again."""
    issued = issue()
    share_name_and_grade(client, issued)
    pdf = client.get(share_path(issued) + "/certificate.pdf").content
    english = client.post("/verify/check", data={}, files={"file": ("certificate.pdf", pdf, "application/pdf")})
    assert english.status_code == 200 and "This credential is valid" in english.text
    action, fields = _switch_form(english.text)
    assert fields["file_name"] == "certificate.pdf" and fields["file_b64"]
    dutch = client.post(action, data=fields)
    text = dutch_page(dutch)
    assert "Deze credential is geldig" in text and NAME in text
    # a switch that posts something that is not base64 gives the form's own error, not a crash
    broken = client.post(action, data={**fields, "file_b64": "%%%"})
    assert broken.status_code == 422
    client.cookies.clear()
