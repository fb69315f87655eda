"""Every error leaves the API as RFC 9457 problem details (application/problem+json), never a stack trace."""

from __future__ import annotations

import json
import logging
import math
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import Timeout as RequestsTimeout
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from web3.exceptions import ContractLogicError, ProviderConnectionError, TimeExhausted

from service.credentials.canonical import nested_deeper
from service.errors import (
    PROBLEM_BASE,
    ChainRejected,
    ChainUnavailable,
    Conflict,
    Forbidden,
    HubError,
    InvalidInput,
    NotFound,
    NotJson,
    NotReady,
    PayloadTooLarge,
    Unauthenticated,
    UnreadablePdf,
    UnsupportedMediaType,
    validation_message,
)
from service.web.logs import redact_holder_paths

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 5


# The HTTP status of each domain error (the errors themselves know nothing of HTTP): the nearest class in
# its MRO decides; a contract's refusal by the custom error it reverted with (REVERT_STATUS).
STATUS: dict[type[HubError], int] = {
    HubError: 400,
    NotJson: 400,
    UnreadablePdf: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    InvalidInput: 422,
    ChainUnavailable: 503,
    NotReady: 503,
}

# Contract errors by the HTTP status they deserve: 403 the caller may not, 404 no such thing,
# 409 the state does not allow it (now), 422 the input cannot ever work.
REVERT_STATUS: dict[str, int] = {
    "RegistryUnauthorizedGovernor": 403,
    "RegistryIssuerNotAccredited": 403,
    "RegistryUnauthorizedRevoker": 403,
    "RegistryInvalidSignature": 403,
    "RegistryBatchNotAnchored": 404,
    "RegistryBatchAlreadyAnchored": 409,
    "RegistryAlreadyRevoked": 409,
    "RegistryIssuerAlreadyAccredited": 409,
    "RegistrySigningKeyUnchanged": 409,
    "RegistryInvalidKeyHash": 422,
    "RegistryExpiredSignature": 422,
    "RegistryInvalidProof": 422,
    "RegistryInvalidReason": 422,
    "RegistryInvalidRoot": 422,
    "RegistryEmptyBatch": 422,
    "RegistryEmptyIssuerName": 422,
    "RegistryInvalidAddress": 422,
    "BoardUnauthorizedMember": 403,
    "BoardNotEligible": 403,
    "BoardInvalidSignature": 403,
    "BoardUnknownProposal": 404,
    "BoardAlreadyVoted": 409,
    "BoardAlreadyRecused": 409,
    "BoardUnexpectedProposalState": 409,
    "BoardAlreadyMember": 409,
    "BoardNotMember": 409,
    "BoardTooManyMembers": 409,
    "BoardLastMember": 409,
    "BoardActionMismatch": 422,
    "BoardInvalidVoteType": 422,
    "BoardEmptyTitle": 422,
    "BoardInvalidAction": 422,
    "BoardInvalidRules": 422,
    "BoardExpiredSignature": 422,
}


def status_of(error: HubError) -> int:
    """The HTTP status `error` is answered with."""
    if isinstance(error, ChainRejected):
        return REVERT_STATUS.get(error.revert.name, 409)
    return next(STATUS[cls] for cls in type(error).__mro__ if cls in STATUS)


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(examples=[PROBLEM_BASE + "forbidden"])
    title: str = Field(examples=["Not allowed for this key"])
    status: int = Field(examples=[403])
    detail: str = Field(examples=["only the issuer that anchored this credential may revoke it"])
    instance: str | None = Field(None, examples=["/credentials/4f1c.../revoke"])

    model_config = {"extra": "allow"}


