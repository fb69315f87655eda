"""`hub cohort import` and `hub cohort export` against a real server (the app on uvicorn, a real anvil node,
the demo seeded): a cohort from CSV anchored in one transaction, a bad row refusing the whole import with
its line, the export as JSON + PDF files that verify, and PDFs that print exactly what the page behind
their QR code shows as verified (the QR code decoded from the rendered page with zxing-cpp, the page
fetched over HTTP from the live server, the PDF's text read with pypdf)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import httpx
import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader
from typer.testing import CliRunner

from service import i18n
from service.chain.devchain import free_port
from service.chain.registry import RegistryClient
from service.cli import _import_key, app
from service.credentials import verify_credential
from service.credentials.canonical import from_hex32
from service.credentials.facts import RegistryTrust
from service.documents import certificate
from tests.live import LiveHub, live_hub

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "docs" / "examples" / "cohort.csv"
HANZE = "Hanzehogeschool Groningen"
runner = CliRunner(env={"HUB_API_URL": None, "HUB_API_KEY": None, "COLUMNS": "200"})


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    with live_hub(tmp_path_factory.mktemp("cohort")) as live:
        yield live


def _import(hub: LiveHub, file: Path, links: Path, key: str | None = None) -> object:
    return runner.invoke(
        app,
        [
            "cohort",
            "import",
            str(file),
            "--url",
            hub.url,
            "--key",
            key or hub.key("issuer", HANZE),
            "--links",
            str(links),
        ],
    )


def _links(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _batch_id(output: str) -> str:
    line = next(line for line in output.splitlines() if line.startswith("Batch "))
    return line.split()[-1]


def test_import_the_sample_cohort_anchors_it_in_one_transaction(hub: LiveHub, tmp_path: Path) -> None:
    links = tmp_path / "issued.csv"
    result = _import(hub, SAMPLE, links)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Issued       6 credentials, anchored in one transaction" in out
    assert "Checking and storing 6 rows" in result.stderr and "Anchoring on chain" in result.stderr
    batch_id = _batch_id(out)

    rows = _links(links)
    assert [row["email"] for row in rows] == [row["email"] for row in _links(SAMPLE)]
    assert [row["line"] for row in rows] == ["2", "3", "4", "5", "6", "7"]
    assert all(row["share_url"].startswith(f"{hub.url}/share/") for row in rows)
    # each graduate gets her personal link (not a raw token): it opens her own page
    assert all(row["holder_url"].startswith(f"{hub.url}/holder/hold_") for row in rows)
    assert "holder_token" not in rows[0]
    assert oct(links.stat().st_mode & 0o777) == "0o600"

    batch = httpx.get(f"{hub.url}/batches/{batch_id}", headers=hub.auth("issuer", HANZE), timeout=30).json()
    assert batch["status"] == "anchored" and batch["count"] == 6
    assert f"Merkle root  {batch['root']}" in out and batch["transaction_hash"] in out
    on_chain = RegistryClient(hub.chain.node.w3, hub.chain.deployment.registry.address).batch(
        batch["issuer_address"], from_hex32(batch["root"])
    )
    assert on_chain.anchored and on_chain.count == 6
    held = httpx.get(
        f"{hub.url}/credentials/{rows[0]['credential_id']}",
        timeout=30,
        headers={"X-Holder-Token": rows[0]["holder_url"].rsplit("/", 1)[1]},
    )
    assert held.status_code == 200 and held.json()["document"] is not None
    with httpx.Client(timeout=30, headers={"Accept-Language": "en"}) as browser:
        opened = browser.get(rows[0]["holder_url"])
        assert opened.status_code == 303 and opened.headers["location"] == "/holder"
        own = browser.get(f"{hub.url}/holder")
        assert own.status_code == 200, own.text
        assert "Your share links" in own.text and rows[0]["credential_id"] in own.text


def test_a_bad_row_refuses_the_whole_import_with_its_line(hub: LiveHub, tmp_path: Path) -> None:
    text = SAMPLE.read_text(encoding="utf-8").splitlines()
    text[3] = text[3].replace(",7,", ",11,")  # line 4: Pieter Bakker's grade
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(text) + "\n", encoding="utf-8")
    links = tmp_path / "issued.csv"
    w3 = hub.chain.node.w3
    block = w3.eth.block_number

    result = _import(hub, bad, links)
    assert result.exit_code == 2, result.output
    assert "refused; nothing was issued" in result.stderr
    assert "line 4 (row 3): result: '11' is not a grade" in result.stderr
    assert "Traceback" not in result.output
    assert w3.eth.block_number == block  # nothing anchored
    assert not links.exists()

    # a row naming another partner's programme is refused whole too, with its line
    text = SAMPLE.read_text(encoding="utf-8").splitlines()
    text.append("blockchain-foundations,eva@example.org,Eva Smit,8,,")
    foreign = tmp_path / "foreign.csv"
    foreign.write_text("\n".join(text) + "\n", encoding="utf-8")
    result = _import(hub, foreign, links)
    assert result.exit_code == 2, result.output
    assert "line 8 (row 7)" in result.stderr and "issued by another partner" in result.stderr
    assert w3.eth.block_number == block


def test_an_address_a_spreadsheet_would_run_as_a_formula_is_refused(hub: LiveHub, tmp_path: Path) -> None:
    """CSV injection (OWASP): an e-mail cell starting with =, +, - or @ is refused with its line; nothing issued."""
    w3 = hub.chain.node.w3
    block = w3.eth.block_number
    for start in "=+-@":
        text = SAMPLE.read_text(encoding="utf-8").splitlines()
        text.append(f'miw-data-analytics,{start}HYPERLINK("http://evil.example")@example.org,Eva Smit,8,,')
        bad = tmp_path / "formula.csv"
        bad.write_text("\n".join(text) + "\n", encoding="utf-8")
        result = _import(hub, bad, tmp_path / "issued.csv")
        assert result.exit_code == 2, result.output
        assert f"line {len(text)} (row {len(text) - 1}): email:" in result.stderr
        assert "a spreadsheet would read it as a formula" in result.stderr
    assert w3.eth.block_number == block  # nothing anchored


def test_csv_cells_that_would_start_a_formula_are_neutralised() -> None:
    from service.issuing.requests import csv_cell

    assert [csv_cell(v) for v in ("=1+1", "+31", "-2", "@SUM(A1)", "\tx", "jan@example.org", 3)] == [
        "'=1+1",
        "'+31",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "jan@example.org",
        "3",
    ]


def test_importing_a_file_twice_issues_it_once(hub: LiveHub, tmp_path: Path) -> None:
    """The import sends an Idempotency-Key derived from the partner's key and the file: the second run is the
    service's replayed answer, so nothing is issued or anchored again, and the links file is written again."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    cohort = tmp_path / "twice.csv"  # not the sample: the other tests of this module import that one
    cohort.write_text(
        "\n".join([lines[0], *(line.replace("@example.org", "@twice.example.org") for line in lines[1:])]) + "\n",
        encoding="utf-8",
    )
    w3 = hub.chain.node.w3

    first = _import(hub, cohort, tmp_path / "first.csv")
    assert first.exit_code == 0, first.output
    assert "Issued       6 credentials" in first.stdout and "already imported" not in first.stdout
    batch_id = _batch_id(first.stdout)
    block = w3.eth.block_number

    second = _import(hub, cohort, tmp_path / "second.csv")
    assert second.exit_code == 0, second.output
    assert f"{cohort} was already imported as batch {batch_id}: nothing was issued again" in second.stdout
    assert _batch_id(second.stdout) == batch_id
    assert w3.eth.block_number == block  # nothing anchored again
    assert (tmp_path / "second.csv").read_text(encoding="utf-8") == (tmp_path / "first.csv").read_text(encoding="utf-8")
    assert oct((tmp_path / "second.csv").stat().st_mode & 0o777) == "0o600"

    # the key is the partner's: another partner importing the same file is another request
    data = cohort.read_bytes()
    assert _import_key(hub.key("issuer", HANZE), data) != _import_key(hub.key("issuer", "Alfa-college"), data)
    assert _import_key(hub.key("issuer", HANZE), data) != _import_key(hub.key("issuer", HANZE), data + b"\n")


