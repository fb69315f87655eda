"""What the pages say: a verification report, a credential and a board proposal, in plain language.

Nothing here talks to the chain or the database: each function turns what the verifier, the credential
or the board API answered into the words and marks a person reads. The templates only lay them out.

Every word is in the language of the moment (service.i18n: the request's, or `with i18n.use(...)`): the
tables below hold the English source strings as lazy messages (`N_`), translated when shown, and the
functions build their sentences with `_()` when called. The verifier's own reasons ("Technical detail")
stay as it writes them (English), with their instants in Dutch time.

Every date and time is shown in one zone, Dutch time, labelled (service.documents.dates): the dates a
credential carries (validFrom, validUntil: "1 July 2026 (CEST)", as on the PDF certificate), the moments
the chain recorded (an anchoring, a revocation, a vote, a check: "4 December 2026, 00:30 CET"), and the
instants in the verifier's technical details, which it writes in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import quote

from babel.support import LazyProxy

from service import i18n
from service.credentials.document import EQF_FRAMEWORK, IDENTIFIER_CLAIM, parse_datetime, validate_credential
from service.credentials.facts import REVOCATION_REASONS
from service.credentials.verifier import CHECK_TITLES, Status, VerificationReport
from service.documents.carrier import PrintComparison
from service.documents.certificate import disclosed_claims, format_date, result_label
from service.documents.dates import date_text, moment_text
from service.i18n import N_, _, ngettext

HUB_NAME = "IT Hub Hoogeveen"

State = Literal["valid", "revoked", "expired", "not-yet-valid", "invalid", "unchecked", "not-a-credential"]
Label = str | LazyProxy  # a table's message: str() gives it in the language of the moment

# The state's word on the badge (always shown next to its icon: never colour alone).
STATE_LABELS: dict[str, Label] = {
    "valid": N_("Valid"),
    "revoked": N_("Revoked"),
    "expired": N_("Expired"),
    "not-yet-valid": N_("Not yet valid"),
    "invalid": N_("Not valid"),
    "unchecked": N_("Not checked"),
    "not-a-credential": N_("Not a credential"),
}

MARKS: dict[Status, Label] = {
    Status.PASSED: N_("Passed"),
    Status.FAILED: N_("Failed"),
    Status.NOT_RUN: N_("Not checked"),
}

# Each check's name on a page (the API keeps the verifier's English titles).
TITLES: dict[str, Label] = {
    "format": N_("Format"),
    "integrity": N_("Integrity"),
    "disclosures": N_("Disclosures"),
    "issuer_signature_di": N_("Signed by the issuer's key"),
    "merkle_inclusion": N_("Merkle inclusion"),
    "network": N_("Chain and registry"),
    "anchored": N_("Anchored on chain"),
    "issuer_binding": N_("Anchored by the issuer"),
    "anchor_transaction": N_("Anchoring transaction"),
    "issuer_signature": N_("Issuer's anchoring signature"),
    "issuer_accredited": N_("Issuer accredited"),
    "issuer_key_accredited": N_("Key accredited by the board at anchoring"),
    "not_revoked": N_("Not revoked"),
    "validity_window": N_("Validity period"),
    "recipient": N_("Recipient"),
    "certificate_print": N_("Printed certificate"),
}
assert set(CHECK_TITLES) <= set(TITLES), "a check without a title on the pages"

# What each check means, for someone who has never heard of a Merkle tree.
CHECK_MEANINGS: dict[str, Label] = {
    "format": N_("It is a credential file in the format the hub issues."),
    "integrity": N_("Nothing in it was changed after it was issued."),
    "disclosures": N_("The personal details it shows are the ones the issuer put in."),
    "issuer_signature_di": N_("The issuer signed it with its own key, so any standard tool can check it."),
    "merkle_inclusion": N_("It belongs to the group of credentials the issuer recorded."),
    "network": N_("It is recorded in the IT Hub Hoogeveen's own public register."),
    "anchored": N_("The issuer recorded it in the public register."),
    "issuer_binding": N_("The organisation that recorded it is the issuer named on it."),
    "anchor_transaction": N_("The recording it points to is the one the public register holds."),
    "issuer_signature": N_("The issuer signed the request to record it."),
    "issuer_accredited": N_("The hub's board had approved the issuer when it was issued."),
    "issuer_key_accredited": N_("The key it was signed with is the key the hub's board had approved for the issuer."),
    "not_revoked": N_("The issuer has not withdrawn it."),
    "validity_window": N_("It is within its period of validity today (by this server's clock)."),
    "recipient": N_("It was issued to the email address you gave."),
    "certificate_print": N_("What the PDF shows on its page is what the credential inside it says."),
}

# Why a failed check makes the credential not valid, as the end of "Not valid: ...".
FAILURE_REASONS: dict[str, Label] = {
    "integrity": N_("the file was changed after it was issued"),
    "disclosures": N_("a personal detail in the file is not the one the issuer put in"),
    "issuer_signature_di": N_("the issuer's signature on the file does not match"),
    "merkle_inclusion": N_("the file does not belong to the group of credentials it names"),
    "network": N_("it is not recorded in the IT Hub Hoogeveen's register"),
    "anchored": N_("it was never recorded in the hub's public register"),
    "issuer_binding": N_("the issuer named in the file is not the organisation that recorded it"),
    "anchor_transaction": N_("the recording it points to is not the one the public register holds"),
    "issuer_signature": N_("the issuer's signature does not match"),
    "issuer_accredited": N_("its issuer was not approved by the hub's board when it was issued"),
    "issuer_key_accredited": N_("it was signed with a key the hub's board had not approved for its issuer"),
    "not_revoked": N_("the issuer has withdrawn it"),
    "validity_window": N_("it is outside its period of validity"),
    "recipient": N_("it was not issued to the email address you gave"),
    "certificate_print": N_("the PDF prints something else than the credential inside it"),
}

# "... because <this>": each revocation reason code of docs/credential-format.md.
REVOCATION_BECAUSE: dict[int, Label] = {
    1: N_("of fraud or misconduct"),
    2: N_("it was issued in error"),
    3: N_("it was replaced by a corrected credential"),
    4: N_("the graduate asked for it to be withdrawn"),
    5: N_("the programme's requirements were not met"),
}
assert set(REVOCATION_BECAUSE) == set(REVOCATION_REASONS), "a revocation reason without plain words"

# The Dutch qualification (NLQF) each EQF level corresponds to: what a Dutch employer recognises.
EQF_LEVELS: dict[str, Label] = {
    "1": N_("entry level"),
    "2": N_("MBO level 2"),
    "3": N_("MBO level 3"),
    "4": N_("MBO level 4"),
    "5": N_("associate degree level"),
    "6": N_("bachelor level"),
    "7": N_("master level"),
    "8": N_("doctorate level"),
}
ECTS_HOURS = 28  # study hours per ECTS credit in the Netherlands (WHW art. 7.4)

ACHIEVEMENT_KINDS: dict[str, Label] = {
    "MicroCredential": N_("Micro-credential"),
    "CoCurricular": N_("Co-curricular activity"),
    "Certificate": N_("Certificate"),
    "Course": N_("Course"),
    "Badge": N_("Badge"),
}

# Checks whose failure leaves the file's claims confirmed: it is what its issuer issued, but revoked, outside its
# validity period, or not issued to the email address given.
GENUINE_DESPITE = frozenset({"not_revoked", "validity_window", "recipient"})

# Where the "issuer accredited" check links to: the board's decision that accredited the issuer and was in
# force when the credential was anchored (the partners pages answer it with a 303 to the decision's page).
ACCREDITATION_PATH = "/partners/{slug}/accreditation?at={at}"


# The link to the certificate in the other language, written in that language (as the language switch).
CERTIFICATE_IN = {"nl": "Certificaat in het Nederlands (PDF)", "en": "Certificate in English (PDF)"}


def state_label(state: str) -> str:
    return str(STATE_LABELS[state])


# ---------------------------------------------------------------- dates and times


def day(moment: datetime | int | str) -> str:
    """ "1 July 2026 (CEST)": the day in Dutch time, labelled."""
    return date_text(moment)


def moment(value: datetime | int | str) -> str:
    """ "14 September 2026, 13:20 CEST" of a datetime, unix seconds or a credential date-time, in Dutch time."""
    return moment_text(value)


@lru_cache(maxsize=1024)
def _cached_day(language: str, text: str) -> str:
    with i18n.use(language):
        return format_date(text)


def _credential_day(text: str) -> str:
    """format_date of a credential's date-time, remembered (POST /verify writes one or two per request)."""
    return _cached_day(i18n.current(), text)


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
    link: str | None = None  # where to read more (the board's decision behind "issuer accredited")
    link_text: str | None = None
    reason_lang: str | None = None  # "en": the verifier's own words (not translated); None: in the page's language


