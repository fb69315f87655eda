"""The IT Hub Hoogeveen demo story, walked over the HTTP API of a running service (./scripts/run).

    .venv/bin/python scripts/demo.py [--url http://127.0.0.1:8000] [--keys data/demo-keys.json]

1. Hanzehogeschool Groningen issues a Make IT Work cohort to new TVM employees (one anchoring transaction).
2. A graduate opens her share link and takes her credential (with her holder token) to share.
3. An employer verifies it, and also a tampered copy: rejected, and why.
4. Hanzehogeschool revokes one credential of the cohort; it no longer verifies.
5. The board accredits NHL Stenden: TVM proposes, members vote (Unigarant by a ballot it signs itself,
   without an API key), NHL Stenden recuses for its conflict of interest, the decision is executed.
6. NHL Stenden issues its first credential (on a later run: one more), and it verifies.

It uses the demo keys that ./scripts/run writes (data/demo-keys.json) and the development keys of the
board members (a local development chain only). Every step says what it did; the story stops at the
first step that does not go as told: exit 1 with what went wrong, 2 when the keys file is unusable.
It can run again on the same service (a new cohort each time; NHL Stenden is accredited only once).
"""

from __future__ import annotations

import argparse
import copy
import html
import re
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from rich.console import Console  # noqa: E402

from service.chain.devchain import dev_accounts  # noqa: E402
from service.credentials.canonical import proof_of  # noqa: E402
from service.credentials.disclosure import select_disclosures  # noqa: E402
from service.issuing.signing_keys import dev_signing_key, public_multibase  # noqa: E402
from service.seed import DemoKey, SeedError, load_keys  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KEYS = ROOT / "data" / "demo-keys.json"
HANZE, NHL, TVM, UNIGARANT = "Hanzehogeschool Groningen", "NHL Stenden", "TVM verzekeringen", "Unigarant"
ANCHOR_TIMEOUT = 120.0

# New TVM employees who followed a Make IT Work track
COHORT = [
    {
        "programme_id": "miw-data-analytics",
        "name": "Lotte Hoekstra",
        "email": "lotte.hoekstra@example.org",
        "grade": "8.2",
    },
    {"programme_id": "miw-data-analytics", "name": "Daan Mulder", "email": "daan.mulder@example.org", "grade": "7.4"},
    {"programme_id": "miw-ai", "name": "Yusuf Demir", "email": "yusuf.demir@example.org", "grade": "8.8"},
    {"programme_id": "miw-cybersecurity", "name": "Emma de Boer", "email": "emma.deboer@example.org", "grade": "7.9"},
]
NHL_GRADUATE = {
    "programme_id": "robotics-automation",
    "name": "Sven Kuipers",
    "email": "sven.kuipers@example.org",
    "grade": "8.0",
}


class StepFailed(Exception):
    """A step did not go as the story tells: the message says what happened."""


