"""Every error leaves the API as RFC 9457 problem details (application/problem+json), never a stack trace."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import Timeout as RequestsTimeout
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from web3.exceptions import ContractLogicError, ProviderConnectionError, TimeExhausted

from service.credentials.canonical import nested_deeper
from service.errors import PROBLEM_BASE, ChainUnavailable, HubError, InvalidInput, NotJson, validation_message

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 5


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


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the problem responses a route can give."""
    return {
        status: {"model": Problem, "description": DESCRIBED.get(status, "Error"),
                 "content": {PROBLEM_JSON: {}}}
        for status in statuses
    }


def _takes_json(operation: dict[str, Any]) -> bool:
    """The operation has a request body that may come as JSON (application/json or application/...+json)."""
    media_types = operation.get("requestBody", {}).get("content", {})
    return any(media == "application/json" or (media.startswith("application/") and media.endswith("+json"))
               for media in media_types)


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
                if _takes_json(operation) and str(NotJson.status) not in answers:
                    answers[str(NotJson.status)] = {"description": DESCRIBED[NotJson.status],
                                                    "content": {PROBLEM_JSON: {"schema": problem}}}
                    operation["responses"] = answers = dict(sorted(answers.items()))
                for status, response in answers.items():
                    content = response.get("content", {})
                    invalid = content.get("application/json", {}).get("schema", {}).get("$ref", "")
                    if PROBLEM_JSON in content or invalid.endswith("/HTTPValidationError"):
                        if invalid.endswith(("/Problem", "/HTTPValidationError")):
                            content.pop("application/json")
                        content[PROBLEM_JSON] = {**content.get(PROBLEM_JSON, {}), "schema": problem}
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
MAX_JSON_DEPTH = 64  # the API's bodies nest 4 levels at most; POST /verify's credentials 32 (its own check)
NESTED_TOO_DEEPLY = (f"the body is JSON nested deeper than {MAX_JSON_DEPTH} levels, more than the service reads; "
                     "send a JSON object as in the examples at /docs")
STARTS_WITH_BOM = ("the body is not valid JSON: it starts with a byte order mark (U+FEFF); send UTF-8 JSON "
                   "without one")
LARGE_BODY = 64 * 1024  # a JSON body this large is checked in a worker thread, not on the event loop


def not_utf8(exc: UnicodeDecodeError) -> str:
    """Why a body is not JSON when it is not UTF-8, for people."""
    return (f"the body is not valid JSON: it is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position "
            f"{exc.start}); send JSON encoded as UTF-8")


def not_valid_json(reason: str, line: int, column: int) -> str:
    """Why a body is not JSON when it does not parse (`reason`: the parser's words, e.g. "Expecting value")."""
    reason = reason.removesuffix(" at") or "it cannot be parsed"
    return f"the body is not valid JSON: {reason[:1].lower()}{reason[1:]} at line {line}, column {column}"