@dataclass(frozen=True)
class Verdict:
    """The one-line answer at the top of a report."""

    state: State
    label: str
    headline: str
    detail: str | None = None
    technical: str | None = None  # the verifier's own words, for whoever needs them
    # whether what the file says was confirmed by the checks (its issuer issued exactly this): a changed or
    # forged file's claims are shown only muted, as claims, never as a certificate
    claims_confirmed: bool = field(default=False)

    @property
    def ok(self) -> bool:
        return self.state == "valid"


def explanation(name: str, status: Status | str) -> str:
    """One plain sentence on what a check's outcome means (POST /verify's `explanation`, beside `reason`)."""
    return _explanation(i18n.current(), name, status)


@lru_cache(maxsize=256)
def _explanation(language: str, name: str, status: Status | str) -> str:  # POST /verify: ~15 a request
    with i18n.use(language):
        return _explain(name, Status(status))


def _explain(name: str, status: Status) -> str:
    if status is Status.PASSED:
        return str(CHECK_MEANINGS.get(name, "")) or _("This check passed.")
    if status is Status.FAILED:
        reason = str(FAILURE_REASONS[name]) if name in FAILURE_REASONS else ""
        return _("Not passed: %(reason)s.", reason=reason) if reason else _("This check failed.")
    if name == "recipient":
        return _(
            "Not checked: no email address was given, or this copy does not include the recipient's (hashed) "
            "email address."
        )
    return _("Not checked: an earlier check failed, or the hub's public register did not answer.")


