"""The credential document: an Open Badges 3.0 `OpenBadgeCredential` (W3C VC Data Model 2.0) in JSON.

This module knows the shape of the document: its constants, the strict models the verifier's
`format` check validates against, the recipient's salted `IdentityObject`, the issuer's
`did:pkh` identifier, and `build_credential`, which writes the anchored body of a new credential
(with its disclosures kept apart). See docs/credential-format.md for the specification.

JSON-LD contexts are identifiers here: they are compared as strings and never fetched.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from typing import Annotated, Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_utils import is_checksum_address, to_checksum_address
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from service.credentials import integrity, multikey
from service.credentials.canonical import HEX32, PROOF_TYPE, proof_of, with_proof  # noqa: F401 - re-exported
from service.credentials.disclosure import (
    DIGEST_PATTERN,
    Disclosure,
    decoy_digest,
    make_disclosure,
    new_salt,
)
from service.errors import validation_message

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
# The hub's extension context (service/credentials/contexts/hub-v1.jsonld): defines `disclosureDigests`,
# `MerkleAnchor2026` and the members of that proof. An identifier only: nothing is fetched.
HUB_CONTEXT = "https://ithubhoogeveen.nl/ns/credentials/v1"
CONTEXTS = (VC_CONTEXT, OB_CONTEXT, HUB_CONTEXT)
CREDENTIAL_TYPES = ("VerifiableCredential", "OpenBadgeCredential")
ANCHOR_SIGNATURE_TYPE = "EIP712AnchorSignature"
PROGRAMME_URN = "urn:ithub-hoogeveen:programme:"
EQF_FRAMEWORK = "European Qualifications Framework"
EQF_URL = "https://europass.europa.eu/en/description-eight-eqf-levels"
MAX_MERKLE_DEPTH = 64
GRADE_SCALE = ("1.0", "10.0")  # the one grade scale: Dutch grades, ScaledScore

# Open Badges 3.0 AchievementType enumeration (an `ext:` prefixed value extends it).
ACHIEVEMENT_TYPES = frozenset(
    {
        "Achievement",
        "ApprenticeshipCertificate",
        "Assessment",
        "Assignment",
        "AssociateDegree",
        "Award",
        "Badge",
        "BachelorDegree",
        "Certificate",
        "CertificateOfCompletion",
        "Certification",
        "CommunityService",
        "Competency",
        "Course",
        "CoCurricular",
        "Degree",
        "Diploma",
        "DoctoralDegree",
        "Fieldwork",
        "GeneralEducationDevelopment",
        "JourneymanCertificate",
        "LearningProgram",
        "License",
        "Membership",
        "ProfessionalDoctorate",
        "QualityAssuranceCredential",
        "MasterCertificate",
        "MasterDegree",
        "MicroCredential",
        "ResearchDoctorate",
        "SecondarySchoolDiploma",
    }
)
# The hub's themes (the Achievement's `fieldOfStudy`); build_credential accepts only these.
HUB_THEMES = (
    "Data analytics",
    "Artificial intelligence",
    "Robotics",
    "Internet of Things",
    "Blockchain",
    "Cybersecurity",
)

DID_PKH = re.compile(r"did:pkh:eip155:([1-9][0-9]{0,17}):(0x[0-9a-fA-F]{40})")
# did:web (did:web method 2.0): the host (a port as %3A) and path segments, e.g. did:web:hub.example:issuers:hanze
DID_WEB = re.compile(r"did:web:[A-Za-z0-9._%-]+(:[A-Za-z0-9._%-]+)*")
SLUG_LENGTH = 48


def issuer_slug(name: str) -> str:
    """The path segment of a partner's DID (`did:web:<host>:issuers:<slug>`), made from the name the board
    accredited it under: lower-case ASCII letters and digits joined by "-" ("issuer" when none). The verifier
    requires a credential's DID to end in the slug of its anchoring issuer's accredited name, so a partner
    cannot sign as another's DID."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:SLUG_LENGTH].strip("-")
    return slug or "issuer"


# The issuer's Ethereum account in the issuer profile: an OB 3.0 IdentifierEntry of this type holding its did:pkh.
ACCOUNT_IDENTIFIER_TYPE = "accountId"
MULTIBASE_BASE58 = re.compile(r"z[1-9A-HJ-NP-Za-km-z]{40,120}")
# XML Schema dateTimeStamp (VC 2.0): a time zone is required; any number of fraction digits (compared to the
# microsecond: further digits are ignored).
DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,64})?(Z|[+-]\d{2}:\d{2})")
URN_UUID = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
IDENTITY_HASH = re.compile(r"sha256\$[0-9a-f]{64}")
SIGNATURE = re.compile(r"0x[0-9a-f]{130}")


