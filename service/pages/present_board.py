"""What the board's pages say: a proposal's kind and state, a vote, the voting rules, a partner's key and the
board's decisions about a partner.

Nothing here talks to the chain or the database: the board API's answers become the words a person reads on
the register, a proposal's page and the partners' pages. The labels are English messages marked for the
catalogs (`N_`), translated when shown; the board's own words (a proposal's title and text, a vote's reason)
are shown as the board wrote them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.support import LazyProxy

from service.credentials import multikey
from service.i18n import N_, _, number

PROPOSAL_KINDS: dict[str, LazyProxy] = {
    "resolution": N_("Resolution"),
    "add-member": N_("New board member"),
    "remove-member": N_("Board member leaves"),
    "accredit-issuer": N_("Approve an issuing partner"),
    "suspend-issuer": N_("Suspend an issuing partner"),
    "change-rules": N_("Change the voting rules"),
    "rotate-issuer-key": N_("Replace a partner's signing key"),
}

# state -> (badge word, icon, what it means)
PROPOSAL_STATES: dict[str, tuple[LazyProxy, str, LazyProxy]] = {
    "active": (N_("Voting open"), "clock", N_("Members can still vote.")),
    "succeeded": (N_("Adopted"), "check", N_("Adopted by the board; not yet carried out.")),
    "executed": (N_("Decided"), "check", N_("Adopted by the board and carried out.")),
    "defeated": (N_("Rejected"), "cross", N_("The board voted against it.")),
    "expired": (N_("Lapsed"), "dash", N_("Not decided: too few members voted, or it was not carried out in time.")),
}

SUPPORT_LABELS: dict[str, LazyProxy] = {"for": N_("For"), "against": N_("Against"), "abstain": N_("Abstained")}

# A member's part in a proposal (the API's BallotStatus), as a proposal's page lists who could vote.
BALLOT_LABELS: dict[str, LazyProxy] = {
    "for": N_("Voted for"),
    "against": N_("Voted against"),
    "abstain": N_("Abstained"),
    "recused": N_("Did not take part (conflict of interest)"),
    "not-voted": N_("Did not vote"),
}

# What an executed decision about a partner did to it, as the partners' pages list them.
PARTNER_DECISIONS: dict[str, LazyProxy] = {
    "accredit-issuer": N_("Approved by the board"),
    "suspend-issuer": N_("Suspended"),
    "rotate-issuer-key": N_("Signing key replaced"),
}


def percent(bps: int) -> str:
    """Basis points as a percentage in the reader's notation: 6666 -> "66.66%" ("66,66%" in Dutch)."""
    return f"{number(bps / 100)}%"


def rules_text(tally: Any) -> str:
    """How the proposal is decided, from its tally's rules snapshot."""
    return _(
        "At least %(quorum)s of the members who may vote must take part; it is adopted when more than "
        "%(threshold)s of the for and against votes are for it. Abstentions count only for taking part.",
        quorum=percent(tally.quorum_bps),
        threshold=percent(tally.threshold_bps),
    )


def days(seconds: int) -> str:
    """A period of the rules in days, in the reader's notation: 1209600 -> "14", 129600 -> "1.5"."""
    return number(round(seconds / 86_400, 1))


def key_fingerprint(public_key_multibase: str | None, key_hash: str | None) -> tuple[str, str]:
    """(short form, full value) of an issuer's signing key for a page: its Multikey ("z6MkhaXg…2doK") when the
    hub knows it, else the hash the board recorded on chain."""
    if public_key_multibase:
        return multikey.short_fingerprint(public_key_multibase), public_key_multibase
    if key_hash:
        return f"hash {key_hash[:10]}…{key_hash[-6:]}", key_hash
    return "", ""


def short_address(address: str | None) -> str:
    if not address:
        return ""
    return f"{address[:6]}…{address[-4:]}"


@dataclass(frozen=True)
class PartnerDecision:
    """An executed board decision about a partner: it accredited, suspended or re-keyed it."""

    proposal_id: int
    kind: str  # accredit-issuer | suspend-issuer | rotate-issuer-key
    title: str  # the board's own words
    executed_at: datetime
    executed_tx: str

    @property
    def label(self) -> str:
        return str(PARTNER_DECISIONS[self.kind])


def accreditation_at(decisions: list[PartnerDecision], moment: int) -> PartnerDecision | None:
    """The decision that accredited the partner and was in force at `moment` (unix seconds): the last decision
    that accredited or suspended it executed at or before `moment`, when it accredited it (the registry's
    `wasAccreditedAt`: a status holds from the second its transaction's block was made). `decisions` in
    the order they were executed."""
    status = [d for d in decisions if d.kind in ("accredit-issuer", "suspend-issuer")]
    in_force = [d for d in status if int(d.executed_at.timestamp()) <= moment]
    if not in_force or in_force[-1].kind != "accredit-issuer":
        return None
    return in_force[-1]