def accreditation_link(report: VerificationReport) -> str | None:
    """The page of the board's decision that accredited the credential's issuer, as in force when it was
    anchored: `/partners/<slug>/accreditation?at=<unix seconds of the anchoring>`; None when the credential
    names no hub partner (its issuer.id is not did:web:...:issuers:<slug>) or was not (known to be) anchored."""
    summary, anchor = report.credential, report.anchor
    if summary is None or anchor is None or anchor.anchored_at is None:
        return None
    _prefix, found, slug = summary.issuer_id.rpartition(":issuers:")
    if not found or not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug):
        return None
    return ACCREDITATION_PATH.format(slug=quote(slug), at=int(anchor.anchored_at))


def checks(report: VerificationReport, anchoring: Anchoring | None = None) -> list[CheckView]:
    """The report's checks as the page lists them, times in Dutch time. The `anchored` check says in which block
    the credential was anchored (from `anchoring`, the hub's record of that root and issuer, when it has one) and
    at which block the registry was read, instead of the verifier's "(block N)" of the block it read. A passed
    `issuer_accredited` links to the board's decision that accredited the issuer."""
    views = []
    for item in report.checks:
        link = accreditation_link(report) if item.name == "issuer_accredited" and item.passed else None
        views.append(
            CheckView(
                name=item.name,
                title=str(TITLES.get(item.name, item.title)),
                status=item.status.value,
                mark=str(MARKS[item.status]),
                meaning=str(CHECK_MEANINGS.get(item.name, "")),
                reason=_anchored_reason(report, anchoring)
                if item.name == "anchored" and item.passed
                else local_times(item.reason),
                link=link,
                link_text=_("The board's decision that accredited the issuer") if link else None,
                reason_lang=None if item.name == "anchored" and item.passed else "en",
            )
        )
    return views


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
    # a naive time from the database is UTC
    text = _("anchored %(when)s", when=moment_text(when)) if when else _("anchored")
    if record is not None:
        text += " " + _(
            "in block %(block)s (transaction %(transaction)s)",
            block=record.block_number,
            transaction=record.transaction_hash,
        )
    text += ", " + _("in registry %(registry)s on chain %(chain)s", registry=anchor.registry, chain=anchor.chain_id)
    if anchor.block_number is not None:
        text += "; " + _("the registry was read at block %(block)s", block=anchor.block_number)
    return text