class Story:
    def __init__(self, http: httpx.Client, keys: list[DemoKey], console: Console) -> None:
        self.http = http
        self.keys = keys
        self.console = console
        self.step = 0

    # ---------------------------------------------------------------- plumbing

    def title(self, text: str) -> None:
        self.step += 1
        self.console.print(f"\n[bold]Step {self.step}. {text}[/bold]")

    def say(self, text: str) -> None:
        self.console.print(f"  {text}")

    def ok(self, text: str) -> None:
        self.console.print(f"  [green]✓[/green] {text}")

    def key(self, role: str, name: str) -> DemoKey:
        for key in self.keys:
            if key.role == role and key.name == name:
                return key
        raise StepFailed(f"the keys file has no {role} key for {name}")

    def auth(self, role: str, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key(role, name).key}"}

    def call(self, method: str, path: str, *, expect: Iterable[int] = (200,), **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise StepFailed(
                f"the service at {self.http.base_url} does not answer ({exc}): is ./scripts/run running?"
            ) from exc
        if response.status_code not in tuple(expect):
            raise StepFailed(f"{method} {path} answered {response.status_code}: {problem_text(response)}")
        return response

    def verify(self, document: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", "/verify", json=document).json()

    def wait_anchored(self, batch_id: str, issuer: str) -> dict[str, Any]:
        deadline = time.monotonic() + ANCHOR_TIMEOUT
        while True:
            batch = self.call("GET", f"/batches/{batch_id}", headers=self.auth("issuer", issuer)).json()
            if batch["status"] == "anchored":
                return batch
            if batch["status"] == "failed":
                raise StepFailed(f"batch {batch_id} failed to anchor: {batch.get('error')}")
            if time.monotonic() > deadline:
                raise StepFailed(
                    f"batch {batch_id} is still {batch['status']} after {ANCHOR_TIMEOUT:.0f} s: "
                    f"{batch.get('error') or 'no error reported'}"
                )
            time.sleep(0.5)

    def signed_vote(self, proposal_id: int, member: str, support: str, reason: str) -> dict[str, Any]:
        """`member` votes without an API key: it signs the EIP-712 ballot the service hands out with its own
        key, and anyone may post the signed ballot."""
        key = self.key("member", member)
        account = _dev_account(key.address or "")
        ballot = self.call(
            "GET",
            f"/board/proposals/{proposal_id}/ballot-typed-data",
            params={"voter": key.address, "support": support, "reason": reason},
        ).json()
        signature = account.sign_typed_data(full_message=ballot["typed_data"]).signature
        return self.call(
            "POST",
            f"/board/proposals/{proposal_id}/votes",
            expect=(201,),
            json={
                "support": support,
                "reason": reason,
                "voter": key.address,
                "deadline": ballot["deadline"],
                "signature": signature.to_0x_hex(),
            },
        ).json()

    # ---------------------------------------------------------------- the story

    def run(self) -> None:
        health = self.call("GET", "/health").json()
        self.console.print(
            f"[bold]IT Hub Hoogeveen demo[/bold] against {self.http.base_url}: chain "
            f"{health['chain_id']}, block {health['latest_block']}, registry {health['registry']}, "
            f"board {health['board']}"
        )
        cohort = self.issue_cohort()
        shared = self.graduate_shares(cohort[0])
        self.employer_verifies(shared)
        self.partner_revokes(cohort[1])
        self.board_accredits_nhl()
        self.nhl_issues()
        self.console.print("\n[bold green]The demo story is complete: every step went as told.[/bold green]")

    def issue_cohort(self) -> list[dict[str, Any]]:
        self.title(f"{HANZE} issues a Make IT Work cohort to new TVM employees")
        accepted = self.call(
            "POST",
            "/credentials/batch",
            expect=(202,),
            headers=self.auth("issuer", HANZE),
            json={"credentials": COHORT},
        ).json()
        self.say(
            f"The cohort of {accepted['count']} is accepted as batch {accepted['id']}, Merkle root "
            f"{accepted['root']}; it is anchored in the background."
        )
        batch = self.wait_anchored(accepted["id"], HANZE)
        self.ok(
            f"Anchored on chain in ONE transaction {batch['transaction_hash']} (block {batch['block_number']}) "
            f"for all {batch['count']} credentials."
        )
        people = {row["email"]: row for row in COHORT}
        for credential in accepted["credentials"]:
            row = people[credential["email"]]
            self.say(f"  {row['name']:<15} {row['programme_id']:<18} share link {credential['share_url']}")
        return accepted["credentials"]

    def graduate_shares(self, credential: dict[str, Any]) -> dict[str, Any]:
        self.title("A graduate opens her share link")
        path = urlsplit(credential["share_url"]).path  # the link on this service, whatever its public URL
        page = self.call("GET", path)
        match = re.search(r"<title>(.*?)</title>", page.text, re.S)
        shown = html.unescape(" ".join(match.group(1).split())) if match else "(no title)"
        self.ok(f'The share page {path} opens: "{shown}".')
        full = self.call(
            "GET", f"/credentials/{credential['id']}", headers={"X-Holder-Token": credential["holder_token"]}
        ).json()
        document = full["document"]
        if document is None:
            raise StepFailed(f"the holder's credential {credential['id']} has no document although it is anchored")
        disclosed = [d[1] for d in (proof_of(document) or {}).get("disclosures", [])]
        self.say(
            f"With her holder token she downloads her full credential (claims she may disclose: "
            f"{', '.join(disclosed)})."
        )
        shared = select_disclosures(document, [name for name in ("name", "result") if name in disclosed])
        self.ok("She shares a copy that discloses her name and grade with an employer.")
        return shared

    def employer_verifies(self, shared: dict[str, Any]) -> None:
        self.title("An employer verifies the credential, and a tampered copy")
        report = self.verify(shared)
        if not report["valid"]:
            raise StepFailed("the graduate's credential does not verify: " + failed_checks(report))
        credential = report["credential"]
        disclosed = credential["disclosed"]
        self.ok(
            f"VALID: all {len(report['checks'])} checks passed. {credential['programme']} by "
            f"{credential['issuer_name']}, {credential['ects']:g} ECTS, EQF {credential['eqf_level']}; "
            f"awarded to {disclosed.get('name', '(name withheld)')}."
        )
        tampered = _tamper(shared)
        report = self.verify(tampered)
        if report["valid"]:
            raise StepFailed("a copy with its credits doubled verified as valid")
        self.ok(
            f"The tampered copy (its credits raised from {credential['ects']:g} to "
            f"{tampered['credentialSubject']['achievement']['creditsAvailable']:g} ECTS) is REJECTED: "
            + failed_checks(report)
        )

    def partner_revokes(self, credential: dict[str, Any]) -> None:
        self.title(f"{HANZE} revokes one credential")
        full = self.call("GET", f"/credentials/{credential['id']}", headers=self.auth("issuer", HANZE)).json()
        revoked = self.call(
            "POST",
            f"/credentials/{credential['id']}/revoke",
            headers=self.auth("issuer", HANZE),
            json={"reason": "issued-in-error"},
        ).json()
        self.ok(
            f"Credential {credential['id']} ({credential['email']}) is revoked on chain: "
            f"{revoked['reason_text']} (code {revoked['reason_code']}), transaction {revoked['transaction_hash']}."
        )
        report = self.verify(full["document"])
        checks = {check["name"]: check for check in report["checks"]}
        if report["valid"] or checks.get("not_revoked", {}).get("status") != "failed":
            raise StepFailed("the revoked credential still verifies: " + failed_checks(report))
        self.ok(f"Verifying it now: NOT VALID, {checks['not_revoked']['title']}: {checks['not_revoked']['reason']}.")

    def board_accredits_nhl(self) -> None:
        self.title(f"The board accredits {NHL} as an issuer")
        nhl = self.key("issuer", NHL)
        decisions = self.call("GET", "/board/decisions", params={"limit": 500}).json()
        accredited = [
            d for d in decisions if d["subject"] == nhl.address and d["kind"] in ("accredit-issuer", "suspend-issuer")
        ]
        if accredited and accredited[-1]["kind"] == "accredit-issuer":
            self.ok(
                f"{NHL} was already accredited by decision #{accredited[-1]['proposal_id']} (the demo ran "
                "before on this service): nothing to decide."
            )
            return
        refused = self.call("POST", "/credentials", expect=(403,), headers=self.auth("issuer", NHL), json=NHL_GRADUATE)
        self.say(f"Before the decision, {NHL} cannot issue: {problem_text(refused)}")
        text = (
            f"Het bestuur accrediteert {NHL} als uitgever van microcredentials van de IT Hub Hoogeveen, met "
            "ingang van de uitvoering van dit besluit."
        )
        proposal = self.call(
            "POST",
            "/board/proposals",
            expect=(201,),
            headers=self.auth("member", TVM),
            json={
                "kind": "accredit-issuer",
                "subject": nhl.address,
                "name": NHL,
                "public_key_multibase": public_multibase(dev_signing_key(nhl.address)),
                "title": f"Accreditatie {NHL} als uitgever van microcredentials",
                "document": text,
            },
        ).json()
        pid = proposal["id"]
        self.ok(
            f'{TVM} proposes decision #{pid} "{proposal["title"]}" ({proposal["tally"]["eligible"]} members '
            f"eligible; the text's sha256 {proposal['document_hash']} is on chain)."
        )
        vote = self.call(
            "POST",
            f"/board/proposals/{pid}/votes",
            expect=(201,),
            headers=self.auth("member", TVM),
            json={"support": "for", "reason": "NHL Stenden voldoet aan de kwaliteitseisen."},
        ).json()
        self.ok(f"{TVM} votes for (with its member key): {tally(vote['proposal'])}.")
        vote = self.signed_vote(pid, UNIGARANT, "for", "Akkoord: de robotica-opleiding past bij de hub.")
        self.ok(f"{UNIGARANT} signs its ballot itself (EIP-712) and posts it without a key: {tally(vote['proposal'])}.")
        recusal = self.call(
            "POST",
            f"/board/proposals/{pid}/recusals",
            expect=(201,),
            headers=self.auth("member", NHL),
            json={"reason": "Belangenverstrengeling: het besluit gaat over onze eigen accreditatie."},
        ).json()
        self.ok(
            f"{NHL} recuses itself (conflict of interest) and leaves the quorum base: {tally(recusal['proposal'])}."
        )
        vote = self.call(
            "POST",
            f"/board/proposals/{pid}/votes",
            expect=(201,),
            headers=self.auth("member", HANZE),
            json={"support": "for", "reason": "Een sterke partner voor de techniekthema's."},
        ).json()
        self.ok(f"{HANZE} votes for: {tally(vote['proposal'])}.")
        if vote["proposal"]["state"] != "succeeded":
            raise StepFailed(
                f"decision #{pid} is {vote['proposal']['state']} after three votes for and one recusal, not succeeded"
            )
        decision = self.call("POST", f"/board/proposals/{pid}/execute", headers=self.auth("member", UNIGARANT)).json()
        self.ok(
            f"Decision #{pid} is executed (transaction {decision['executed_tx']}, block "
            f"{decision['executed_block']}): {NHL} is accredited."
        )
        register = self.call("GET", "/board/decisions", params={"limit": 500}).json()
        if not any(d["proposal_id"] == pid for d in register):
            raise StepFailed(f"decision #{pid} is not in the decision register")
        self.say(f"The decision register lists {len(register)} executed decisions; the latest is #{pid}.")

    def nhl_issues(self) -> None:
        earlier = self.call("GET", "/batches", params={"limit": 1}, headers=self.auth("issuer", NHL)).json()
        if earlier["batches"]:  # the demo ran before on this service: NHL Stenden's first credential is issued
            self.title(f"{NHL} issues a credential again")
            self.say(
                f"{NHL} issued its first credential in an earlier run (batch {earlier['batches'][0]['id']}); "
                "it issues one more now."
            )
        else:
            self.title(f"{NHL} issues its first credential")
        issued = self.call(
            "POST", "/credentials", expect=(201,), headers=self.auth("issuer", NHL), json=NHL_GRADUATE
        ).json()
        self.ok(
            f"Issued and anchored: {issued['id']} for {NHL_GRADUATE['name']} (robotics-automation), transaction "
            f"{issued['transaction_hash']}, share link {issued['share_url']}."
        )
        report = self.verify(issued["document"])
        if not report["valid"]:
            raise StepFailed(f"{NHL}'s credential does not verify: " + failed_checks(report))
        accredited = next(check for check in report["checks"] if check["name"] == "issuer_accredited")
        self.ok(f"It verifies: VALID ({accredited['title']}: {accredited['reason']}).")


# ---------------------------------------------------------------- helpers


def _tamper(shared: dict[str, Any]) -> dict[str, Any]:
    """The shared copy with its credits doubled: a change to the anchored body."""
    tampered = copy.deepcopy(shared)
    achievement = tampered["credentialSubject"]["achievement"]
    achievement["creditsAvailable"] = (achievement.get("creditsAvailable") or 15) * 2
    return tampered


def problem_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict) and "detail" in body:
        detail = body["detail"]
        return detail if isinstance(detail, str) else str(detail)
    return str(body)[:300]


def failed_checks(report: dict[str, Any]) -> str:
    failed = [f"{c['title']} failed ({c['reason']})" for c in report["checks"] if c["status"] == "failed"]
    return "; ".join(failed) or "no check failed"


def tally(proposal: dict[str, Any]) -> str:
    t = proposal["tally"]
    return (
        f"{t['for_votes']} for, {t['against_votes']} against, {t['abstain_votes']} abstain, {t['recusals']} "
        f"recused of {t['eligible']}: {proposal['state']}"
    )


def _dev_account(address: str) -> Any:
    for account in dev_accounts():
        if account.address == address:
            return account
    raise StepFailed(f"{address} is not a development account: the demo signs ballots on a development chain only")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Walk the IT Hub Hoogeveen demo story over the HTTP API.")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running service (./scripts/run)")
    parser.add_argument(
        "--keys",
        type=Path,
        default=DEFAULT_KEYS,
        help="the demo keys file that ./scripts/run writes (default: data/demo-keys.json)",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for one HTTP answer")
    args = parser.parse_args(argv)
    console = Console(highlight=False, soft_wrap=True)
    if not args.keys.exists():
        console.print(
            f"[red]error:[/red] no demo keys at {args.keys}: start the service with ./scripts/run (it "
            "seeds the demo and writes them), or pass --keys FILE"
        )
        return 2
    try:
        keys = load_keys(args.keys)
    except SeedError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2
    with httpx.Client(base_url=args.url.rstrip("/"), timeout=args.timeout) as http:
        story = Story(http, keys, console)
        try:
            story.run()
        except StepFailed as exc:
            where = f"stopped at step {story.step}" if story.step else "could not start"
            console.print(f"\n[bold red]✗ The demo {where}:[/bold red] {exc}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