def json_type(value: Any) -> str:
    """The JSON type of a parsed value, as people say it."""
    names = {dict: "an object", list: "an array", str: "a string", bool: "true or false", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


class _Refused(Exception):
    """Raised while a body is parsed: the error to answer."""

    def __init__(self, error: HubError) -> None:
        super().__init__(error.detail)
        self.error = error


def _no_constant(name: str) -> Any:
    raise _Refused(NotJson(f"the body is not valid JSON: {name} is not a JSON number (JSON has no NaN or Infinity)"))


def _int_digits(text: str) -> int:
    """Check an integer's length without converting it: Python refuses to convert one of more than
    sys.get_int_max_str_digits() digits (ValueError, which FastAPI would answer as a bare 400)."""
    digits = len(text.lstrip("-"))
    limit = sys.get_int_max_str_digits()
    if limit and digits > limit:
        raise _Refused(InvalidInput(f"the body has an integer of {digits} digits, more than the service reads "
                                    f"({limit})"))
    return 0


def unreadable_json(body: bytes, depth: int = MAX_JSON_DEPTH) -> HubError | None:
    """Why the service will not read the JSON body `body`, as the error to answer (NotJson: 400, or InvalidInput:
    422 for nesting deeper than `depth` and integers too long to convert); None when it will. An empty body is
    left to the route (one without a body takes it)."""
    if not body:
        return None
    try:
        text = body.decode("utf-8")  # not json.detect_encoding: JSON between systems is UTF-8 (RFC 8259)
    except UnicodeDecodeError as exc:
        return NotJson(not_utf8(exc))
    if text.startswith("\ufeff"):
        return NotJson(STARTS_WITH_BOM)
    if text.count("[") + text.count("{") > depth and nested_deeper(text, depth):
        return InvalidInput(NESTED_TOO_DEEPLY)
    try:  # the values are thrown away: the route parses the body again, knowing it will
        json.loads(text, parse_constant=_no_constant, parse_int=_int_digits)
    except json.JSONDecodeError as exc:
        return NotJson(not_valid_json(exc.msg, exc.lineno, exc.colno))
    except _Refused as refused:
        return refused.error
    return None


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
    """Why FastAPI could not read a JSON body (it answers a bare 400 'There was an error parsing the body').
    NestingLimit refuses such bodies first; this answers alike if one gets past it."""
    if exc.status_code != 400:
        return None
    cause = exc.__cause__
    if isinstance(cause, UnicodeDecodeError):
        return NotJson(not_utf8(cause))
    if isinstance(cause, RecursionError):
        return InvalidInput(NESTED_TOO_DEEPLY)
    return None


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for error in exc.errors():
        out.append({"location": [str(part) for part in error.get("loc", ())], "message": validation_message(error),
                    "type": error.get("type", "")})
    return out


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into problem+json, and document them so."""
    _document_problems(app)

    @app.exception_handler(HubError)
    async def _hub_error(request: Request, exc: HubError) -> JSONResponse:
        return problem_response(request, exc.status, exc.slug, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        first_error = exc.errors()[0] if exc.errors() else {}
        if tuple(first_error.get("loc", ())) == ("body",) and isinstance(first_error.get("input"), bytes):
            # FastAPI reads a body as JSON only when its Content-Type says JSON; else the model got the raw bytes
            media = request.headers.get("content-type", "").split(";")[0].strip()
            return problem_response(request, 415, "unsupported-media-type", "Unsupported media type",
                                    f"{f'the body is {media}' if media else 'the request has no Content-Type'}: "
                                    "send it as JSON with 'Content-Type: application/json'")
        body_error = _body_error(first_error, exc.body)
        if isinstance(body_error, NotJson):  # not JSON: no field errors to list
            return await _hub_error(request, body_error)
        first = errors[0] if errors else {"location": [], "message": "invalid"}
        where = ".".join(part for part in first["location"] if part != "body") or "body"
        return problem_response(request, 422, InvalidInput.slug, InvalidInput.title,
                                body_error.detail if body_error else f"{where}: {first['message']}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        unreadable = _unreadable_body(exc)
        if unreadable is not None:
            return await _hub_error(request, unreadable)
        titles = {404: "Not found", 405: "Method not allowed", 413: "The request body is too large",
                  415: "Unsupported media type"}
        slugs = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large", 415: "unsupported-media-type"}
        response = problem_response(request, exc.status_code, slugs.get(exc.status_code, "http-error"),
                                    titles.get(exc.status_code, "Request failed"), str(exc.detail))
        response.headers.update(exc.headers or {})  # 405: Allow
        return response

    async def _chain_down(request: Request, exc: Exception) -> JSONResponse:
        error = ChainUnavailable.no_answer(exc)
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
                    raise _TooLarge(f"the body exceeds {self.limit} bytes")
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:  # read outside a route (a route's reading answers it as an HTTPException: 413)
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        response = problem_response(None, 413, "payload-too-large", "The request body is too large",
                                    f"the body exceeds {self.limit} bytes", instance=scope.get("path"))
        await response(scope, _noop_receive, send)


class NestingLimit:
    """Refuse JSON bodies the service does not read, before a parser sees them: a body that is not JSON (not
    UTF-8, a byte order mark, a syntax error, NaN or Infinity) with 400 not-json, one nested deeper than
    MAX_JSON_DEPTH with 422 invalid-input (unreadable_json). So every route with a JSON body answers the same
    rule, whichever way it reads its body (a body model, or its own parsing as POST /credentials/batch).

    The depth check first: CPython's json module recurses once per level, and py_ecc (imported by
    eth-account) raises the recursion limit to 100,000 when imported: a few hundred KB of '[' would overflow
    the C stack and end the process (FastAPI parses a JSON body before any key is checked). Only JSON bodies
    are held and read here (BodyLimit, outside this, bounds them); `exempt` paths parse with their own guard
    (POST /verify, under the same rule).
    """

    def __init__(self, app: ASGIApp, depth: int = MAX_JSON_DEPTH, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.depth = depth
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exempt or not _json_media(scope):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left: nothing to answer
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if len(body) > LARGE_BODY:
            error = await run_in_threadpool(unreadable_json, body, self.depth)
        else:
            error = unreadable_json(body, self.depth)
        if error is not None:
            response = problem_response(None, error.status, error.slug, error.title, error.detail,
                                        instance=scope.get("path"))
            await response(scope, _noop_receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _json_media(scope: Scope) -> bool:
    """The request says its body is JSON (application/json or application/...+json): FastAPI will parse it."""
    content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
    media = content_type.split(b";")[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


class _TooLarge(StarletteHTTPException):
    """A body without Content-Length went over the limit while read. An HTTPException, so that FastAPI, which
    turns whatever else reading a body raises into a 400, lets it through to the 413 handler."""

    def __init__(self, detail: str) -> None:
        super().__init__(413, detail)


async def _noop_receive() -> Message:
    return {"type": "http.disconnect"}
