"""Share links: the copy a link shows, found in the database, and a pasted link of this hub resolved to it.

A share link is `<HUB_PUBLIC_URL>/share/<token>`: the holder's own link (`Credential.share_token`, showing the
claims the holder chose, `Credential.shared_claims`), a link made for a printed certificate (`ShareLink`,
showing the claims printed), or one the graduate made on her own page (`ShareLink` of purpose "holder", with
a label and her choice of claims; once she withdraws it, it shows nothing: 410). Its copy is the holder's
copy with only those disclosures (`shared_copy`): the anchored body is unchanged, so it verifies the same.

`resolve_link` is how the verify page and POST /verify take a link instead of a file: it reads the token
from a link of THIS hub (the origin and path of HUB_PUBLIC_URL; the page, its credential.json or its
certificate.pdf) and looks it up in the database. It never opens a URL: any other link is refused
(ForeignLink), whatever it points at.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.credentials.canonical import proof_of
from service.credentials.disclosure import select_disclosures
from service.db import models
from service.documents.certificate import disclosure_items
from service.errors import Conflict, ForeignLink, InvalidInput, NotFound

if TYPE_CHECKING:
    from service.hub import Hub

SHARE_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
MAX_LINK_CHARS = 2_000
# What may follow the token in a link of this hub: the page itself, or one of its files.
LINK_TAILS = ("", "/", "/credential.json", "/certificate.pdf")


@dataclass(frozen=True)
class Shared:
    """A credential behind a share link, read from the database."""

    credential_id: str
    batch_status: str  # pending | anchored | failed
    document: dict[str, Any] | None  # the shared copy; None until anchored
    share_url: str
    certificate_link: bool = False  # a link made for a printed certificate (ShareLink), not the holder's own
    withdrawn: bool = False  # a link the graduate withdrew on her page: it shows nothing (410)
    label: str | None = None  # the name the graduate gave the link on her page


def shared_copy(document: Mapping[str, Any], claims: Sequence[str] = ()) -> dict[str, Any]:
    """The copy a share link shows and serves: the holder's copy with only `claims` (the holder's choice,
    `Credential.shared_claims`) disclosed; a chosen claim the copy has no disclosure for stays withheld."""
    available = {item[1] for item in disclosure_items(document) if isinstance(item, list) and len(item) == 3}
    return select_disclosures(document, [name for name in claims if name in available])


def find_shared(hub: Hub, token: str) -> Shared | None:
    if not SHARE_TOKEN.fullmatch(token):
        return None
    with hub.sessions() as db:
        row = db.scalar(select(models.Credential).where(models.Credential.share_token == token))
        claims: Sequence[str] = (row.shared_claims or ()) if row is not None else ()
        link = None
        if row is None:
            link = db.scalar(select(models.ShareLink).where(models.ShareLink.token == token))
            if link is None:
                return None
            row, claims = link.credential, link.claims
        anchored = row.batch.status == "anchored" and proof_of(row.document) is not None
        withdrawn = link is not None and link.withdrawn_at is not None
        return Shared(
            credential_id=row.id,
            batch_status=row.batch.status,
            document=shared_copy(row.document, claims) if anchored and not withdrawn else None,
            share_url=f"{hub.settings.public_url}/share/{token}",
            certificate_link=link is not None and link.purpose == "certificate",
            withdrawn=withdrawn,
            label=link.label if link is not None else None,
        )


def link_token(link: str, public_url: str) -> str:
    """The token of `link` when it is a share link of the hub at `public_url`.

    :raises ForeignLink: any other text or link (another host, scheme, port or path)."""
    text = link.strip()
    hub = urlsplit(public_url)
    example = f"{public_url}/share/…"
    if len(text) > MAX_LINK_CHARS or any(char.isspace() for char in text):
        raise ForeignLink(f"this is not a share link of this hub: its links look like {example}")
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ForeignLink(f"this is not a link: a share link of this hub looks like {example}")
    if (parts.scheme.lower(), parts.netloc.lower()) != (hub.scheme.lower(), hub.netloc.lower()):
        raise ForeignLink(
            f"{parts.scheme}://{parts.netloc} is not this hub: only share links of {public_url} are accepted, "
            "and the hub never opens other links (download the credential file or the PDF and upload it instead)"
        )
    prefix = hub.path.rstrip("/") + "/share/"
    if not parts.path.startswith(prefix):
        raise ForeignLink(f"this link of the hub is not a share link: a share link looks like {example}")
    rest = parts.path.removeprefix(prefix)
    token = rest.partition("/")[0]
    if not SHARE_TOKEN.fullmatch(token) or rest.removeprefix(token) not in LINK_TAILS:
        raise ForeignLink(f"this link of the hub is not a share link: a share link looks like {example}")
    return token


def resolve_link(hub: Hub, link: str) -> Shared:
    """The shared copy behind `link`, a share link of this hub, from the database (nothing is fetched).

    :raises ForeignLink: not a share link of this hub.
    :raises NotFound: a share link of this hub that shares nothing (unknown or mistyped, or withdrawn).
    :raises Conflict: its credential is not anchored (yet), or its cohort failed.
    """
    token = link_token(link, hub.settings.public_url)
    shared = find_shared(hub, token)
    if shared is None:
        raise NotFound("no credential is shared under this link: check that it was copied whole")
    if shared.withdrawn:
        raise NotFound("the graduate withdrew this share link: ask them for a new one")
    if shared.document is None:
        if shared.batch_status == "failed":
            raise Conflict("the credential behind this link was not issued: its cohort could not be anchored")
        raise Conflict("the credential behind this link is not anchored yet: try again in a minute")
    return shared


def certificate_link(
    hub: Hub, db: Session, row: models.Credential, disclose: Sequence[str], created_by: str
) -> tuple[models.ShareLink, bool]:
    """The share link of a printed certificate of `row` that discloses exactly `disclose` (claim names, of those
    a certificate prints): made now (True), or the one made earlier for the same claims (False). For POST
    /credentials/{id}/certificate-links and the partner console's export; the caller checked who asks.

    :raises InvalidInput: a claim the credential does not have or a certificate does not print.
    :raises Conflict: the credential is not anchored yet.
    """
    from service.credentials.disclosure import claim_name
    from service.documents.certificate import PRINTED_CLAIMS
    from service.issuing.cohorts import available_claims, reported_status
    from service.issuing.states import BatchStatus

    wanted = [claim_name(name) for name in disclose]
    available = [name for name in available_claims(row) if name in PRINTED_CLAIMS]
    unknown = [name for name in dict.fromkeys(wanted) if name not in available]
    if unknown:
        raise InvalidInput(
            f"disclose: a certificate of this credential cannot print "
            f"{', '.join(repr(n) for n in unknown)}; it can print {', '.join(available) or 'no claim'}"
        )
    if reported_status(hub, row.batch) != BatchStatus.ANCHORED:
        raise Conflict(
            f"credential {row.id} is not anchored yet: a certificate link is made for an anchored credential"
        )
    chosen = sorted(set(wanted))
    key = ",".join(chosen)
    query = select(models.ShareLink).where(models.ShareLink.credential_id == row.id, models.ShareLink.claims_key == key)
    link = db.scalar(query)
    if link is not None:
        return link, False
    link = models.ShareLink(
        credential_id=row.id,
        token=secrets.token_urlsafe(24),
        claims=chosen,
        claims_key=key,
        purpose="certificate",
        created_by=created_by,
    )
    db.add(link)
    try:
        db.commit()
    except IntegrityError:  # made at the same moment by another request: that one stands
        db.rollback()
        link = db.scalar(query)
        if link is None:
            raise
        return link, False
    return link, True
