"""What the pages say: a verification report, a credential and a board proposal, in plain language.

Nothing here talks to the chain or the database: each function turns what the verifier, the credential
or the board API answered into the words and marks a person reads. The templates only lay them out.

Every date and time is shown in one zone, Dutch time, labelled (service.documents.dates): the dates a
credential carries (validFrom, validUntil: "1 July 2026 (CEST)", as on the PDF certificate), the moments
the chain recorded (an anchoring, a revocation, a vote, a check: "4 December 2026, 00:30 CET"), and the
instants in the verifier's technical details, which it writes in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from service.credentials.document import EQF_FRAMEWORK, IDENTIFIER_CLAIM, parse_datetime, validate_credential
from service.credentials.facts import REVOCATION_REASONS
from service.credentials.verifier import Status, VerificationReport
from service.documents.carrier import PrintComparison
from service.documents.certificate import disclosed_claims, format_date
from service.documents.dates import date_text, moment_text

HUB_NAME = "IT Hub Hoogeveen"

State = Literal["valid", "revoked", "expired", "not-yet-valid", "invalid", "unchecked", "not-a-credential"]

# The state's word on the badge (always shown next to its icon: never colour alone).
STATE_LABELS: dict[str, str] = {
    "valid": "Valid",
    "revoked": "Revoked",
    "expired": "Expired",
    "not-yet-valid": "Not yet valid",
    "invalid": "Not valid",
    "unchecked": "Not checked",
    "not-a-credential": "Not a credential",
}

MARKS: dict[Status, str] = {Status.PASSED: "Passed", Status.FAILED: "Failed", Status.NOT_RUN: "Not checked"}

# What each check means, for someone who has never heard of a Merkle tree.
CHECK_MEANINGS: dict[str, str] = {
    "format": "It is a credential file in the format the hub issues.",
    "integrity": "Nothing in it was changed after it was issued.",
    "disclosures": "The personal details it shows are the ones the issuer put in.",
    "merkle_inclusion": "It belongs to the group of credentials the issuer recorded.",
    "network": "It is recorded in the IT Hub Hoogeveen's own public register.",
    "anchored": "The issuer recorded it in the public register.",
    "issuer_binding": "The organisation that recorded it is the issuer named on it.",
    "anchor_transaction": "The recording it points to is the one the public register holds.",
    "issuer_signature": "The issuer signed the request to record it.",
    "issuer_accredited": "The hub's board had approved the issuer when it was issued.",
    "not_revoked": "The issuer has not withdrawn it.",
    "validity_window": "It is within its period of validity today (by this server's clock).",
    "recipient": "It was issued to the email address you gave.",
}

# Why a failed check makes the credential not valid, as the end of "Not valid: ...".
FAILURE_REASONS: dict[str, str] = {
    "integrity": "the file was changed after it was issued",
    "disclosures": "a personal detail in the file is not the one the issuer put in",
    "merkle_inclusion": "the file does not belong to the group of credentials it names",
    "network": "it is not recorded in the IT Hub Hoogeveen's register",
    "anchored": "it was never recorded in the hub's public register",
    "issuer_binding": "the issuer named in the file is not the organisation that recorded it",
    "anchor_transaction": "the recording it points to is not the one the public register holds",
    "issuer_signature": "the issuer's signature does not match",
    "issuer_accredited": "its issuer was not approved by the hub's board when it was issued",
    "recipient": "it was not issued to the email address you gave",
}

# "... because <this>": each revocation reason code of docs/credential-format.md.
REVOCATION_BECAUSE: dict[int, str] = {
    1: "of fraud or misconduct",
    2: "it was issued in error",
    3: "it was replaced by a corrected credential",
    4: "the graduate asked for it to be withdrawn",
    5: "the programme's requirements were not met",
}
assert set(REVOCATION_BECAUSE) == set(REVOCATION_REASONS), "a revocation reason without plain words"

# The Dutch qualification (NLQF) each EQF level corresponds to: what a Dutch employer recognises.
EQF_LEVELS: dict[str, str] = {
    "1": "entry level",
    "2": "MBO level 2",
    "3": "MBO level 3",
    "4": "MBO level 4",
    "5": "associate degree level",
    "6": "bachelor level",
    "7": "master level",
    "8": "doctorate level",
}
ECTS_HOURS = 28  # study hours per ECTS credit in the Netherlands (WHW art. 7.4)

ACHIEVEMENT_KINDS = {
    "MicroCredential": "Micro-credential",
    "CoCurricular": "Co-curricular activity",
    "Certificate": "Certificate",
    "Course": "Course",
    "Badge": "Badge",
}


# ---------------------------------------------------------------- dates and times


def day(moment: datetime | int | str) -> str:
    """ "1 July 2026 (CEST)": the day in Dutch time, labelled."""
    return date_text(moment)


def moment(value: datetime | int | str) -> str:
    """ "14 September 2026, 13:20 CEST" of a datetime, unix seconds or a credential date-time, in Dutch time."""
    return moment_text(value)


def credential_date(text: str | None) -> str | None:
    """A date the credential carries, in Dutch time (as on the certificate): "1 July 2026 (CEST)"."""
    return format_date(text) if text else None


# An instant as the verifier writes it in its reasons (UTC, RFC 3339): shown in Dutch time on the pages.
_INSTANT = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")


def local_times(text: str) -> str:
    """`text` with each RFC 3339 instant in it written in Dutch time: "at 2026-12-03T23:30:00Z" -> "at 4 December
    2026, 00:30 CET"."""

    def local(match: re.Match[str]) -> str:
        try:
            return moment_text(match.group())
        except ValueError:
            return match.group()

    return _INSTANT.sub(local, text)


