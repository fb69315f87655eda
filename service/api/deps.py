"""Dependencies of the routes, as Annotated aliases: `def route(hub: HubDep, db: DbSession)`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service.auth import Principal, Role, authenticate, require_role
from service.hub import Hub


def get_hub(request: Request) -> Hub:
    return request.app.state.hub


def get_session(hub: Annotated[Hub, Depends(get_hub)]) -> Iterator[Session]:
    with hub.sessions() as session:
        yield session


HubDep = Annotated[Hub, Depends(get_hub)]
DbSession = Annotated[Session, Depends(get_session)]


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key created with `hub keys create` (admin, issuer or member)",
)


def get_principal(
    session: DbSession, request: Request, _scheme: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
) -> Principal:
    try:
        return authenticate(session, request.headers.get("authorization"))
    finally:
        # End the read, so the connection goes back to the pool: a request may wait (for a thread, a lock,
        # the chain) before it needs the database again, and a waiting request must not pin a connection.
        session.rollback()


def _role(*roles: Role):  # type: ignore[no-untyped-def]
    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        return require_role(principal, *roles)

    return dependency


def optional_principal(
    session: DbSession, request: Request, _scheme: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
) -> Principal | None:
    """The caller's principal when it sends a key (a wrong key is still 401), else None."""
    header = request.headers.get("authorization")
    return authenticate(session, header) if header else None


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]
Admin = Annotated[Principal, Depends(_role(Role.ADMIN))]
Issuer = Annotated[Principal, Depends(_role(Role.ISSUER))]
Member = Annotated[Principal, Depends(_role(Role.MEMBER))]