# ---------------------------------------------------------------- identifiers


def issuer_did(chain_id: int, address: str) -> str:
    """`did:pkh:eip155:<chainId>:<EIP-55 checksum address>` (CAIP-10 account id)."""
    return f"did:pkh:eip155:{int(chain_id)}:{_checksum(address)}"


@lru_cache(maxsize=1024)
def _checksum(address: str) -> str:
    """to_checksum_address, memoised (a keccak per call; a cohort names its issuer 10,000 times)."""
    return str(to_checksum_address(address))


def parse_issuer_did(did: str) -> tuple[int, str]:
    """The chain id and checksum address of a did:pkh:eip155 identifier.

    :raises ValueError: when `did` is not of that form with an EIP-55 checksum address.
    """
    match = DID_PKH.fullmatch(did) if isinstance(did, str) else None
    if match is None:
        raise ValueError(f"{did!r:.80} is not did:pkh:eip155:<chainId>:<address>")
    address = match.group(2)
    if not _is_checksum(address):
        raise ValueError(f"{address} in the issuer id is not an EIP-55 checksum address")
    return int(match.group(1)), address


@lru_cache(maxsize=4096)
def _is_checksum(address: str) -> bool:
    """eth_utils.is_checksum_address, memoised: a keccak per call, and the verifier sees the same few
    issuer and registry addresses in every credential."""
    return bool(is_checksum_address(address))


def issuer_account(profile: Mapping[str, Any]) -> tuple[int, str]:
    """The chain id and checksum address of the Ethereum account an issuer profile states (the did:pkh of
    its `otherIdentifier` entry of type accountId).

    :raises ValueError: when there is not exactly one such entry, or it is not a did:pkh:eip155 id.
    """
    entries = profile.get("otherIdentifier") if isinstance(profile, Mapping) else None
    accounts = [
        item
        for item in (entries if isinstance(entries, list) else [])
        if isinstance(item, Mapping) and item.get("identifierType") == ACCOUNT_IDENTIFIER_TYPE
    ]
    if len(accounts) != 1:
        raise ValueError(f"the issuer must state exactly one {ACCOUNT_IDENTIFIER_TYPE} (its Ethereum account)")
    return parse_issuer_did(accounts[0].get("identifier"))  # type: ignore[arg-type]


def normalise_email(email: str) -> str:
    """The form of an email address that is hashed: surrounding whitespace removed, lowercased."""
    return email.strip().lower()


def identity_hash(email: str, salt: str) -> str:
    """Open Badges `IdentityHash`: "sha256$" + hex(sha256(normalised email + salt))."""
    return "sha256$" + hashlib.sha256((normalise_email(email) + salt).encode("utf-8")).hexdigest()


def identity_object(email: str, salt: str | None = None) -> dict[str, Any]:
    """The recipient's salted, hashed Open Badges `IdentityObject` for `email`."""
    salt = salt if salt is not None else new_salt()
    return {
        "type": "IdentityObject",
        "identityHash": identity_hash(email, salt),
        "identityType": "emailAddress",
        "hashed": True,
        "salt": salt,
    }


IDENTIFIER_CLAIM = "identifier"  # the disclosure holding the recipient's IdentityObjects (never in the body)


def identifier_matches(identifiers: Any, email: str) -> bool:
    """Whether one of `identifiers` (the disclosed `identifier` claim: a list of IdentityObjects) is
    the hashed, salted `email`."""
    for item in identifiers if isinstance(identifiers, list) else []:
        if (
            isinstance(item, Mapping)
            and item.get("identityType") == "emailAddress"
            and isinstance(item.get("salt"), str)
            and identity_hash(email, item["salt"]) == item.get("identityHash")
        ):
            return True
    return False


def recipient_matches(credential: Mapping[str, Any], email: str) -> bool:
    """Whether the credential's `identifier` disclosure (unchecked: the verifier checks disclosures)
    names `email`; False when the copy does not disclose the identifier."""
    proof = proof_of(credential)
    for item in proof.get("disclosures", []) if proof is not None else []:
        if isinstance(item, list) and len(item) == 3 and item[1] == IDENTIFIER_CLAIM:
            return identifier_matches(item[2], email)
    return False