def test_import_errors_are_readable(hub: LiveHub, tmp_path: Path) -> None:
    links = tmp_path / "issued.csv"
    result = _import(hub, tmp_path / "missing.csv", links)
    assert result.exit_code == 2 and "cannot read" in result.stderr

    result = _import(hub, SAMPLE, links, key="hub_not-a-key")
    assert result.exit_code == 1, result.output
    assert "401" in result.stderr and "this API key is not known" in result.stderr

    result = _import(hub, SAMPLE, links, key=hub.key("member", "Unigarant"))
    assert result.exit_code == 1 and "403" in result.stderr and "issuer" in result.stderr

    result = runner.invoke(
        app,
        [
            "cohort",
            "import",
            str(SAMPLE),
            "--url",
            f"http://127.0.0.1:{free_port()}",
            "--key",
            "hub_x",
            "--links",
            str(links),
        ],
    )
    assert result.exit_code == 2 and "cannot reach the hub service" in result.stderr
    assert "Traceback" not in result.output and not links.exists()

    links.write_text("earlier tokens\n")
    result = _import(hub, SAMPLE, links)
    assert result.exit_code == 2 and "the file exists" in result.stderr
    assert links.read_text() == "earlier tokens\n"


def test_export_writes_json_and_pdf_that_verify(hub: LiveHub, tmp_path: Path) -> None:
    links = tmp_path / "issued.csv"
    result = _import(hub, SAMPLE, links)
    assert result.exit_code == 0, result.output
    batch_id = _batch_id(result.stdout)
    rows = _links(links)
    revoked_id = rows[1]["credential_id"]
    revoked = httpx.post(
        f"{hub.url}/credentials/{revoked_id}/revoke",
        headers=hub.auth("issuer", HANZE),
        json={"reason": "issued-in-error"},
        timeout=60,
    )
    assert revoked.status_code == 200, revoked.text

    out = tmp_path / "export"
    result = runner.invoke(
        app, ["cohort", "export", batch_id, "--out", str(out), "--url", hub.url, "--key", hub.key("issuer", HANZE)]
    )
    assert result.exit_code == 0, result.output
    assert f"Exported  6 credentials of batch {batch_id} (1 revoked)" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{row['credential_id']}.{ext}" for row in rows for ext in ("json", "pdf")
    )

    facts = RegistryClient(hub.chain.node.w3, hub.chain.deployment.registry.address).chain_facts(
        RegistryTrust.CONFIGURED
    )
    for row in rows:
        data = (out / f"{row['credential_id']}.json").read_bytes()
        report = verify_credential(data, facts, recipient_email=row["email"])
        checks = {check.name: check.status.value for check in report.checks}
        if row["credential_id"] == revoked_id:
            assert not report.valid and checks["not_revoked"] == "failed"
        else:
            assert report.valid, [(c.name, c.reason) for c in report.checks if c.status.value != "passed"]
        pdf = (out / f"{row['credential_id']}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF")
        page_text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        name = next(r["name"] for r in _links(SAMPLE) if r["email"] == row["email"])
        assert name.split()[-1] in page_text  # the full credential: its name is disclosed on the certificate
        if row["credential_id"] == revoked_id:
            assert "Revoked" in page_text

    # `hub verify` agrees
    first = out / f"{rows[0]['credential_id']}.json"
    result = runner.invoke(
        app, ["verify", str(first), "--rpc", hub.chain.node.url, "--registry", hub.chain.deployment.registry.address]
    )
    assert result.exit_code == 0, result.output


