"""`hub verify` on a certificate PDF: the credential it embeds is verified (on anvil and ganache), what it
prints is compared with it, and a PDF that carries no credential or cannot be read is a readable error (exit 2)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from reportlab.pdfgen.canvas import Canvas

from service import i18n
from service.chain.devchain import DevChain
from service.chain.registry import RegistryClient
from service.cli import app
from service.credentials import select_disclosures
from service.documents import render_certificate
from service.documents.certificate import disclosed_claims
from tests.api.test_verify_carriers import edit_print
from tests.credentials.fixtures import deployed_registry, issue_on_chain, registry
from tests.test_cli import runner

__all__ = ["deployed_registry", "registry"]  # chain fixtures used below

SHARE_URL = "http://127.0.0.1:8000/share/q8Yb3xVvN0kTz1sR5mWc7PaLdE2gHjUf"


def certificate_of(tmp_path: Path, credential: dict[str, Any], name: str = "certificate.pdf") -> Path:
    path = tmp_path / name
    with i18n.use("nl"):  # printed in Dutch: `hub verify` reads either language and answers in English
        path.write_bytes(render_certificate(credential, SHARE_URL))
    return path


def test_a_certificate_pdf_verifies_and_an_edited_one_does_not(
    tmp_path: Path, chain: DevChain, registry: RegistryClient, issuer: LocalAccount
) -> None:
    credential = select_disclosures(issue_on_chain(registry, issuer, 2).credentials[1], ["name"])
    path = certificate_of(tmp_path, credential)
    options = ["--rpc", chain.url, "--registry", registry.address]
    result = runner.invoke(app, ["verify", str(path), *options])
    assert result.exit_code == 0, result.output
    assert "VALID" in result.output and "NOT VALID" not in result.output
    assert "The PDF beside its credential" in result.output and "DIFFERS" not in result.output
    result = runner.invoke(app, ["verify", str(path), *options, "--json"])
    report = json.loads(result.output)
    assert result.exit_code == 0 and report["valid"] is True
    assert report["checks"][-1] == {
        "name": "certificate_print",
        "title": "Printed certificate",
        "status": "passed",
        "reason": f"the PDF prints what its credential says ({len(report['printed'])} facts compared)",
    }
    assert disclosed_claims(credential) == {"name": "Graduate 1 de Vries"}  # what the edit below changes
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(edit_print(path.read_bytes(), b"(Graduate 1 de Vries)", b"(Graduate 7 de Vries)"))
    result = runner.invoke(app, ["verify", str(forged), *options])
    assert result.exit_code == 1, result.output
    assert "DIFFERS" in result.output and "The PDF was changed" in result.output
    report = json.loads(runner.invoke(app, ["verify", str(forged), *options, "--json"]).output)
    assert report["valid"] is False and report["checks"][-1]["status"] == "failed"
    assert {check["status"] for check in report["checks"][:-1]} == {"passed"}  # the credential inside is fine
    assert [fact["label"] for fact in report["printed"] if not fact["matches"]] == ["Awarded to"]


def test_a_pdf_from_standard_input_is_read_too(tmp_path: Path) -> None:
    from tests.credentials.factory import issue

    credential = issue(2).credentials[0]
    pdf = certificate_of(tmp_path, credential).read_bytes()
    result = runner.invoke(app, ["verify", "-", "--json"], input=pdf)
    report = json.loads(result.output)
    assert result.exit_code == 1  # no chain asked: not valid, but read and compared
    assert report["credential"]["id"] == credential["id"]
    assert report["checks"][-1]["name"] == "certificate_print" and report["checks"][-1]["status"] == "passed"


def test_a_pdf_without_a_credential_or_broken_is_a_readable_error(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Canvas(buffer).save()
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(buffer.getvalue())
    result = runner.invoke(app, ["verify", str(plain)])
    assert result.exit_code == 2 and "carries no credential" in result.output
    assert "Traceback" not in result.output
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\nthis is not a PDF body")
    result = runner.invoke(app, ["verify", str(broken), "--json"])
    assert result.exit_code == 2
    assert json.loads(result.output)["valid"] is False and "cannot be read" in json.loads(result.output)["error"]


def test_a_baked_badge_is_read_too(tmp_path: Path) -> None:
    from service.documents.badge import badge_png, badge_svg
    from tests.credentials.factory import issue

    credential = issue(2).credentials[1]
    for name, image in (("badge.png", badge_png(credential)), ("badge.svg", badge_svg(credential))):
        path = tmp_path / name
        path.write_bytes(image)
        result = runner.invoke(app, ["verify", str(path), "--json"])
        assert result.exit_code == 1  # no chain asked: not valid, but read
        assert json.loads(result.output)["credential"]["id"] == credential["id"]
    empty = tmp_path / "empty.svg"
    empty.write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"/>')
    result = runner.invoke(app, ["verify", str(empty)])
    assert result.exit_code == 2 and "carries no credential" in result.output