@dataclass(frozen=True)
class Anchoring:
    """Where the hub's own record says a cohort was anchored: the block and transaction of its anchoring (the
    verifier's report has the block it read the registry at, which is the chain's head, not this one)."""

    root: str
    issuer: str
    block_number: int
    transaction_hash: str
    anchored_at: datetime | None


# ---------------------------------------------------------------- the verdict


@dataclass(frozen=True)
class CheckView:
    name: str
    title: str
    status: str  # passed | failed | not_run: the CSS class and the icon
    mark: str  # the word next to the icon
    meaning: str
    reason: str


@dataclass(frozen=True)
class Verdict:
    """The one-line answer at the top of a report."""

    state: State
    label: str
    headline: str
    detail: str | None = None
    technical: str | None = None  # the verifier's own words, for whoever needs them

    @property
    def ok(self) -> bool:
        return self.state == "valid"


def checks(report: VerificationReport, anchoring: Anchoring | None = None) -> list[CheckView]:
    """The report's checks as the page lists them, times in Dutch time. The `anchored` check says in which block
    the credential was anchored (from `anchoring`, the hub's record of that root and issuer, when it has one) and
    at which block the registry was read, instead of the verifier's "(block N)" of the block it read."""
    return [
        CheckView(
            name=item.name,
            title=item.title,
            status=item.status.value,
            mark=MARKS[item.status],
            meaning=CHECK_MEANINGS.get(item.name, ""),
            reason=_anchored_reason(report, anchoring)
            if item.name == "anchored" and item.passed
            else local_times(item.reason),
        )
        for item in report.checks
    ]


def anchoring_of(report: VerificationReport, anchoring: Anchoring | None) -> Anchoring | None:
    """`anchoring` when it is the anchoring of the root and issuer the report checked, else None."""
    anchor = report.anchor
    if anchoring is None or anchor is None:
        return None
    if anchoring.root.lower() != anchor.merkle_root.lower() or anchoring.issuer.lower() != anchor.issuer.lower():
        return None
    return anchoring


def _anchored_reason(report: VerificationReport, anchoring: Anchoring | None) -> str:
    anchor = report.anchor
    if anchor is None:
        return local_times(report.check("anchored").reason)
    record = anchoring_of(report, anchoring)
    when: datetime | int | None = anchor.anchored_at or (record.anchored_at if record else None)
    text = "anchored" + (f" {moment_text(when)}" if when else "")  # a naive time from the database is UTC
    if record is not None:
        text += f" in block {record.block_number} (transaction {record.transaction_hash})"
    text += f", in registry {anchor.registry} on chain {anchor.chain_id}"
    if anchor.block_number is not None:
        text += f"; the registry was read at block {anchor.block_number}"
    return text