def verdict(report: VerificationReport) -> Verdict:
    """The plain-language summary of `report`: valid, revoked, expired, not valid (and why), or not checked."""
    if not report.usable:
        reason = report.check("format").reason
        if "byte order mark" in reason:
            detail = _(
                "The file starts with an invisible mark that some text editors add; a credential file must "
                "not. Use the file exactly as the graduate sent it."
            )
        elif reason.startswith("not JSON") or "is not JSON" in reason or "not UTF-8" in reason:
            detail = _(
                "Its text is not JSON, the format a credential file is written in. Check that you chose the "
                "file ending in .json, or pasted all of its text, from the first { to the last }."
            )
        else:
            detail = _(
                "It is JSON, but not a credential issued through the IT Hub Hoogeveen (an Open Badge with "
                "the hub's proof)."
            )
        return Verdict(
            "not-a-credential",
            state_label("not-a-credential"),
            _("This is not a credential file."),
            detail,
            technical=reason,
        )
    summary = report.credential
    assert summary is not None  # a usable report has one
    issued = _("issued by %(issuer)s on %(day)s", issuer=summary.issuer_name, day=_credential_day(summary.valid_from))
    failed = report.failed
    # the file is what its issuer issued and recorded (whether still valid, and for whom, aside)
    genuine = all(item.passed for item in report.checks if item.name not in GENUINE_DESPITE)
    if not failed and all(item.passed for item in report.checks):
        return Verdict(
            "valid",
            state_label("valid"),
            _("This credential is valid: %(issued)s.", issued=issued),
            claims_confirmed=True,
        )
    anchor = report.anchor
    if failed == ("not_revoked",) or ("not_revoked" in failed and set(failed) <= {"not_revoked", "validity_window"}):
        code = anchor.revocation_reason if anchor else None
        because = (
            (str(REVOCATION_BECAUSE[code]) if code in REVOCATION_BECAUSE else _("of reason code %(code)s", code=code))
            if code is not None
            else None
        )
        revoked_at = anchor.revoked_at if anchor else None
        when = day(datetime.fromtimestamp(revoked_at, UTC)) if revoked_at else None
        if when and because:
            headline = _("Not valid: it was revoked on %(day)s because %(because)s.", day=when, because=because)
        elif when:
            headline = _("Not valid: it was revoked on %(day)s.", day=when)
        elif because:
            headline = _("Not valid: it was revoked because %(because)s.", because=because)
        else:
            headline = _("Not valid: it was revoked.")
        return Verdict(
            "revoked", state_label("revoked"), headline, _("It was %(issued)s.", issued=issued), claims_confirmed=True
        )
    if failed == ("validity_window",):
        if parse_datetime(summary.valid_from) > parse_datetime(report.checked_at):
            return Verdict(
                "not-yet-valid",
                state_label("not-yet-valid"),
                _("Not valid yet: it becomes valid on %(day)s.", day=_credential_day(summary.valid_from)),
                _("It was %(issued)s.", issued=issued),
                claims_confirmed=True,
            )
        until = _credential_day(summary.valid_until) if summary.valid_until else _("its end date")
        return Verdict(
            "expired",
            state_label("expired"),
            _("Not valid: it expired on %(day)s.", day=until),
            _("It was %(issued)s.", issued=issued),
            claims_confirmed=True,
        )
    if failed:
        first = failed[0]
        reason = str(FAILURE_REASONS[first]) if first in FAILURE_REASONS else report.check(first).reason
        more = len(failed) - 1
        detail = (
            ngettext(
                "%(num)s more check failed; see the list below.",
                "%(num)s more checks failed; see the list below.",
                more,
            )
            if more
            else _("See the list of checks below.")
        )
        return Verdict(
            "invalid",
            state_label("invalid"),
            _("Not valid: %(reason)s.", reason=reason),
            detail,
            claims_confirmed=genuine,
        )
    not_run = [item.name for item in report.checks if item.status is Status.NOT_RUN]
    if not_run == ["recipient"]:  # everything else passed; the copy withholds the recipient's identifier
        return Verdict(
            "unchecked",
            state_label("unchecked"),
            _(
                "The email address could not be checked: this copy does not include the recipient's "
                "(hashed) email address."
            ),
            _(
                "Everything else checks out: it was %(issued)s. Ask the graduate for a copy that includes "
                "it, or check it without an email address.",
                issued=issued,
            ),
            claims_confirmed=True,
        )
    return Verdict(
        "unchecked",
        state_label("unchecked"),
        _("This credential could not be checked right now: the hub's public register did not answer."),
        _("Nothing is known to be wrong with it. Please try again in a minute."),
    )


def summary(answer: Verdict) -> str:
    """A verdict in one or two plain sentences (POST /verify's `summary`), in the language of the moment."""
    if answer.state == "invalid":  # "see the list below" is the page's: the API has `checks`
        return answer.headline
    return f"{answer.headline} {answer.detail}" if answer.detail else answer.headline