def test_export_errors_are_readable(hub: LiveHub, tmp_path: Path) -> None:
    out = tmp_path / "export"
    result = runner.invoke(
        app,
        ["cohort", "export", "no-such-batch", "--out", str(out), "--url", hub.url, "--key", hub.key("issuer", HANZE)],
    )
    assert result.exit_code == 1 and "404" in result.stderr and "there is no batch" in result.stderr

    links = tmp_path / "issued.csv"
    imported = _import(hub, SAMPLE, links)
    assert imported.exit_code == 0, imported.output
    batch_id = _batch_id(imported.stdout)
    result = runner.invoke(
        app,
        [
            "cohort",
            "export",
            batch_id,
            "--out",
            str(out),
            "--url",
            hub.url,
            "--key",
            hub.key("issuer", "Rijksuniversiteit Groningen"),
        ],
    )
    assert result.exit_code == 1 and "403" in result.stderr and "another partner" in result.stderr
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- the printed certificate and its QR code


def _qr_link(pdf: bytes) -> str:
    """The one QR code on the rendered page (pypdfium2 at 144 dpi, decoded with zxing-cpp)."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=2).to_pil().convert("RGB")
    finally:
        document.close()
    codes = [item.text for item in zxingcpp.read_barcodes(image) if item.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(codes) == 1, codes
    return codes[0]


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """The CLI renders the certificates in the language of the moment (Dutch unless told): these tests read them,
    and the pages behind their QR codes, in English."""
    with i18n.use("en"):
        yield


def _pdf_text(pdf: bytes) -> str:
    return " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())


def _verified_claims(link: str) -> dict[str, str | None]:
    """What the page behind `link` shows as verified: its verdict, the name it was awarded to and the grade
    (None when the page says the copy does not include them). Fetched from the live server."""
    response = httpx.get(link, timeout=60, headers={"Accept-Language": "en"})  # the certificates are English here
    assert response.status_code == 200, response.text[:500]
    assert 'class="verdict verdict--valid"' in response.text  # the page vouches for what it shows
    text = " ".join(
        unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(style|svg)\b.*?</\1>", " ", response.text, flags=re.S))).split()
    )
    name = re.search(r"Awarded to (.+?) (?:The graduate's name|Issued by)", text)
    grade = re.search(r"Final grade (\S+) on a scale of (\S+) to (\S+)", text)
    assert name is not None, text
    return {
        "name": None if name.group(1) == "the holder of this credential" else name.group(1),
        "grade": None if grade is None else grade.group(1),
        "scale": None if grade is None else f"{grade.group(2)}\u2013{grade.group(3)}",
        "grade_withheld": "Final grade Not included in this copy" in text or None,
    }


def _export(hub: LiveHub, tmp_path: Path, name: str, *options: str) -> tuple[Path, list[dict[str, str]]]:
    """Import the sample cohort under e-mail addresses of its own (a new batch: an import of the same file is
    the first import's batch, which other tests revoke in) and export it with `options`."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    cohort = tmp_path / f"{name}-cohort.csv"
    rows = [line.replace("@example.org", f"@{name}.example.org") for line in lines[1:]]
    cohort.write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")
    links = tmp_path / f"{name}.csv"
    imported = _import(hub, cohort, links)
    assert imported.exit_code == 0, imported.output
    out = tmp_path / name
    result = runner.invoke(
        app,
        [
            "cohort",
            "export",
            _batch_id(imported.stdout),
            "--out",
            str(out),
            "--url",
            hub.url,
            "--key",
            hub.key("issuer", HANZE),
            "--lang",
            "en",  # these tests read the certificates in English (the export's default is Dutch)
            *options,
        ],
    )
    assert result.exit_code == 0, result.output
    return out, _links(links)


def test_a_certificate_prints_exactly_what_the_page_behind_its_qr_code_verifies(hub: LiveHub, tmp_path: Path) -> None:
    out, rows = _export(hub, tmp_path, "printed")
    sample = {row["email"].replace("@example.org", "@printed.example.org"): row for row in _links(SAMPLE)}
    for row in rows:
        pdf = (out / f"{row['credential_id']}.pdf").read_bytes()
        printed = _pdf_text(pdf)
        link = _qr_link(pdf)
        assert link.startswith(f"{hub.url}/share/") and link != row["share_url"]  # a link made for this PDF
        shown = _verified_claims(link)
        # the page confirms the name and the grade printed, as the CSV gave them
        expected_name = sample[row["email"]]["name"]
        assert shown["name"] == expected_name
        assert certificate._fonts_for([expected_name]).clean(expected_name) in printed  # "Yılmaz": DejaVu's ı
        grade = sample[row["email"]]["result"].replace(",", ".")
        if grade:
            assert shown["grade"] is not None and float(shown["grade"]) == float(grade)
            assert f"{shown['grade']} (scale {shown['scale']})" in printed
        else:  # an ungraded credential (Anouk Meijer): no grade anywhere
            assert shown["grade"] is None and "scale" not in printed
        # the copy behind the link discloses exactly the printed claims, and nothing else personal
        copy = httpx.get(f"{link}/credential.json", timeout=30).json()
        assert sorted(certificate.disclosed_claims(copy)) == (["name", "result"] if grade else ["name"])

    # the graduate's own share link is untouched: still nothing personal until they choose
    own = _verified_claims(rows[0]["share_url"])
    assert own["name"] is None and own["grade"] is None

    # exporting again gives each certificate the same link (one per credential and set of claims)
    again = tmp_path / "again"
    batch = httpx.get(
        f"{hub.url}/credentials/{rows[0]['credential_id']}", headers=hub.auth("issuer", HANZE), timeout=30
    ).json()["batch_id"]
    result = runner.invoke(
        app, ["cohort", "export", batch, "--out", str(again), "--url", hub.url, "--key", hub.key("issuer", HANZE)]
    )
    assert result.exit_code == 0, result.output
    first = rows[0]["credential_id"]
    assert _qr_link((again / f"{first}.pdf").read_bytes()) == _qr_link((out / f"{first}.pdf").read_bytes())


def test_a_certificate_that_prints_no_personal_claim_links_to_a_page_without_them(hub: LiveHub, tmp_path: Path) -> None:
    out, rows = _export(hub, tmp_path, "anonymous", "--claims", "none")
    for row in rows:
        pdf = (out / f"{row['credential_id']}.pdf").read_bytes()
        printed = _pdf_text(pdf)
        name = next(r["name"] for r in _links(SAMPLE) if r["email"] == row["email"].replace("@anonymous.", "@"))
        assert name.split()[-1] not in printed and "the holder of this credential" in printed
        assert "scale" not in printed and "Final grade" not in printed.title()
        shown = _verified_claims(_qr_link(pdf))
        assert shown["name"] is None and shown["grade"] is None and shown["grade_withheld"]

    # the name only: the page shows the name, withholds the grade; so does the PDF
    out, rows = _export(hub, tmp_path, "name-only", "--claims", "name")
    pdf = (out / f"{rows[0]['credential_id']}.pdf").read_bytes()
    shown = _verified_claims(_qr_link(pdf))
    assert shown["name"] is not None and shown["name"] in _pdf_text(pdf)
    assert shown["grade"] is None and "scale" not in _pdf_text(pdf)


def test_export_refuses_a_claim_a_certificate_does_not_print(hub: LiveHub, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "cohort",
            "export",
            "any-batch",
            "--out",
            str(tmp_path / "x"),
            "--url",
            hub.url,
            "--key",
            hub.key("issuer", HANZE),
            "--claims",
            "name,email",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "--claims: a certificate cannot print email" in result.stderr


def _rows(hub: LiveHub, name: str, tmp_path: Path, count: int) -> Path:
    """A small cohort of `count` graduates of the first programme of partner `name`."""
    own = [p for p in httpx.get(f"{hub.url}/programmes").json() if p["issuer_name"] == name]
    assert own, name
    grade = "7" if own[0]["graded"] else ""
    file = tmp_path / f"{name[:4]}-{count}.csv"
    lines = ["programme_id,email,name,grade,valid_from,valid_until"]
    lines += [f"{own[0]['id']},p{i}.{count}@example.org,Persoon {i},{grade},," for i in range(count)]
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return file


def test_batches_are_listed_newest_first_paged_and_only_the_callers_own(hub: LiveHub, tmp_path: Path) -> None:
    rug = "Rijksuniversiteit Groningen"
    issued = []
    for count in (1, 2, 3):
        result = _import(hub, _rows(hub, rug, tmp_path, count), tmp_path / f"links-{count}.csv", hub.key("issuer", rug))
        assert result.exit_code == 0, result.output
        issued.append(_batch_id(result.stdout))
    other = _import(
        hub, _rows(hub, "Alfa-college", tmp_path, 1), tmp_path / "alfa.csv", hub.key("issuer", "Alfa-college")
    )
    assert other.exit_code == 0, other.output
    alfa_batch = _batch_id(other.stdout)

    # all at once: newest first, the caller's own only
    answer = httpx.get(f"{hub.url}/batches", headers=hub.auth("issuer", rug))
    assert answer.status_code == 200, answer.text
    listed = answer.json()["batches"]
    assert [b["id"] for b in listed] == issued[::-1]
    assert [b["count"] for b in listed] == [3, 2, 1]
    assert all(b["status"] == "anchored" and len(b["programmes"]) == 1 for b in listed)
    assert answer.json()["next"] is None and "link" not in answer.headers
    alfa = httpx.get(f"{hub.url}/batches", headers=hub.auth("issuer", "Alfa-college")).json()["batches"]
    assert [b["id"] for b in alfa] == [alfa_batch]

    # a page at a time, by the next URL and the Link header
    seen, url = [], f"{hub.url}/batches?limit=2"
    while url:
        page = httpx.get(url, headers=hub.auth("issuer", rug))
        assert page.status_code == 200, page.text
        seen.append([b["id"] for b in page.json()["batches"]])
        url = page.json()["next"]
        if url:
            assert page.headers["link"] == f'<{url}>; rel="next"'
    assert seen == [issued[:0:-1], issued[:1]]

    # bad paging is 422 problem+json; another role is 403; no key 401
    for query in ("limit=0", "limit=101", "limit=x", "cursor=not-a-cursor", "cursor=" + "a" * 201):
        bad = httpx.get(f"{hub.url}/batches?{query}", headers=hub.auth("issuer", rug))
        assert bad.status_code == 422, (query, bad.text)
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert bad.json()["status"] == 422 and bad.json()["detail"]
    assert "cursor" in httpx.get(f"{hub.url}/batches?cursor=zz", headers=hub.auth("issuer", rug)).json()["detail"]
    assert httpx.get(f"{hub.url}/batches").status_code == 401
    admin = httpx.get(f"{hub.url}/batches", headers=hub.auth("admin", "Stichting IT Hub Hoogeveen"))
    assert admin.status_code == 403 and admin.headers["content-type"].startswith("application/problem+json")

    # the CLI prints them readable at 80 columns: ids whole, newest first
    for columns in ("80", "100"):
        result = CliRunner(env={"HUB_API_URL": None, "HUB_API_KEY": None, "COLUMNS": columns}).invoke(
            app, ["cohort", "list", "--url", hub.url, "--key", hub.key("issuer", rug)]
        )
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert max(len(line) for line in lines) <= int(columns), result.stdout
        assert lines[0].split()[:2] == ["Batch", "id"] and "Status" in lines[0] and "Created" in lines[0]
        found = [line.split()[0] for line in lines if line.split() and line.split()[0] in issued]
        assert found == issued[::-1]
        assert alfa_batch not in result.stdout
        first = next(line for line in lines if line.startswith(issued[-1]))
        assert " 3 " in first and "anchored" in first
    limited = runner.invoke(app, ["cohort", "list", "--url", hub.url, "--key", hub.key("issuer", rug), "--limit", "1"])
    assert limited.exit_code == 0 and issued[-1] in limited.stdout and issued[0] not in limited.stdout
    refused = runner.invoke(app, ["cohort", "list", "--url", hub.url, "--key", "hub_nonsense"])
    assert refused.exit_code == 1 and "cannot list the batches: 401" in refused.stderr


def test_the_import_help_states_the_exit_code_a_refused_row_gets() -> None:
    """The bad-row test above exits 2: the help says 2 for refused rows, 1 for other refusals."""
    shown = " ".join(
        runner.invoke(app, ["cohort", "import", "--help"]).stdout.translate({ord(c): " " for c in "│╭╮╰╯─"}).split()
    )
    assert "2 unusable input: an unreadable file, an unreachable service, or rows the service refuses" in shown
    assert "1 refused (e.g. the key may not issue) or not anchored in time" in shown


def test_export_with_the_links_file_writes_each_graduate_a_letter_with_her_personal_link(
    hub: LiveHub, tmp_path: Path
) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    cohort = tmp_path / "letters-cohort.csv"
    cohort.write_text(
        "\n".join([lines[0], *(line.replace("@example.org", "@letters.example.org") for line in lines[1:])]) + "\n",
        encoding="utf-8",
    )
    links = tmp_path / "letters.csv"
    imported = _import(hub, cohort, links)
    assert imported.exit_code == 0, imported.output
    batch_id = _batch_id(imported.stdout)
    rows = _links(links)
    names = {row["email"].replace("@letters.", "@"): row["name"] for row in _links(SAMPLE)}
    for lang, greeting, words in (
        ("nl", "Beste", "Je persoonlijke link"),
        ("en", "Dear", "Your personal link"),
    ):
        out = tmp_path / f"letters-{lang}"
        result = runner.invoke(
            app,
            ["cohort", "export", batch_id, "--out", str(out), "--url", hub.url, "--key", hub.key("issuer", HANZE)]
            + ["--links", str(links), "--lang", lang],
        )
        assert result.exit_code == 0, result.output
        assert "6 <id>-letter.txt with the graduate's personal link" in result.stdout
        for row in rows:
            letter = (out / f"{row['credential_id']}-letter.txt").read_text(encoding="utf-8")
            name = names[row["email"].replace("@letters.", "@")]
            assert letter.startswith("Onderwerp:" if lang == "nl" else "Subject:")
            assert f"{greeting} {name}," in letter and words in letter and HANZE in letter
            assert f"\n{row['holder_url']}\n" in letter
        # the certificates are in the chosen language too
        pdf = PdfReader(io.BytesIO((out / f"{rows[0]['credential_id']}.pdf").read_bytes())).pages[0].extract_text()
        assert ("juli" if lang == "nl" else "July") in pdf
    # the letter's link opens her own page
    with httpx.Client(timeout=30, headers={"Accept-Language": "nl"}, follow_redirects=True) as browser:
        page = browser.get(rows[0]["holder_url"])
        assert page.status_code == 200 and str(page.url) == f"{hub.url}/holder" and "Jouw deellinks" in page.text

    # a links file of another batch, an unreadable one, a language the hub does not write: refused, exit 2
    other = tmp_path / "other.csv"
    other.write_text("row,line,email,credential_id,share_url,holder_url\n1,2,a@b.c,nope,x,y\n", encoding="utf-8")
    for options, message in (
        (["--links", str(other)], f"has no personal link for credential {rows[0]['credential_id']} and 5 more"),
        (["--links", str(tmp_path / "missing.csv")], "cannot read"),
        (["--links", str(cohort)], "is not a links file of 'hub cohort import'"),
        (["--lang", "de"], "--lang de: the certificates and letters are in nl or en"),
    ):
        result = runner.invoke(
            app,
            ["cohort", "export", batch_id, "--out", str(tmp_path / "refused"), "--url", hub.url]
            + ["--key", hub.key("issuer", HANZE), *options],
        )
        assert result.exit_code == 2, (options, result.output)
        assert message in " ".join(result.stderr.split()), (options, result.stderr)
    assert not any((tmp_path / "refused").glob("*-letter.txt"))
