"""The IT Hub Hoogeveen demo roster: organisations, their development accounts, the programme catalogue.

Development accounts are indexes into service.chain.devchain.dev_accounts(). Each organisation on the
board votes with one account; each education partner issues with another (a partner's issuing key is
not its board key). Account 0 deploys and relays.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.chain.devchain import dev_accounts


@dataclass(frozen=True)
class Organisation:
    name: str
    board_account: int | None  # dev account index of its board seat, None when not on the board
    issuer_account: int | None  # dev account index of its issuing key, None when it does not issue


DEPLOYER_ACCOUNT = 0
ORGANISATIONS = (
    Organisation("TVM verzekeringen", board_account=1, issuer_account=None),
    Organisation("Unigarant", board_account=2, issuer_account=None),
    Organisation("Hanzehogeschool Groningen", board_account=3, issuer_account=11),
    Organisation("Rijksuniversiteit Groningen", board_account=4, issuer_account=12),
    Organisation("NHL Stenden", board_account=5, issuer_account=13),
    Organisation("Alfa-college", board_account=6, issuer_account=14),
)


def dev_board() -> list[tuple[str, str]]:
    """The initial board as (address, name) pairs of development accounts."""
    accounts = dev_accounts()
    return [(accounts[o.board_account].address, o.name) for o in ORGANISATIONS if o.board_account is not None]