def status_line(verdict: Verdict, report: VerificationReport) -> str:
    """The short status printed on the PDF certificate, e.g. "Checked 1 July 2026 (CEST): valid"."""
    return _("Checked %(day)s: %(state)s", day=day(report.checked_at), state=verdict.label.lower())


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
    ects_text = f"{number(ects)} ECTS"
    details = [
        Detail(_("Issued by"), model.issuer.name),
        Detail(_("Date of issue"), format_date(model.validFrom)),
    ]
    if model.validUntil:
        details.append(Detail(_("Valid until"), format_date(model.validUntil)))
    hours = round(ects * ECTS_HOURS)
    details += [
        Detail(
            _("Study load"),
            ects_text,
            ngettext("about %(num)s hour of study", "about %(num)s hours of study", hours) if ects else None,
        ),
        Detail(_("Level"), _("EQF level %(level)s", level=eqf), str(EQF_LEVELS[eqf]) if eqf in EQF_LEVELS else None),
        Detail(_("Theme"), achievement.fieldOfStudy),
    ]
    raw_achievement = document["credentialSubject"]["achievement"]
    results = _results(claims.get("result"), raw_achievement)
    details += [Detail(label, value) for label, value in results]
    if not results and raw_achievement.get("resultDescription"):  # graded, but the grade is withheld
        details.append(Detail(_("Final grade"), _("Not included in this copy")))
    # the recipient's email address is never shown: at most its salted hash, which an address can be checked
    # against (docs/credential-format.md section 2)
    email = (
        _("Included as a salted hash: it can be checked against an address")
        if IDENTIFIER_CLAIM in claims
        else _("Not included in this copy")
    )
    details.append(Detail(_("Recipient's email address"), email))
    kind = achievement.achievementType.removeprefix("ext:")
    return CertificateView(
        kind=str(ACHIEVEMENT_KINDS[kind]) if kind in ACHIEVEMENT_KINDS else kind,
        programme=achievement.name,
        description=achievement.description,
        criteria=achievement.criteria.narrative,
        recipient=recipient,
        details=tuple(details),
        credential_id=model.id.removeprefix("urn:uuid:"),
        disclosed=tuple(claims),
    )


def number(value: float) -> str:
    """A number as the reader writes it ("7,5" in Dutch), without trailing zeros."""
    return i18n.number(value)


def _results(value: Any, achievement: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) of each disclosed result: ("Final grade", "8.5 on a scale of 1.0 to 10.0"); the grade's
    decimal point as the reader writes it ("8,5" in Dutch). The label is the issuer's own name for the result."""
    descriptions = {
        item.get("id"): item for item in achievement.get("resultDescription") or () if isinstance(item, Mapping)
    }
    out = []
    for result in value if isinstance(value, list) else []:
        if not isinstance(result, Mapping) or not isinstance(result.get("value"), str) or not result["value"].strip():
            continue
        description = descriptions.get(result.get("resultDescription"), {})
        label = result_label(description["name"]) if isinstance(description.get("name"), str) else None
        text = i18n.grade(result["value"].strip())
        low, high = description.get("valueMin"), description.get("valueMax")
        if isinstance(low, str) and isinstance(high, str):
            text = _(
                "%(grade)s on a scale of %(low)s to %(high)s", grade=text, low=i18n.grade(low), high=i18n.grade(high)
            )
        out.append((label or _("Result"), text))
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
            printed=fact.printed if fact.printed is not None else _("(not printed)"),
            credential=fact.credential if fact.credential is not None else _("(not in the credential)"),
            matches=fact.matches,
            mark=_("Same") if fact.matches else _("Differs"),
        )
        for fact in comparison.facts
    ]


def print_check(comparison: PrintComparison) -> CheckView:
    """The check a certificate PDF adds to the list: whether it prints what its credential says."""
    differing = [fact.label for fact in comparison.differences]
    status = Status.PASSED if comparison.matches else Status.FAILED
    reason = (
        ngettext(
            "the PDF prints what its embedded credential says (%(num)s fact compared)",
            "the PDF prints what its embedded credential says (%(num)s facts compared)",
            len(comparison.facts),
        )
        if comparison.matches
        else _("the PDF prints something else than its embedded credential: %(facts)s", facts=", ".join(differing))
    )
    return CheckView(
        name="certificate_print",
        title=str(TITLES["certificate_print"]),
        status=status.value,
        mark=str(MARKS[status]),
        meaning=str(CHECK_MEANINGS["certificate_print"]),
        reason=reason,
    )


def edited_print(report_verdict: Verdict, comparison: PrintComparison) -> Verdict:
    """The verdict on a certificate PDF whose print differs from its credential: not valid, whatever the
    credential inside is (an employer reads the page, so the page must not be trusted). What the credential
    inside says stays as confirmed (or not) as its own verdict says."""
    inner = _("valid") if report_verdict.ok else report_verdict.label.lower()
    return Verdict(
        "invalid",
        state_label("invalid"),
        _("This PDF was changed: what it prints is not what its credential says."),
        _(
            "The credential embedded in the PDF is %(state)s, but the printed certificate differs from it in: "
            "%(facts)s. Rely only on what the credential says (below), or ask the graduate for the share link.",
            state=inner,
            facts=", ".join(fact.label for fact in comparison.differences),
        ),
        claims_confirmed=report_verdict.claims_confirmed,
    )