def verdict(report: VerificationReport) -> Verdict:
    """The plain-language summary of `report`: valid, revoked, expired, not valid (and why), or not checked."""
    if not report.usable:
        reason = report.check("format").reason
        if "byte order mark" in reason:
            detail = (
                "The file starts with an invisible mark that some text editors add; a credential file must "
                "not. Use the file exactly as the graduate sent it."
            )
        elif reason.startswith("not JSON") or "is not JSON" in reason or "not UTF-8" in reason:
            detail = (
                "Its text is not JSON, the format a credential file is written in. Check that you chose the "
                "file ending in .json, or pasted all of its text, from the first { to the last }."
            )
        else:
            detail = (
                "It is JSON, but not a credential issued through the IT Hub Hoogeveen (an Open Badge with "
                "the hub's proof)."
            )
        return Verdict(
            "not-a-credential",
            STATE_LABELS["not-a-credential"],
            "This is not a credential file.",
            detail,
            technical=reason,
        )
    summary = report.credential
    assert summary is not None  # a usable report has one
    issued = f"issued by {summary.issuer_name} on {format_date(summary.valid_from)}"
    failed = report.failed
    if not failed and all(item.passed for item in report.checks):
        return Verdict("valid", STATE_LABELS["valid"], f"This credential is valid: {issued}.")
    anchor = report.anchor
    if failed == ("not_revoked",) or ("not_revoked" in failed and set(failed) <= {"not_revoked", "validity_window"}):
        when = f" on {day(datetime.fromtimestamp(anchor.revoked_at, UTC))}" if anchor and anchor.revoked_at else ""
        code = anchor.revocation_reason if anchor else None
        because = REVOCATION_BECAUSE.get(code, f"of reason code {code}") if code is not None else None
        headline = f"Not valid: it was revoked{when}" + (f" because {because}." if because else ".")
        return Verdict("revoked", STATE_LABELS["revoked"], headline, f"It was {issued}.")
    if failed == ("validity_window",):
        if parse_datetime(summary.valid_from) > parse_datetime(report.checked_at):
            return Verdict(
                "not-yet-valid",
                STATE_LABELS["not-yet-valid"],
                f"Not valid yet: it becomes valid on {format_date(summary.valid_from)}.",
                f"It was {issued}.",
            )
        until = format_date(summary.valid_until) if summary.valid_until else "its end date"
        return Verdict("expired", STATE_LABELS["expired"], f"Not valid: it expired on {until}.", f"It was {issued}.")
    if failed:
        first = failed[0]
        reason = FAILURE_REASONS.get(first, report.check(first).reason)
        more = len(failed) - 1
        detail = (
            f"{more} more check{'s' if more > 1 else ''} failed; see the list below."
            if more
            else "See the list of checks below."
        )
        return Verdict("invalid", STATE_LABELS["invalid"], f"Not valid: {reason}.", detail)
    not_run = [item.name for item in report.checks if item.status is Status.NOT_RUN]
    if not_run == ["recipient"]:  # everything else passed; the copy withholds the recipient's identifier
        return Verdict(
            "unchecked",
            STATE_LABELS["unchecked"],
            "The email address could not be checked: this copy does not include the recipient's "
            "(hashed) email address.",
            f"Everything else checks out: it was {issued}. Ask the graduate for a copy that includes "
            "it, or check it without an email address.",
        )
    return Verdict(
        "unchecked",
        STATE_LABELS["unchecked"],
        "This credential could not be checked right now: the hub's public register did not answer.",
        "Nothing is known to be wrong with it. Please try again in a minute.",
    )


def status_line(verdict: Verdict, report: VerificationReport) -> str:
    """The short status printed on the PDF certificate, e.g. "Checked 1 July 2026: valid"."""
    return f"Checked {day(report.checked_at)}: {verdict.label.lower()}"


# ---------------------------------------------------------------- the credential, as a certificate reads


@dataclass(frozen=True)
class Detail:
    label: str
    value: str
    note: str | None = None  # a short explanation for readers who do not know the term


@dataclass(frozen=True)
class CertificateView:
    kind: str
    programme: str
    description: str
    criteria: str
    recipient: str | None  # None: the holder did not disclose a name
    details: tuple[Detail, ...]
    credential_id: str
    disclosed: tuple[str, ...]  # names of the claims disclosed, as shown