@lru_cache(maxsize=4096)  # pure; the verifier writes the same block times and validity dates again and again
def format_datetime(moment: datetime) -> str:
    """XML Schema dateTimeStamp in UTC with second precision, e.g. 2026-07-01T00:00:00Z."""
    if moment.tzinfo is None:
        raise ValueError("datetimes in a credential need a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(text: str) -> datetime:
    """A dateTimeStamp (with time zone) as an aware datetime.

    :raises ValueError: when `text` is not one.
    """
    if not isinstance(text, str):
        raise ValueError(f"{text!r:.60} is not a date-time with time zone (e.g. 2026-07-01T00:00:00Z)")
    return _parse_datetime(text)


@lru_cache(maxsize=4096)  # a pure function of a short string; a cohort's credentials share their dates
def _parse_datetime(text: str) -> datetime:
    if not DATETIME.fullmatch(text):
        raise ValueError(f"{text!r:.60} is not a date-time with time zone (e.g. 2026-07-01T00:00:00Z)")
    digits = text.replace("Z", "+00:00")
    head, _, fraction_and_zone = digits.partition(".")
    if fraction_and_zone:  # datetime takes at most 6 fractional digits
        fraction, zone = fraction_and_zone[:-6], fraction_and_zone[-6:]
        digits = f"{head}.{fraction[:6].ljust(6, '0')}{zone}"
    return datetime.fromisoformat(digits)


# ---------------------------------------------------------------- the format (validation models)


def _nonempty(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text


def _uri(text: str) -> str:
    if not URI.fullmatch(text):
        raise ValueError("must be a URI")
    return text


def _datetime(text: str) -> str:
    parse_datetime(text)
    return text


def _urn_uuid(text: str) -> str:
    if not URN_UUID.fullmatch(text):
        raise ValueError("must be urn:uuid: and a UUID in lowercase hex")
    return text


def _checksum_address(text: str) -> str:
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", text) or not _is_checksum(text):
        raise ValueError("must be an EIP-55 checksum address")
    return text


def _types_including(*required: str) -> Any:
    def check(types: list[str]) -> list[str]:
        missing = [name for name in required if name not in types]
        if missing:
            raise ValueError(f"must include {', '.join(missing)}")
        if len(set(types)) != len(types):
            raise ValueError("must not repeat a type")
        return types

    return AfterValidator(check)


def _whole(pattern: re.Pattern[str]) -> str:
    """`pattern` for pydantic's `pattern=`, which searches (a match anywhere passes): anchored to match the
    whole string, as the format's fullmatch checks do."""
    return f"^(?:{pattern.pattern})$"


# the length limit first: checked by pydantic's core before the Python check (after it, in Python too)
Text = Annotated[str, Field(max_length=10_000), AfterValidator(_nonempty)]
Uri = Annotated[str, Field(max_length=2_000), AfterValidator(_uri)]
DateTimeText = Annotated[str, AfterValidator(_datetime)]
Hex32 = Annotated[str, Field(pattern=_whole(HEX32))]
UrnUuid = Annotated[str, Field(max_length=100), AfterValidator(_urn_uuid)]
ChecksumAddress = Annotated[str, AfterValidator(_checksum_address)]


class _Strict(BaseModel):
    """JSON as parsed: no coercion (a string is not a number), unknown members allowed."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


class _Closed(_Strict):
    """A member whose content this format fixes completely: unknown members refused."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class IdentifierEntryModel(_Closed):
    type: Literal["IdentifierEntry"]
    identifier: Annotated[str, Field(max_length=200)]
    identifierType: Annotated[str, Field(max_length=100)]


class ProfileModel(_Strict):
    """The issuer: its did:web (the DID document the hub serves lists its signing key) and, as an
    `otherIdentifier` of type accountId, the did:pkh of its Ethereum account (the account that anchors)."""

    id: str
    type: Annotated[list[str], _types_including("Profile")]
    name: Text
    url: Uri | None = None
    otherIdentifier: Annotated[list[IdentifierEntryModel], Field(min_length=1, max_length=16)]

    @model_validator(mode="after")
    def _did(self) -> ProfileModel:
        if not DID_WEB.fullmatch(self.id):
            raise ValueError(f"id {self.id!r:.80} must be the issuer's did:web (did:web:<host>:issuers:<slug>)")
        accounts = [item for item in self.otherIdentifier if item.identifierType == ACCOUNT_IDENTIFIER_TYPE]
        if len(accounts) != 1:
            raise ValueError(
                f"otherIdentifier must hold exactly one {ACCOUNT_IDENTIFIER_TYPE} entry: the issuer's Ethereum "
                "account as did:pkh:eip155:<chainId>:<address>"
            )
        parse_issuer_did(accounts[0].identifier)
        return self

    @cached_property
    def account(self) -> tuple[int, str]:
        """The chain id and checksum address of the issuer's Ethereum account (its did:pkh); read once per model
        (several checks ask, and dumping the profile is not free)."""
        return issuer_account(self.model_dump())


class IdentityObjectModel(_Closed):
    type: Literal["IdentityObject"]
    identityHash: Annotated[str, Field(pattern=_whole(IDENTITY_HASH))]
    identityType: Literal["emailAddress"]
    hashed: Literal[True]
    salt: Annotated[str, Field(min_length=16, max_length=128)]


class CriteriaModel(_Strict):
    narrative: Text


class AlignmentModel(_Strict):
    type: Annotated[list[str], _types_including("Alignment")]
    targetName: Text
    targetUrl: Uri
    targetFramework: str | None = None
    targetCode: str | None = None


class ResultDescriptionModel(_Strict):
    id: Uri
    type: Annotated[list[str], _types_including("ResultDescription")]
    name: Text
    resultType: Literal["ScaledScore"]
    valueMin: Literal["1.0"]
    valueMax: Literal["10.0"]


class AchievementModel(_Strict):
    id: Uri
    type: Annotated[list[str], _types_including("Achievement")]
    name: Text
    description: Text
    criteria: CriteriaModel
    achievementType: str
    creditsAvailable: Annotated[float, Field(ge=0, le=1000)]
    fieldOfStudy: Text
    humanCode: Text
    alignment: list[AlignmentModel]
    resultDescription: Annotated[list[ResultDescriptionModel], Field(min_length=1, max_length=1)] | None = None

    @model_validator(mode="after")
    def _shape(self) -> AchievementModel:
        if self.id != PROGRAMME_URN + self.humanCode:
            raise ValueError(f"id must be {PROGRAMME_URN}<humanCode>: {PROGRAMME_URN}{self.humanCode}")
        if self.fieldOfStudy not in HUB_THEMES:
            raise ValueError(f"fieldOfStudy must be one of the hub's themes: {', '.join(HUB_THEMES)}")
        if self.achievementType not in ACHIEVEMENT_TYPES and not self.achievementType.startswith("ext:"):
            raise ValueError(f"achievementType {self.achievementType!r} is not an Open Badges AchievementType")
        eqf = [item for item in self.alignment if item.targetFramework == EQF_FRAMEWORK]
        if len(eqf) != 1:
            raise ValueError(f"alignment must hold exactly one {EQF_FRAMEWORK} level")
        if eqf[0].targetCode not in {str(level) for level in range(1, 9)}:
            raise ValueError("the EQF alignment's targetCode must be a level from 1 to 8")
        return self


class AchievementSubjectModel(_Strict):
    id: UrnUuid  # random per credential: names nobody (OB 3.0 wants an id or an identifier)
    type: Annotated[list[str], _types_including("AchievementSubject")]
    achievement: AchievementModel
    disclosureDigests: list[Annotated[str, Field(pattern=_whole(DIGEST_PATTERN))]] = Field(max_length=256)

    @model_validator(mode="after")
    def _sorted(self) -> AchievementSubjectModel:
        if self.model_extra and IDENTIFIER_CLAIM in self.model_extra:
            raise ValueError("identifier must not be in the anchored body: it is a disclosure (section 2)")
        if self.disclosureDigests != sorted(set(self.disclosureDigests)):
            raise ValueError("disclosureDigests must be sorted and without repeats")
        return self


class AnchorDomainModel(_Closed):
    name: Text
    version: Text


class AnchorSignatureModel(_Closed):
    type: Literal["EIP712AnchorSignature"]
    domain: AnchorDomainModel
    count: Annotated[int, Field(ge=1, le=2**32 - 1)]
    metadataHash: Hex32
    nonce: Annotated[int, Field(ge=0)]
    deadline: Annotated[int, Field(ge=0)]
    signature: Annotated[str, Field(pattern=_whole(SIGNATURE))]


class DataIntegrityProofModel(_Closed):
    """The issuer's W3C Data Integrity proof (eddsa-rdfc-2022) over the body (service.credentials.integrity)."""

    type: Literal["DataIntegrityProof"]
    cryptosuite: Literal["eddsa-rdfc-2022"]
    created: DateTimeText
    verificationMethod: Annotated[str, Field(max_length=500)]
    proofPurpose: Literal["assertionMethod"]
    proofValue: Annotated[str, Field(pattern=_whole(MULTIBASE_BASE58))]


class ProofModel(_Closed):
    """The MerkleAnchor2026 proof object (one item of the credential's `proof` array)."""

    type: Literal["MerkleAnchor2026"]
    credentialDigest: Hex32
    merkleRoot: Hex32
    merklePath: Annotated[list[Hex32], Field(max_length=MAX_MERKLE_DEPTH)]
    chainId: Annotated[int, Field(ge=1)]
    registry: ChecksumAddress
    issuerAddress: ChecksumAddress
    transactionHash: Hex32
    anchorSignature: AnchorSignatureModel | None = None
    disclosures: list[Any] = Field(default_factory=list, max_length=256)


class CredentialBodyModel(_Strict):
    """The anchored body: everything but `proof`."""

    context: Annotated[list[str], Field(alias="@context")]
    id: UrnUuid
    type: Annotated[list[str], _types_including(*CREDENTIAL_TYPES)]
    issuer: ProfileModel
    validFrom: DateTimeText
    validUntil: DateTimeText | None = None
    name: Text
    credentialSubject: AchievementSubjectModel

    @model_validator(mode="after")
    def _shape(self) -> CredentialBodyModel:
        if not self.context or self.context[0] != VC_CONTEXT:
            raise ValueError(f"@context must start with {VC_CONTEXT}")
        missing = [context for context in CONTEXTS if context not in self.context]
        if missing:
            raise ValueError(f"@context must include {', '.join(missing)}")
        if self.validUntil is not None and parse_datetime(self.validUntil) <= parse_datetime(self.validFrom):
            raise ValueError("validUntil must be later than validFrom")
        return self


AnyProof = Annotated[ProofModel | DataIntegrityProofModel, Field(discriminator="type")]


class CredentialModel(CredentialBodyModel):
    """A whole credential: the anchored body and its `proof`, an array of the MerkleAnchor2026 proof and
    the issuer's DataIntegrityProof (the verifier's issuer_signature_di check fails when that one is missing)."""

    proof: Annotated[list[AnyProof], Field(min_length=1, max_length=2)]

    @model_validator(mode="after")
    def _proofs(self) -> CredentialModel:
        kinds: list[str] = [item.type for item in self.proof]
        if kinds.count(PROOF_TYPE) != 1 or len(set(kinds)) != len(kinds):
            raise ValueError(f"proof must hold one {PROOF_TYPE} proof and at most one DataIntegrityProof")
        return self

    @property
    def anchor_proof(self) -> ProofModel:
        """The MerkleAnchor2026 proof (the model's side of proof_of)."""
        return next(item for item in self.proof if isinstance(item, ProofModel))

    @property
    def integrity_proof(self) -> DataIntegrityProofModel | None:
        """The issuer's DataIntegrityProof, when the credential carries one."""
        return next((item for item in self.proof if isinstance(item, DataIntegrityProofModel)), None)


class FormatError(ValueError):
    """The document is JSON but not a credential of this format; `problems` says where and why."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


# What a value that does not match one of the format's patterns must be, in words (pydantic checks
# patterns in Rust, without calling back into Python, and names only the pattern).
PATTERN_WORDS = {
    _whole(HEX32): "must be 0x and 64 lowercase hex digits",
    _whole(IDENTITY_HASH): "must be sha256$ and 64 lowercase hex digits",
    _whole(DIGEST_PATTERN): "must be a disclosure digest: 43 characters of unpadded base64url",
    _whole(SIGNATURE): "must be 0x and 130 lowercase hex digits (a 65-byte signature)",
}


PROOF_TAGS = frozenset({PROOF_TYPE, integrity.PROOF_TYPE})


def _problem(error: Mapping[str, Any]) -> str:
    """`path: message` for one pydantic error, in the format's words."""
    # the proof union's tag (pydantic names the member it tried) is not a member of the document
    where = ".".join(str(part) for part in error["loc"] if part not in PROOF_TAGS) or "(document)"
    words = (
        PATTERN_WORDS.get(error.get("ctx", {}).get("pattern", ""))
        if error["type"] == "string_pattern_mismatch"
        else None
    )
    return f"{where}: {words or validation_message(error)}"


def _validate(model: type[CredentialBodyModel], document: Any) -> Any:
    if not isinstance(document, dict):
        raise FormatError([f"the document must be a JSON object, not {type(document).__name__}"])
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise FormatError([_problem(error) for error in exc.errors(include_url=False)[:5]]) from None


def validate_credential(document: Any) -> CredentialModel:
    """Check that `document` (parsed JSON) has the shape of a credential of this format.

    :raises FormatError: listing the first problems found, each as `path: message`.
    """
    result: CredentialModel = _validate(CredentialModel, document)
    return result


def validate_body(body: Any) -> CredentialBodyModel:
    """Check that `body` has the shape of an anchored body (a credential without `proof`).

    :raises FormatError: listing the first problems found.
    """
    if isinstance(body, dict) and "proof" in body:
        raise FormatError(["proof: an anchored body has no proof"])
    result: CredentialBodyModel = _validate(CredentialBodyModel, body)
    return result


# ---------------------------------------------------------------- issuing: the anchored body


@dataclass(frozen=True)
class IssuerProfile:
    """The education partner that issues: its account anchors the cohort, its Ed25519 key signs each
    credential's Data Integrity proof, its did:web (`did`) is the credential's issuer id."""

    address: str
    chain_id: int
    name: str  # e.g. "Hanzehogeschool Groningen"
    url: str | None = None
    did: str = field(kw_only=True)  # did:web:<host>:issuers:<slug> (service.issuing.identity.did_web)
    signing_key: Ed25519PrivateKey = field(kw_only=True, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.url is not None and not (isinstance(self.url, str) and URI.fullmatch(self.url)):
            raise ValueError(f"the issuer's url {self.url!r:.80} is not a URI")
        if not (isinstance(self.did, str) and DID_WEB.fullmatch(self.did)):
            raise ValueError(f"the issuer's DID {self.did!r:.80} is not a did:web")

    @property
    def verification_method(self) -> str:
        """The signing key's id in the issuer's DID document: `<did>#<publicKeyMultibase>`."""
        public = self.signing_key.public_key().public_bytes_raw()
        return f"{self.did}#{multikey.encode_public(public)}"

    def to_json(self) -> dict[str, Any]:
        profile: dict[str, Any] = {"id": self.did, "type": ["Profile"], "name": self.name}
        if self.url:
            profile["url"] = self.url
        profile["otherIdentifier"] = [
            {
                "type": "IdentifierEntry",
                "identifier": issuer_did(self.chain_id, self.address),
                "identifierType": ACCOUNT_IDENTIFIER_TYPE,
            }
        ]
        return profile


@dataclass(frozen=True)
class Programme:
    """A hub programme whose completion the credential attests."""

    id: str  # the hub's programme id, e.g. "miw-data-analytics"
    name: str  # e.g. "Make IT Work: Data Analytics"
    description: str
    criteria: str  # what a graduate did to earn it (narrative)
    theme: str  # one of HUB_THEMES
    ects: float  # creditsAvailable
    eqf_level: int  # 1..8
    achievement_type: str = "MicroCredential"
    grade_scale: tuple[str, str] | None = GRADE_SCALE  # Dutch grades; None when there is no result

    def __post_init__(self) -> None:
        if self.theme not in HUB_THEMES:
            raise ValueError(f"theme {self.theme!r} is not one of the hub's themes: {', '.join(HUB_THEMES)}")
        if not 1 <= self.eqf_level <= 8:
            raise ValueError("eqf_level must be 1 to 8")
        if self.ects < 0:
            raise ValueError("ects must not be negative")
        if self.grade_scale not in (None, GRADE_SCALE):
            raise ValueError(f"the grade scale is Dutch grades {GRADE_SCALE[0]} to {GRADE_SCALE[1]}, or none")

    @property
    def achievement_id(self) -> str:
        return PROGRAMME_URN + self.id

    @property
    def result_description_id(self) -> str:
        return f"{self.achievement_id}:grade"

    def to_json(self) -> dict[str, Any]:
        achievement: dict[str, Any] = {
            "id": self.achievement_id,
            "type": ["Achievement"],
            "name": self.name,
            "description": self.description,
            "criteria": {"narrative": self.criteria},
            "achievementType": self.achievement_type,
            # A whole number as an integer: the same JCS bytes ("30"), and the canonical fast path takes it.
            "creditsAvailable": int(self.ects) if float(self.ects).is_integer() else self.ects,
            "fieldOfStudy": self.theme,
            "humanCode": self.id,
            "alignment": [
                {
                    "type": ["Alignment"],
                    "targetName": f"EQF level {self.eqf_level}",
                    "targetUrl": EQF_URL,
                    "targetFramework": EQF_FRAMEWORK,
                    "targetCode": str(self.eqf_level),
                }
            ],
        }
        if self.grade_scale is not None:
            achievement["resultDescription"] = [
                {
                    "id": self.result_description_id,
                    "type": ["ResultDescription"],
                    "name": "Final grade",
                    "resultType": "ScaledScore",
                    "valueMin": self.grade_scale[0],
                    "valueMax": self.grade_scale[1],
                }
            ]
        return achievement


@dataclass(frozen=True)
class Graduate:
    """The recipient. Nothing about them goes into the body: the salted email hash (`identifier`), the
    name, the grade and further claims become disclosures the holder shares or withholds."""

    email: str
    name: str | None = None
    grade: str | None = None  # e.g. "8.5", within the programme's grade scale
    claims: Mapping[str, Any] = field(default_factory=dict)  # further withholdable claims


@dataclass(frozen=True)
class DraftCredential:
    """A credential before anchoring: the anchored body, the disclosures that go with it and the issuer's
    Data Integrity proof over the body (None for a body built elsewhere, e.g. by a test)."""

    body: dict[str, Any]
    disclosures: tuple[Disclosure, ...]
    integrity_proof: dict[str, Any] | None = None


def build_credential(
    *,
    issuer: IssuerProfile,
    programme: Programme,
    graduate: Graduate,
    valid_from: datetime,
    valid_until: datetime | None = None,
    credential_id: str | None = None,
    decoys: int = 0,
    credential_status: Mapping[str, Any] | None = None,
    signed_at: datetime | None = None,
) -> DraftCredential:
    """Write the anchored body of a new credential and sign it: the graduate's name, grade and further
    claims become salted disclosures whose digests (with `decoys` random ones) the body lists; the issuer's
    key signs the body with a Data Integrity proof (eddsa-rdfc-2022, `created` = `signed_at`, by default now).

    :param credential_status: the body's `credentialStatus` (a BitstringStatusListEntry), when given.
    :raises ValueError: on a grade without a grade scale, or a claim name that is not allowed.
    """
    disclosures: list[Disclosure] = [make_disclosure(IDENTIFIER_CLAIM, [identity_object(graduate.email)])]
    if graduate.name is not None:
        disclosures.append(make_disclosure("name", graduate.name))
    if graduate.grade is not None:
        if programme.grade_scale is None:
            raise ValueError(f"programme {programme.id} has no grade scale, so no grade")
        disclosures.append(
            make_disclosure(
                "result",
                [
                    {
                        "type": ["Result"],
                        "resultDescription": programme.result_description_id,
                        "value": graduate.grade,
                    }
                ],
            )
        )
    for name, value in graduate.claims.items():
        disclosures.append(make_disclosure(name, value))
    names = [item.name for item in disclosures]
    if len(set(names)) != len(names):
        raise ValueError("each claim can be disclosed once")
    digests = sorted([item.digest for item in disclosures] + [decoy_digest() for _ in range(decoys)])
    body: dict[str, Any] = {
        "@context": list(CONTEXTS),
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": list(CREDENTIAL_TYPES),
        "issuer": issuer.to_json(),
        "validFrom": format_datetime(valid_from),
    }
    if valid_until is not None:
        body["validUntil"] = format_datetime(valid_until)
    if credential_status is not None:
        body["credentialStatus"] = dict(credential_status)
    body["name"] = programme.name
    body["credentialSubject"] = {
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["AchievementSubject"],
        "achievement": programme.to_json(),
        "disclosureDigests": digests,
    }
    proof = integrity.sign(body, issuer.signing_key, issuer.verification_method, signed_at)
    return DraftCredential(body=body, disclosures=tuple(disclosures), integrity_proof=proof)


def disclosures_json(disclosures: Sequence[Disclosure]) -> list[list[Any]]:
    return [item.to_json() for item in disclosures]
