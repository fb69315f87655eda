"""Every error leaves the API as RFC 9457 problem details (application/problem+json), never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import Timeout as RequestsTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from web3.exceptions import ContractLogicError, ProviderConnectionError, TimeExhausted

from service.errors import PROBLEM_BASE, ChainUnavailable, HubError

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(examples=[PROBLEM_BASE + "forbidden"])
    title: str = Field(examples=["Not allowed for this key"])
    status: int = Field(examples=[403])
    detail: str = Field(examples=["only the issuer that anchored this credential may revoke it"])
    instance: str | None = Field(None, examples=["/credentials/4f1c.../revoke"])

    model_config = {"extra": "allow"}


def problem_response(request: Request | None, status: int, slug: str, title: str, detail: str,
                     **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    if request is not None:
        body["instance"] = request.url.path
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the problem responses a route can give."""
    described = {
        400: "The request cannot be read",
        401: "No API key, or an unknown or revoked one",
        403: "The key's principal may not do this",
        404: "No such resource",
        409: "The current state does not allow it",
        413: "The body is too large",
        415: "The content type is not accepted",
        422: "The body or parameters are not valid",
        503: "The chain or the database is not reachable",
    }
    return {
        status: {"model": Problem, "description": described.get(status, "Error"),
                 "content": {PROBLEM_JSON: {}}}
        for status in statuses
    }


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for error in exc.errors():
        message = str(error.get("msg", "")).removeprefix("Value error, ")  # pydantic's prefix says nothing to people
        out.append({"location": [str(part) for part in error.get("loc", ())], "message": message,
                    "type": error.get("type", "")})
    return out


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into problem+json."""

    @app.exception_handler(HubError)
    async def _hub_error(request: Request, exc: HubError) -> JSONResponse:
        return problem_response(request, exc.status, exc.slug, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        first = errors[0] if errors else {"location": [], "message": "invalid"}
        where = ".".join(part for part in first["location"] if part != "body") or "body"
        return problem_response(request, 422, "invalid-input", "The request is not valid",
                                f"{where}: {first['message']}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 413: "The request body is too large",
                  415: "Unsupported media type"}
        slugs = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large", 415: "unsupported-media-type"}
        return problem_response(request, exc.status_code, slugs.get(exc.status_code, "http-error"),
                                titles.get(exc.status_code, "Request failed"), str(exc.detail))

    async def _chain_down(request: Request, exc: Exception) -> JSONResponse:
        error = ChainUnavailable("the chain node does not answer; try again shortly")
        return problem_response(request, error.status, error.slug, error.title, error.detail)

    for kind in (ProviderConnectionError, RequestsConnectionError, RequestsTimeout, TimeExhausted, ConnectionError):
        app.add_exception_handler(kind, _chain_down)

    @app.exception_handler(ContractLogicError)
    async def _undecoded_revert(request: Request, exc: ContractLogicError) -> JSONResponse:
        return problem_response(request, 409, "chain-rejected", "The contract refused the transaction",
                                f"the contract reverted: {exc.message or exc}")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, 500, "internal-error", "Internal error",
                                "the service failed unexpectedly; the error was logged")


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413 problem+json, before anything reads them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        response = problem_response(None, 413, "payload-too-large", "The request body is too large",
                                    f"the body exceeds {self.limit} bytes", instance=scope.get("path"))
        await response(scope, _noop_receive, send)


class _TooLarge(Exception):
    pass


async def _noop_receive() -> Message:
    return {"type": "http.disconnect"}