def problem_response(
    request: Request | None, status: int, slug: str, title: str, detail: str, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    if request is not None:
        body["instance"] = request.url.path
    body.update({k: v for k, v in extra.items() if v is not None})
    # 503: the chain or the database is away for a moment; clients may retry after a short pause
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


# What each problem status means, as the OpenAPI document says it.
DESCRIBED = {
    400: "The body is not JSON: empty, not UTF-8, a byte order mark, a syntax error, NaN or Infinity",
    401: "No API key, or an unknown or revoked one",
    403: "The key's principal may not do this",
    404: "No such resource",
    409: "The current state does not allow it",
    413: "The body is too large",
    415: "The content type is not accepted",
    422: "The body or parameters are not valid",
    503: "The chain or the database is not reachable",
}


# One worked example per problem status, in the shape the API answers with (the /docs page shows it under each status).
EXAMPLES: dict[int, dict[str, Any]] = {
    400: {
        "type": PROBLEM_BASE + "not-json",
        "title": "The body is not JSON",
        "status": 400,
        "detail": "the body is not valid JSON: Expecting ',' delimiter at line 1, column 27",
        "instance": "/credentials",
    },
    401: {
        "type": PROBLEM_BASE + "unauthenticated",
        "title": "An API key is needed",
        "status": 401,
        "detail": "send your API key as 'Authorization: Bearer <key>'",
        "instance": "/batches",
    },
    403: {
        "type": PROBLEM_BASE + "forbidden",
        "title": "Not allowed for this key",
        "status": 403,
        "detail": "only the issuer that anchored this credential may revoke it",
        "instance": "/credentials/3f0c2a6e-8d1b-4c5e-9a7f-2b6d4e8f1a30/revoke",
    },
    404: {
        "type": PROBLEM_BASE + "not-found",
        "title": "Not found",
        "status": 404,
        "detail": "there is no batch 3f0c2a6e-8d1b-4c5e-9a7f-2b6d4e8f1a30",
        "instance": "/batches/3f0c2a6e-8d1b-4c5e-9a7f-2b6d4e8f1a30",
    },
    409: {
        "type": PROBLEM_BASE + "conflict",
        "title": "The request conflicts with the current state",
        "status": 409,
        "detail": "this credential was already revoked",
        "instance": "/credentials/3f0c2a6e-8d1b-4c5e-9a7f-2b6d4e8f1a30/revoke",
    },
    413: {
        "type": PROBLEM_BASE + "payload-too-large",
        "title": "The request body is too large",
        "status": 413,
        "detail": "the body exceeds 262144 bytes",
        "instance": "/verify",
    },
    415: {
        "type": PROBLEM_BASE + "unsupported-media-type",
        "title": "Unsupported media type",
        "status": 415,
        "detail": "send the cohort as application/json, text/csv or multipart/form-data",
        "instance": "/credentials/batch",
    },
    422: {
        "type": PROBLEM_BASE + "invalid-input",
        "title": "The request is not valid",
        "status": 422,
        "detail": "limit: Input should be less than or equal to 100",
        "instance": "/batches",
    },
    503: {
        "type": PROBLEM_BASE + "chain-unavailable",
        "title": "The chain is not reachable",
        "status": 503,
        "detail": "the chain node does not answer; try again shortly",
        "instance": "/credentials",
    },
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the problem responses a route can give."""
    return {
        status: {"model": Problem, "description": DESCRIBED.get(status, "Error"), "content": {PROBLEM_JSON: {}}}
        for status in statuses
    }


def _takes_json(operation: dict[str, Any]) -> bool:
    """The operation has a request body that may come as JSON (application/json or application/...+json)."""
    media_types = operation.get("requestBody", {}).get("content", {})
    return any(
        media == "application/json" or (media.startswith("application/") and media.endswith("+json"))
        for media in media_types
    )


def _document_problems(app: FastAPI) -> None:
    """Make the OpenAPI document say what the API sends: every error as application/problem+json with the
    Problem schema. FastAPI files a response's model under application/json, and documents its own 422
    (HTTPValidationError) on every route with parameters; both are rewritten once, when the schema is built.
    Every operation with a JSON body documents the 400 it answers when the body is not JSON (NotJson)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        problem = {"$ref": "#/components/schemas/Problem"}
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                answers = operation.setdefault("responses", {})
                if _takes_json(operation) and str(STATUS[NotJson]) not in answers:
                    answers[str(STATUS[NotJson])] = {
                        "description": DESCRIBED[STATUS[NotJson]],
                        "content": {PROBLEM_JSON: {"schema": problem}},
                    }
                    operation["responses"] = answers = dict(sorted(answers.items()))
                for status, response in answers.items():
                    content = response.get("content", {})
                    invalid = content.get("application/json", {}).get("schema", {}).get("$ref", "")
                    if PROBLEM_JSON in content or invalid.endswith("/HTTPValidationError"):
                        if invalid.endswith(("/Problem", "/HTTPValidationError")):
                            content.pop("application/json")
                        content[PROBLEM_JSON] = {**content.get(PROBLEM_JSON, {}), "schema": problem}
                        if status.isdigit() and int(status) in EXAMPLES:
                            content[PROBLEM_JSON]["example"] = EXAMPLES[int(status)]
                        if status == "422" and response.get("description") == "Validation Error":
                            response["description"] = "The body or parameters are not valid"
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}"))
        components.pop("HTTPValidationError", None)
        if "#/components/schemas/ValidationError" not in json.dumps(schema):
            components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# One rule for every JSON body, POST /verify's included: 400 not-json (NotJson) when the body is not JSON the
# service can read (not UTF-8, a byte order mark, a syntax error, NaN or Infinity); 422 invalid-input when it
# is JSON but not what the operation accepts: a field missing, unknown or of the wrong type, a value out of
# range, or nesting deeper than the service reads (POST /verify: a credential deeper than its format allows).
# read_json is the rule; every APIRouter of the API has route_class=JsonRoute, so FastAPI reads body models
# with it, and POST /credentials/batch reads its JSON cohort with it. A route without a body reads none.
MAX_JSON_DEPTH = 64  # the API's bodies nest 4 levels at most; POST /verify's credentials 32 (its own check)
NESTED_TOO_DEEPLY = (
    f"the body is JSON nested deeper than {MAX_JSON_DEPTH} levels, more than the service reads; "
    "send a JSON object as in the examples at /docs"
)
STARTS_WITH_BOM = "the body is not valid JSON: it starts with a byte order mark (U+FEFF); send UTF-8 JSON without one"
LARGE_BODY = 64 * 1024  # a JSON body this large is read in a worker thread, not on the event loop


def not_utf8(exc: UnicodeDecodeError) -> str:
    """Why a body is not JSON when it is not UTF-8, for people."""
    return (
        f"the body is not valid JSON: it is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position "
        f"{exc.start}); send JSON encoded as UTF-8"
    )


def not_valid_json(reason: str, line: int, column: int) -> str:
    """Why a body is not JSON when it does not parse (`reason`: the parser's words, e.g. "Expecting value")."""
    reason = reason.removesuffix(" at") or "it cannot be parsed"
    return f"the body is not valid JSON: {reason[:1].lower()}{reason[1:]} at line {line}, column {column}"


def json_type(value: Any) -> str:
    """The JSON type of a parsed value, as people say it."""
    names = {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "true or false",
        int: "a number",
        float: "a number",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


class _Refused(Exception):
    """Raised while a body is parsed: the error to answer."""

    def __init__(self, error: HubError) -> None:
        super().__init__(error.detail)
        self.error = error


def _no_constant(name: str) -> Any:
    raise _Refused(NotJson(f"the body is not valid JSON: {name} is not a JSON number (JSON has no NaN or Infinity)"))


def _integer(text: str) -> int:
    """An integer of the body, its length checked before it is converted: Python refuses to convert one of
    more than sys.get_int_max_str_digits() digits (ValueError, which FastAPI would answer as a bare 400)."""
    digits = len(text.lstrip("-"))
    limit = sys.get_int_max_str_digits()
    if limit and digits > limit:
        raise _Refused(
            InvalidInput(f"the body has an integer of {digits} digits, more than the service reads ({limit})")
        )
    return int(text)


def _number(text: str) -> float:
    """A number with a fraction or exponent; one beyond a double's range (1e999) would read as infinity."""
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(InvalidInput(f"the body has the number {text[:20]}, beyond the range of a double"))
    return value


def read_json(body: bytes, depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON value of the request body `body`, read by the one rule: the only parse of a JSON request body
    (JsonRequest.json for the body models, POST /credentials/batch for its cohort; POST /verify has its own).

    :raises NotJson: (400) not UTF-8, a byte order mark, a syntax error (empty included), NaN or Infinity.
    :raises InvalidInput: (422) nesting deeper than `depth`, an integer too long to convert.
    """
    try:
        text = body.decode("utf-8")  # not json.detect_encoding: JSON between systems is UTF-8 (RFC 8259)
    except UnicodeDecodeError as exc:
        raise NotJson(not_utf8(exc)) from None
    if text.startswith("\ufeff"):
        raise NotJson(STARTS_WITH_BOM)
    # before the parser: it recurses once per level, and the recursion limit is 100,000 (see JsonRequest)
    if text.count("[") + text.count("{") > depth and nested_deeper(text, depth):
        raise InvalidInput(NESTED_TOO_DEEPLY)
    try:
        return json.loads(text, parse_constant=_no_constant, parse_int=_integer, parse_float=_number)
    except json.JSONDecodeError as exc:
        raise NotJson(not_valid_json(exc.msg, exc.lineno, exc.colno)) from None
    except _Refused as refused:
        raise refused.error from None


async def read_json_body(body: bytes) -> Any:
    """read_json, in a worker thread when the body is over LARGE_BODY: not on the event loop."""
    return await run_in_threadpool(read_json, body) if len(body) > LARGE_BODY else read_json(body)


class JsonRequest(Request):
    """A request whose JSON body is read by read_json: the one rule (400 not-json, 422 invalid-input), and
    the value FastAPI validates the body model against, parsed once.

    The depth check comes before the parser: CPython's json module recurses once per level, and py_ecc
    (imported by eth-account) raises the recursion limit to 100,000 when imported: a few hundred KB of '['
    would overflow the C stack and end the process (FastAPI parses a JSON body before any key is checked).
    A body over LARGE_BODY is read in a worker thread, not on the event loop (BodyLimit bounds it)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = await read_json_body(await self.body())
        return self._json


class JsonRoute(APIRoute):
    """The route class of every APIRouter of the API: its requests are JsonRequests. A refusal raised while
    FastAPI reads the body reaches the HubError handler through _unreadable_body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_json_handler(request: Request) -> Response:
            return await handler(JsonRequest(request.scope, request.receive))

        return strict_json_handler


def _body_error(error: Any, body: Any) -> HubError | None:
    """The error about the body as a whole (not JSON, empty, not an object); None for the others."""
    loc = tuple(error.get("loc", ()))
    kind = error.get("type")
    if kind == "json_invalid" and len(loc) == 2 and isinstance(loc[1], int):
        reason = str(error.get("ctx", {}).get("error", ""))
        if isinstance(body, str):
            line = body.count("\n", 0, loc[1]) + 1
            column = loc[1] - (body.rfind("\n", 0, loc[1]) + 1) + 1
            return NotJson(not_valid_json(reason, line, column))
        reason = reason.removesuffix(" at") or "it cannot be parsed"
        return NotJson(f"the body is not valid JSON: {reason[:1].lower()}{reason[1:]} at character {loc[1]}")
    if loc != ("body",):
        return None
    if kind == "missing":  # an empty body is not JSON either (as on POST /verify)
        return NotJson("the body is empty: send a JSON object as in the examples at /docs")
    if kind in ("model_attributes_type", "model_type", "dict_type"):
        return InvalidInput(f"the body must be a JSON object, not {json_type(error.get('input'))}")
    return None


def _unreadable_body(exc: StarletteHTTPException) -> HubError | None:
    """Why FastAPI could not read a JSON body: it answers whatever reading the body raised as a bare 400 'There
    was an error parsing the body', from the error. JsonRequest.json's refusal (read_json: NotJson or
    InvalidInput) is that error; a route without JsonRoute (a plain Request.json) is answered alike."""
    if exc.status_code != 400:
        return None
    cause = exc.__cause__
    if isinstance(cause, HubError):
        return cause
    if isinstance(cause, UnicodeDecodeError):
        return NotJson(not_utf8(cause))
    if isinstance(cause, RecursionError):
        return InvalidInput(NESTED_TOO_DEEPLY)
    return None


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for error in exc.errors():
        out.append(
            {
                "location": [str(part) for part in error.get("loc", ())],
                "message": validation_message(error),
                "type": error.get("type", ""),
            }
        )
    return out


# A page for a person where the API would answer with problem details: (request, status) -> the page, or None.
PageFor = Callable[[Request, int], Response | None]


def install(app: FastAPI, page_for: PageFor | None = None) -> None:
    """Register the handlers that turn every failure into problem+json, and document them so. `page_for` may
    answer an HTTP error of the routing (an unknown address) with a page instead, when a browser asks for one
    (service.pages.page_for_browser); API clients keep their problem details."""
    _document_problems(app)

    @app.exception_handler(HubError)
    async def _hub_error(request: Request, exc: HubError) -> JSONResponse:
        return problem_response(request, status_of(exc), exc.slug, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        first_error = exc.errors()[0] if exc.errors() else {}
        if tuple(first_error.get("loc", ())) == ("body",) and isinstance(first_error.get("input"), bytes):
            # FastAPI reads a body as JSON only when its Content-Type says JSON; else the model got the raw bytes
            media = request.headers.get("content-type", "").split(";")[0].strip()
            return problem_response(
                request,
                415,
                "unsupported-media-type",
                "Unsupported media type",
                f"{f'the body is {media}' if media else 'the request has no Content-Type'}: "
                "send it as JSON with 'Content-Type: application/json'",
            )
        body_error = _body_error(first_error, exc.body)
        if isinstance(body_error, NotJson):  # not JSON: no field errors to list
            return await _hub_error(request, body_error)
        first = errors[0] if errors else {"location": [], "message": "invalid"}
        where = ".".join(part for part in first["location"] if part != "body") or "body"
        return problem_response(
            request,
            422,
            InvalidInput.slug,
            InvalidInput.title,
            body_error.detail if body_error else f"{where}: {first['message']}",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        unreadable = _unreadable_body(exc)
        if unreadable is not None:
            return await _hub_error(request, unreadable)
        page = page_for(request, exc.status_code) if page_for is not None else None
        if page is not None:
            return page
        titles = {
            404: "Not found",
            405: "Method not allowed",
            413: "The request body is too large",
            415: "Unsupported media type",
        }
        slugs = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large", 415: "unsupported-media-type"}
        response = problem_response(
            request,
            exc.status_code,
            slugs.get(exc.status_code, "http-error"),
            titles.get(exc.status_code, "Request failed"),
            str(exc.detail),
        )
        response.headers.update(exc.headers or {})  # 405: Allow
        return response

    async def _chain_down(request: Request, exc: Exception) -> JSONResponse:
        error = ChainUnavailable.no_answer(exc)
        return problem_response(request, status_of(error), error.slug, error.title, error.detail)

    for kind in (ProviderConnectionError, RequestsConnectionError, RequestsTimeout, TimeExhausted, ConnectionError):
        app.add_exception_handler(kind, _chain_down)

    @app.exception_handler(ContractLogicError)
    async def _undecoded_revert(request: Request, exc: ContractLogicError) -> JSONResponse:
        return problem_response(
            request,
            409,
            "chain-rejected",
            "The contract refused the transaction",
            f"the contract reverted: {exc.message or exc}",
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, redact_holder_paths(request.url.path))
        return problem_response(
            request, 500, "internal-error", "Internal error", "the service failed unexpectedly; the error was logged"
        )


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413 problem+json, before anything reads them."""

    def __init__(self, app: ASGIApp, limit: int, page: Callable[[Scope, int], Response | None] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.page = page  # a page instead of problem+json for a form a person posted (service.pages.too_large)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge(f"the body exceeds {self.limit} bytes")
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:  # read outside a route (a route's reading answers it as an HTTPException: 413)
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        shown = self.page(scope, self.limit) if self.page is not None else None
        if shown is not None:
            await shown(scope, _noop_receive, send)
            return
        response = problem_response(
            None,
            413,
            "payload-too-large",
            "The request body is too large",
            f"the body exceeds {self.limit} bytes",
            instance=scope.get("path"),
        )
        await response(scope, _noop_receive, send)


class _TooLarge(StarletteHTTPException):
    """A body without Content-Length went over the limit while read. An HTTPException, so that FastAPI, which
    turns whatever else reading a body raises into a 400, lets it through to the 413 handler."""

    def __init__(self, detail: str) -> None:
        super().__init__(413, detail)


async def _noop_receive() -> Message:
    return {"type": "http.disconnect"}
