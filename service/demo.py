"""The IT Hub Hoogeveen demo roster: organisations, their development accounts, the programme catalogue.

Development accounts are indexes into service.chain.devchain.dev_accounts(). Each organisation on the
board votes with one account; each education partner issues with another (a partner's issuing key is
not its board key). Account 0 deploys and relays.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

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


@cache
def _dev_addresses() -> tuple[str, ...]:
    return tuple(account.address for account in dev_accounts())  # deriving them takes a while: once


def dev_board() -> list[tuple[str, str]]:
    """The initial board as (address, name) pairs of development accounts."""
    accounts = dev_accounts()
    return [(accounts[o.board_account].address, o.name) for o in ORGANISATIONS if o.board_account is not None]


@dataclass(frozen=True)
class DemoProgramme:
    """A hub programme of the demo catalogue, issued by `issuer` (an organisation of ORGANISATIONS)."""

    id: str
    name: str
    theme: str  # one of service.credentials.document.HUB_THEMES
    description: str
    criteria: str
    ects: float
    eqf_level: int
    issuer: str
    achievement_type: str = "MicroCredential"
    graded: bool = True

    def issuer_address(self) -> str:
        """The issuing partner's development account."""
        org = next(o for o in ORGANISATIONS if o.name == self.issuer)
        assert org.issuer_account is not None, f"{org.name} does not issue"
        return _dev_addresses()[org.issuer_account]

    def as_create(self) -> dict[str, object]:
        """The body of POST /programmes for this programme (on a development chain)."""
        return {
            "id": self.id,
            "name": self.name,
            "theme": self.theme,
            "description": self.description,
            "criteria": self.criteria,
            "achievement_type": self.achievement_type,
            "ects": self.ects,
            "eqf_level": self.eqf_level,
            "graded": self.graded,
            "issuer_address": self.issuer_address(),
        }


DEMO_PROGRAMMES = (
    DemoProgramme(
        id="miw-data-analytics",
        name="Make IT Work: Data Analytics",
        theme="Data analytics",
        description="Reskilling track of Hanzehogeschool Groningen at the IT Hub Hoogeveen for career changers: "
        "data pipelines, statistics, SQL and dashboards for employers in Drenthe.",
        criteria="Completed the twenty-week track with its work placement, passed the final assessment and "
        "delivered a data analytics case for a hub partner.",
        ects=30,
        eqf_level=6,
        issuer="Hanzehogeschool Groningen",
    ),
    DemoProgramme(
        id="miw-ai",
        name="Make IT Work: Applied Artificial Intelligence",
        theme="Artificial intelligence",
        description="Reskilling track of Hanzehogeschool Groningen: machine learning, language models and "
        "responsible use of AI in regional companies.",
        criteria="Completed the track, passed the machine learning assessment and built an AI prototype with "
        "a hub partner.",
        ects=30,
        eqf_level=6,
        issuer="Hanzehogeschool Groningen",
    ),
    DemoProgramme(
        id="miw-cybersecurity",
        name="Make IT Work: Cybersecurity",
        theme="Cybersecurity",
        description="Reskilling track of Hanzehogeschool Groningen: network and application security, "
        "incident response and security awareness for SMEs.",
        criteria="Completed the track, passed the practical security assessment and carried out a security "
        "scan for a hub partner.",
        ects=30,
        eqf_level=6,
        issuer="Hanzehogeschool Groningen",
    ),
    DemoProgramme(
        id="blockchain-foundations",
        name="Blockchain Foundations",
        theme="Blockchain",
        description="Course of the Rijksuniversiteit Groningen at the IT Hub Hoogeveen: distributed ledgers, "
        "smart contracts and verifiable credentials.",
        criteria="Passed the written exam and wrote and tested a smart contract.",
        ects=5,
        eqf_level=7,
        issuer="Rijksuniversiteit Groningen",
        achievement_type="Course",
    ),
    DemoProgramme(
        id="robotics-automation",
        name="Robotics and Automation",
        theme="Robotics",
        description="NHL Stenden's programme at the IT Hub Hoogeveen: industrial robots, PLCs and "
        "automation of production lines.",
        criteria="Completed the lab modules and programmed a robot cell for a practical assignment.",
        ects=15,
        eqf_level=6,
        issuer="NHL Stenden",
    ),
    DemoProgramme(
        id="iot-technician",
        name="IoT Technician",
        theme="Internet of Things",
        description="Alfa-college's vocational course: sensors, microcontrollers, networks and installing "
        "IoT systems in buildings and agriculture.",
        criteria="Passed the practical exam: installed and configured an IoT monitoring system.",
        ects=0,
        eqf_level=4,
        issuer="Alfa-college",
        achievement_type="Certificate",
        graded=False,
    ),
)
