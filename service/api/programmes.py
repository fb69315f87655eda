"""The programme catalogue: what credentials can be issued for, and by which partner.

Reading is public; the stichting's admin adds programmes. Each programme is issued by one partner (its
issuing account); only that partner may issue credentials for it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, cast

from eth_utils import is_hex_address, to_checksum_address
from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.api import problems
from service.api.deps import Admin, DbSession
from service.credentials.document import ACHIEVEMENT_TYPES, HUB_THEMES
from service.db.models import ApiKey
from service.db.models import Programme as ProgrammeRow
from service.errors import Conflict, NotFound
from service.issuing.requests import PROGRAMME_ID
from service.web import audit

router = APIRouter(prefix="/programmes", tags=["programmes"], route_class=problems.JsonRoute)

Theme = Literal[
    "Data analytics", "Artificial intelligence", "Robotics", "Internet of Things", "Blockchain", "Cybersecurity"
]
assert set(Theme.__args__) == set(HUB_THEMES)  # type: ignore[attr-defined]
HANZE_ISSUER = "0x71bE63f3384f5fb98995898A86B02Fb2426c5788"


def _address(value: Any) -> Any:
    if isinstance(value, str) and is_hex_address(value):
        return to_checksum_address(value)
    raise ValueError("not an Ethereum address (0x followed by 40 hex digits)")


Address = Annotated[str, BeforeValidator(_address), Field(examples=[HANZE_ISSUER])]


class ProgrammeCreate(BaseModel):
    """A hub programme. `id` is its permanent slug: it goes into every credential issued for it."""

    model_config = ConfigDict(
        str_strip_whitespace=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "miw-data-analytics",
                    "name": "Make IT Work: Data Analytics",
                    "theme": "Data analytics",
                    "description": (
                        "Reskilling track of Hanzehogeschool Groningen at the IT Hub Hoogeveen for career changers."
                    ),
                    "criteria": "Completed the track with its work placement and passed the final assessment.",
                    "achievement_type": "MicroCredential",
                    "ects": 30,
                    "eqf_level": 6,
                    "graded": True,
                    "issuer_address": HANZE_ISSUER,
                }
            ]
        },
    )

    id: str = Field(pattern=f"^{PROGRAMME_ID.pattern}$", description="lowercase letters, digits and hyphens, 3-64")
    name: str = Field(min_length=1, max_length=200)
    theme: Theme = Field(description="the hub theme (the credential's fieldOfStudy)")
    description: str = Field(min_length=1, max_length=5_000)
    criteria: str = Field(min_length=1, max_length=5_000, description="what a graduate did to earn it")
    achievement_type: str = Field("MicroCredential", description="an Open Badges AchievementType, or ext:...")
    ects: float = Field(ge=0, le=1000, description="credits (ECTS)")
    eqf_level: int = Field(ge=1, le=8, description="European Qualifications Framework level")
    graded: bool = Field(True, description="credentials carry a grade on the Dutch 1.0-10.0 scale")
    issuer_address: Address = Field(description="the issuing account of the partner that issues it")

    @field_validator("achievement_type")
    @classmethod
    def _achievement_type(cls, value: str) -> str:
        if value not in ACHIEVEMENT_TYPES and not (value.startswith("ext:") and len(value) > 4):
            raise ValueError(
                f"{value!r} is not an Open Badges AchievementType (e.g. MicroCredential, Course, "
                "Certificate) nor ext:<name>"
            )
        return value


class ProgrammePublic(BaseModel):
    id: str = Field(examples=["miw-data-analytics"])
    name: str = Field(examples=["Make IT Work: Data Analytics"])
    theme: Theme
    description: str
    criteria: str
    achievement_type: str = Field(examples=["MicroCredential"])
    ects: float = Field(examples=[30])
    eqf_level: int = Field(examples=[6])
    graded: bool
    issuer_address: str = Field(examples=[HANZE_ISSUER])
    issuer_name: str | None = Field(
        None, description="the partner, as the hub knows its issuing account", examples=["Hanzehogeschool Groningen"]
    )
    created_at: datetime


def utc(moment: datetime) -> datetime:
    """A stored time as UTC (SQLite returns it without its zone)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _issuer_names(db: Session) -> dict[str, str]:
    return {
        address: name
        for address, name in db.execute(
            select(ApiKey.address, ApiKey.name).where(ApiKey.role == "issuer", ApiKey.address.is_not(None))
        )
        if address is not None
    }


def public(row: ProgrammeRow, names: dict[str, str]) -> ProgrammePublic:
    return ProgrammePublic(
        id=row.id,
        name=row.name,
        theme=cast(Theme, row.theme),
        description=row.description,
        criteria=row.criteria,
        achievement_type=row.achievement_type,
        ects=row.ects,
        eqf_level=row.eqf_level,
        graded=row.graded,
        issuer_address=row.issuer_address,
        issuer_name=names.get(row.issuer_address),
        created_at=utc(row.created_at),
    )


@router.get("", response_model=list[ProgrammePublic], operation_id="listProgrammes")
def list_programmes(
    db: DbSession,
    issuer: Annotated[Address | None, Query(description="only the programmes of this issuing account")] = None,
) -> list[ProgrammePublic]:
    """The catalogue, by id."""
    query = select(ProgrammeRow).order_by(ProgrammeRow.id)
    if issuer is not None:
        query = query.where(ProgrammeRow.issuer_address == issuer)
    names = _issuer_names(db)
    return [public(row, names) for row in db.scalars(query)]


@router.get(
    "/{programme_id}", response_model=ProgrammePublic, operation_id="getProgramme", responses=problems.responses(404)
)
def get_programme(programme_id: Annotated[str, Path(max_length=64)], db: DbSession) -> ProgrammePublic:
    row = db.get(ProgrammeRow, programme_id)
    if row is None:
        raise NotFound(f"there is no programme {programme_id!r}")
    return public(row, _issuer_names(db))


@router.post(
    "",
    response_model=ProgrammePublic,
    status_code=201,
    operation_id="createProgramme",
    responses=problems.responses(401, 403, 409, 413, 415, 422),
)
def create_programme(
    body: ProgrammeCreate, db: DbSession, admin: Admin, request: Request, response: Response
) -> ProgrammePublic:
    """Add a programme to the catalogue (admin key)."""
    # its audit line first, committed by add_programme with the programme (a refusal rolls both back)
    by = audit.Actor.api_key(admin.key_id, admin.name, request.client.host if request.client else None)
    audit.record(db, by, audit.Act.PROGRAMME_ADDED, audit.Subject.programme(body.id, body.name))
    created = add_programme(db, body)
    response.headers["Location"] = f"/programmes/{created.id}"
    return created


def add_programme(db: Session, body: ProgrammeCreate) -> ProgrammePublic:
    """Add a programme to the catalogue (committed): the API's POST /programmes and the admin console.

    :raises Conflict: a programme with this id exists (an id is permanent)."""
    if db.get(ProgrammeRow, body.id) is not None:
        raise Conflict(f"there is already a programme {body.id!r}; a programme id is permanent, choose another")
    row = ProgrammeRow(**body.model_dump())
    db.add(row)
    db.commit()
    return public(row, _issuer_names(db))


def programmes(db: Session) -> list[ProgrammePublic]:
    """The whole catalogue, by id (GET /programmes without a filter, and the admin console)."""
    names = _issuer_names(db)
    return [public(row, names) for row in db.scalars(select(ProgrammeRow).order_by(ProgrammeRow.id))]