def certificate(document: Mapping[str, Any]) -> CertificateView:
    """What the credential says, as a person reads it: only claims the copy discloses (and whose digest the
    body lists) appear, so a copy that withholds the name or the grade shows neither.

    :raises FormatError: when `document` is not a credential of this format.
    """
    model = validate_credential(document)
    achievement = model.credentialSubject.achievement
    claims = disclosed_claims(document)
    name = claims.get("name")
    recipient = " ".join(name.split()) if isinstance(name, str) and name.strip() else None
    eqf = next(item.targetCode or "" for item in achievement.alignment if item.targetFramework == EQF_FRAMEWORK)
    ects = achievement.creditsAvailable
    ects_text = f"{ects:g} ECTS"
    details = [Detail("Issued by", model.issuer.name), Detail("Date of issue", format_date(model.validFrom))]
    if model.validUntil:
        details.append(Detail("Valid until", format_date(model.validUntil)))
    details += [
        Detail("Study load", ects_text, f"about {round(ects * ECTS_HOURS):,} hours of study" if ects else None),
        Detail("Level", f"EQF level {eqf}", EQF_LEVELS.get(eqf)),
        Detail("Theme", achievement.fieldOfStudy),
    ]
    raw_achievement = document["credentialSubject"]["achievement"]
    results = _results(claims.get("result"), raw_achievement)
    details += [Detail(label, value) for label, value in results]
    if not results and raw_achievement.get("resultDescription"):  # graded, but the grade is withheld
        details.append(Detail("Final grade", "Not included in this copy"))
    # the recipient's email address is never shown: at most its salted hash, which an address can be checked
    # against (docs/credential-format.md section 2)
    email = (
        "Included as a salted hash: it can be checked against an address"
        if IDENTIFIER_CLAIM in claims
        else "Not included in this copy"
    )
    details.append(Detail("Recipient's email address", email))
    kind = achievement.achievementType.removeprefix("ext:")
    return CertificateView(
        kind=ACHIEVEMENT_KINDS.get(kind, kind),
        programme=achievement.name,
        description=achievement.description,
        criteria=achievement.criteria.narrative,
        recipient=recipient,
        details=tuple(details),
        credential_id=model.id.removeprefix("urn:uuid:"),
        disclosed=tuple(claims),
    )


def _results(value: Any, achievement: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) of each disclosed result: ("Final grade", "8.5 on a scale of 1.0 to 10.0")."""
    descriptions = {
        item.get("id"): item for item in achievement.get("resultDescription") or () if isinstance(item, Mapping)
    }
    out = []
    for result in value if isinstance(value, list) else []:
        if not isinstance(result, Mapping) or not isinstance(result.get("value"), str) or not result["value"].strip():
            continue
        description = descriptions.get(result.get("resultDescription"), {})
        label = description.get("name") if isinstance(description.get("name"), str) else "Result"
        text = result["value"].strip()
        low, high = description.get("valueMin"), description.get("valueMax")
        if isinstance(low, str) and isinstance(high, str):
            text += f" on a scale of {low} to {high}"
        out.append((label or "Result", text))
    return out


# ---------------------------------------------------------------- a certificate PDF: its print beside its credential


@dataclass(frozen=True)
class PrintedRow:
    label: str
    printed: str  # as the PDF prints it
    credential: str  # as the verified credential says it
    matches: bool
    mark: str  # "Same" | "Differs": the state in words, never by colour alone


def printed_rows(comparison: PrintComparison) -> list[PrintedRow]:
    """Each fact a certificate PDF prints beside what its embedded (verified) credential says."""
    return [
        PrintedRow(
            label=fact.label,
            printed=fact.printed if fact.printed is not None else "(not printed)",
            credential=fact.credential if fact.credential is not None else "(not in the credential)",
            matches=fact.matches,
            mark="Same" if fact.matches else "Differs",
        )
        for fact in comparison.facts
    ]


def print_check(comparison: PrintComparison) -> CheckView:
    """The check a certificate PDF adds to the list: whether it prints what its credential says."""
    differing = [fact.label for fact in comparison.differences]
    status = Status.PASSED if comparison.matches else Status.FAILED
    reason = (
        f"the PDF prints what its embedded credential says ({len(comparison.facts)} facts compared)"
        if comparison.matches
        else "the PDF prints something else than its embedded credential: " + ", ".join(differing)
    )
    return CheckView(
        name="certificate_print",
        title="Printed certificate",
        status=status.value,
        mark=MARKS[status],
        meaning="What the PDF shows on its page is what the credential inside it says.",
        reason=reason,
    )


def edited_print(report_verdict: Verdict, comparison: PrintComparison) -> Verdict:
    """The verdict on a certificate PDF whose print differs from its credential: not valid, whatever the
    credential inside is (an employer reads the page, so the page must not be trusted)."""
    inner = "valid" if report_verdict.ok else STATE_LABELS[report_verdict.state].lower()
    return Verdict(
        "invalid",
        STATE_LABELS["invalid"],
        "This PDF was changed: what it prints is not what its credential says.",
        f"The credential embedded in the PDF is {inner}, but the printed certificate differs from it in: "
        + ", ".join(fact.label for fact in comparison.differences)
        + ". Rely only on what the credential says (below), or ask the graduate for the share link.",
    )
