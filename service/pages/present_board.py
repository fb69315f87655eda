"""What the board's pages say: a proposal's kind and state, a vote, the voting rules and a partner's key.

Nothing here talks to the chain or the database: the board API's answers become the words a person reads on
the register, a proposal's page and the partners' pages.
"""

from __future__ import annotations

from typing import Any

from service.credentials import multikey

PROPOSAL_KINDS: dict[str, str] = {
    "resolution": "Resolution",
    "add-member": "New board member",
    "remove-member": "Board member leaves",
    "accredit-issuer": "Approve an issuing partner",
    "suspend-issuer": "Suspend an issuing partner",
    "change-rules": "Change the voting rules",
    "rotate-issuer-key": "Replace a partner's signing key",
}

# state -> (badge word, icon, what it means)
PROPOSAL_STATES: dict[str, tuple[str, str, str]] = {
    "active": ("Voting open", "clock", "Members can still vote."),
    "succeeded": ("Adopted", "check", "Adopted by the board; not yet carried out."),
    "executed": ("Decided", "check", "Adopted by the board and carried out."),
    "defeated": ("Rejected", "cross", "The board voted against it."),
    "expired": ("Lapsed", "dash", "Not decided: too few members voted, or it was not carried out in time."),
}

SUPPORT_LABELS = {"for": "For", "against": "Against", "abstain": "Abstained"}


def percent(bps: int) -> str:
    value = bps / 100
    return f"{value:g}%"


def rules_text(tally: Any) -> str:
    """How the proposal is decided, from its tally's rules snapshot."""
    return (
        f"At least {percent(tally.quorum_bps)} of the members who may vote must take part; it is adopted "
        f"when more than {percent(tally.threshold_bps)} of the for and against votes are for it. "
        "Abstentions count only for taking part."
    )


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
