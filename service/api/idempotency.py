"""Idempotent writes: the `Idempotency-Key` request header (IETF draft-ietf-httpapi-idempotency-key-header).

A client that sends `Idempotency-Key: "<unique value>"` (a UUID, say) with a write may send it again
after a timeout or a dropped connection without doing the work twice:

* the same key with the same request (principal, method, path, content type and body): the first answer
  is replayed - its status, body and Location - with `Idempotent-Replayed: true`. When the first request
  is still being processed, the second waits for its answer (up to WAIT_SECONDS, then 409
  idempotency-key-in-use with Retry-After: no correction needed, ask again);
* the same key with another request: 422 idempotency-key-reused;
* a malformed key (empty, over MAX_KEY_LENGTH characters, not visible ASCII): 422 invalid-input.

Answers kept: 2xx and 4xx refusals (a refusal is an answer too, per the draft). A 5xx answer (503: the
chain is away) is not kept: the key is released and the client may retry with it. Keys are kept KEEP
(24 h) per principal (the API key; "anonymous" for a ballot signed client-side) and purged lazily.

It holds across service processes: the claim is a row of idempotency_keys, unique on (principal,
key_hash), inserted before the work begins. A request that finds the row waits by reading it again
until its answer is there. A claim whose process died (no answer after LEASE) may be taken over.

What the database holds is of no use without the client's key. The answer to an issuing request holds
holder tokens (secrets shown once, for graduates), so its body is stored encrypted: AES-256-GCM with a
key derived from the Idempotency-Key by HKDF-SHA256 (salted, bound to the principal), which the service
never stores. The row holds only a hash of the key (another HKDF output) for the lookup, and an HMAC of
the request for the comparison. A database reader without the key cannot read the tokens; a key with
little entropy (a counter, say) could be guessed, so clients should send random keys, as the draft
advises (`hub cohort import` derives its key from the partner's API key and the file).

Routes opt in with `@idempotent` under a router whose route_class is IdempotentRoute, which also
documents the header (the reusable parameter components/parameters/IdempotencyKey) and the 409 and 422.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import FastAPI, Request, Response
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.types import Message, Receive, Scope, Send

from service.api import problems
from service.auth import authenticate
from service.db.models import IdempotencyRecord
from service.db.session import transaction
from service.errors import HubError, IdempotencyKeyInUse, IdempotencyKeyReused, InvalidInput, Unauthenticated

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
KEEP = timedelta(hours=24)  # how long a key and its answer are kept (at least)
LEASE = timedelta(minutes=10)  # a claim without an answer this long was abandoned (its process died)
WAIT_SECONDS = 15.0  # how long a request waits for the answer of a running one with its key
POLL_SECONDS = 0.1
RETRY_AFTER_SECONDS = 2
PURGE_EVERY = 60.0  # seconds between two purges of expired keys, per process
REPLAYED_HEADERS = ("content-type", "location", "retry-after", "link")  # of the first answer, replayed with it
ANONYMOUS = "anonymous"

PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": (
        f"Makes this write safe to retry: the same key with the same request replays the first answer "
        f"(with `{REPLAYED}: true`), also while it is being processed (the retry waits for it, or gets "
        f"409 with Retry-After); the same key with another request is 422. Kept 24 hours per API key. "
        f"An RFC 8941 string (quoted) or the bare value, 1-{MAX_KEY_LENGTH} visible ASCII characters; "
        "use a random value such as a UUID."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH + 2},
    "example": '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
}
PARAMETER_REF = {"$ref": "#/components/parameters/IdempotencyKey"}

_SALT = b"ithub-hoogeveen idempotency-key v1"
_SF_STRING = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')
_VISIBLE_ASCII = re.compile(r"[\x20-\x7e]+")
_idempotent: set[Callable[..., Any]] = set()

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


# ---------------------------------------------------------------- the routes


def idempotent(endpoint: Endpoint) -> Endpoint:
    """Mark a route as honouring Idempotency-Key (its router's route_class must be IdempotentRoute)."""
    _idempotent.add(endpoint)
    return endpoint


class IdempotentRoute(problems.JsonRoute):
    """A JsonRoute that, for an endpoint marked @idempotent, answers requests with an Idempotency-Key once per
    key (see the module's docstring), and documents the header and the 409 and 422 it may answer."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        self.idempotent = endpoint in _idempotent
        if self.idempotent:
            kwargs["openapi_extra"] = _documented(kwargs.get("openapi_extra"), kwargs.get("status_code") or 200)
            responses = {**problems.responses(409, 422), **(kwargs.get("responses") or {})}
            responses[409] = {
                **responses[409],
                "description": responses[409]["description"]
                + (f"; or a request with this {HEADER} is still being processed (retry after Retry-After seconds)"),
            }
            responses[422] = {
                **responses[422],
                "description": responses[422]["description"]
                + (f"; or the {HEADER} is malformed, or was used for another request"),
            }
            kwargs["responses"] = responses
        super().__init__(path, endpoint, **kwargs)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.idempotent or scope["type"] != "http" or scope["method"] not in (self.methods or ()):
            await super().handle(scope, receive, send)
            return
        await _serve(
            lambda receive_, send_: super(IdempotentRoute, self).handle(scope, receive_, send_), scope, receive, send
        )


def _documented(extra: dict[str, Any] | None, status: int) -> dict[str, Any]:
    extra = dict(extra or {})
    parameters = list(extra.get("parameters", []))
    if PARAMETER_REF not in parameters:
        parameters.append(PARAMETER_REF)
    extra["parameters"] = parameters
    replayed = {
        REPLAYED: {
            "description": f"true when this is the stored answer to an earlier request with the same {HEADER}",
            "schema": {"type": "string", "enum": ["true"]},
        }
    }
    extra.setdefault("responses", {}).setdefault(str(status), {}).setdefault("headers", {}).update(replayed)
    return extra


def install(app: FastAPI) -> None:
    """Add the Idempotency-Key parameter to the OpenAPI document's components (the routes refer to it)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        schema.setdefault("components", {}).setdefault("parameters", {}).setdefault("IdempotencyKey", PARAMETER)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# ---------------------------------------------------------------- one request


async def _serve(
    handle: Callable[[Receive, Send], Awaitable[None]], scope: Scope, receive: Receive, send: Send
) -> None:
    request = Request(scope, receive)
    values = [value for name, value in scope["headers"] if name == b"idempotency-key"]
    if not values:
        await handle(receive, send)
        return
    try:
        key = parse_key(values)
    except HubError as exc:
        await _problem(request, exc)(scope, receive, send)
        return
    sessions = request.app.state.hub.sessions
    principal = await run_in_threadpool(_principal, sessions, request.headers.get("authorization"))
    if principal is None:  # an unknown or revoked key: the route says so (401), nothing to keep
        await handle(receive, send)
        return
    body = await request.body()
    keyed = KeyedRequest.of(principal, key, scope["method"], _path(scope), request.headers.get("content-type"), body)

    deadline = time.monotonic() + WAIT_SECONDS
    outcome = await run_in_threadpool(claim, sessions, keyed)
    while isinstance(outcome, Running) and time.monotonic() < deadline:
        await asyncio.sleep(POLL_SECONDS)
        outcome = await run_in_threadpool(claim, sessions, keyed)
    if isinstance(outcome, Stored):
        headers = {**outcome.answer.headers, REPLAYED: "true"}
        await Response(outcome.answer.body, status_code=outcome.answer.status, headers=headers)(scope, receive, send)
        return
    if isinstance(outcome, Reused):
        error: HubError = IdempotencyKeyReused(
            f"this {HEADER} was used for another request ({outcome.method} {outcome.path}, another body or "
            f"content type) in the last {KEEP.total_seconds() / 3600:g} hours: use a new key for a new request, "
            "and the same request to retry"
        )
        await _problem(request, error)(scope, receive, send)
        return
    if isinstance(outcome, Running):
        error = IdempotencyKeyInUse(
            f"a request with this {HEADER} is still being processed: ask again in a moment for its answer (Retry-After)"
        )
        response = _problem(request, error)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        await response(scope, receive, send)
        return

    captured = _Captured()
    try:
        await handle(_replaying(body, receive), captured.send)
    except Exception:
        await run_in_threadpool(release, sessions, outcome.record_id)
        raise
    answer = captured.answer()
    if answer.status >= 500:  # not an answer to keep: the client may retry with the same key
        await run_in_threadpool(release, sessions, outcome.record_id)
    else:
        try:
            await run_in_threadpool(finish, sessions, outcome.record_id, keyed, answer)
        except Exception:
            log.exception("could not store the answer for an %s; releasing the key", HEADER)
            await run_in_threadpool(release, sessions, outcome.record_id)
    for message in captured.messages:
        await send(message)


def parse_key(values: list[bytes]) -> str:
    """The key of the Idempotency-Key header's values: an RFC 8941 string ("...") or, leniently, the bare value.

    :raises InvalidInput: more than one header, empty, too long, or not visible ASCII.
    """

    def refuse(message: str) -> InvalidInput:
        return InvalidInput(
            f"{HEADER}: {message}", errors=[{"location": ["header", HEADER], "message": message, "type": "value_error"}]
        )

    if len(values) > 1:
        raise refuse(f"send one {HEADER} header, not {len(values)}")
    text = values[0].decode("latin-1").strip()
    quoted = _SF_STRING.fullmatch(text)
    key = re.sub(r'\\(["\\])', r"\1", quoted.group(1)) if quoted else text
    if not key:
        raise refuse("is empty: send a new unique value per request, such as a UUID")
    if len(key) > MAX_KEY_LENGTH:
        raise refuse(f"is {len(key)} characters long; at most {MAX_KEY_LENGTH}")
    if not _VISIBLE_ASCII.fullmatch(key):
        raise refuse("may hold only visible ASCII characters and spaces")
    return key


def _principal(sessions: sessionmaker[Session], authorization: str | None) -> str | None:
    """Whose key space the request uses: its API key's, ANONYMOUS without one, None for a key that is not valid."""
    if not authorization:
        return ANONYMOUS
    with sessions() as session:
        try:
            return f"key:{authenticate(session, authorization).key_id}"
        except Unauthenticated:
            return None


def _path(scope: Scope) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    return scope["path"] + (f"?{query}" if query else "")


def _problem(request: Request, error: HubError) -> Response:
    return problems.problem_response(
        request, problems.status_of(error), error.slug, error.title, error.detail, **error.extra
    )


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the route the body already read, then whatever comes next (a disconnect)."""
    given = False

    async def receive_again() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_again


class _Captured:
    """The route's answer, held back until it is stored (a retry that comes right after finds it)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def send(self, message: Message) -> None:
        self.messages.append(message)

    def answer(self) -> Answer:
        start = next(m for m in self.messages if m["type"] == "http.response.start")
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in start.get("headers", [])
            if name.decode("latin-1").lower() in REPLAYED_HEADERS
        }
        body = b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")
        return Answer(int(start["status"]), headers, body)


# ---------------------------------------------------------------- the store


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class KeyedRequest:
    """A request with an Idempotency-Key, as the store sees it: what is derived from the key, never the key."""

    principal: str
    key_hash: str
    fingerprint: str
    method: str
    path: str
    body_key: bytes  # encrypts the answer's body; never stored

    @classmethod
    def of(
        cls, principal: str, key: str, method: str, path: str, content_type: str | None, body: bytes
    ) -> KeyedRequest:
        media = (content_type or "").split(";")[0].strip().lower()
        request = b"\n".join(
            [part.encode("utf-8", "surrogatepass") for part in (method, path, media)] + [hashlib.sha256(body).digest()]
        )
        fingerprint = hmac.new(_derive(key, principal, b"fingerprint"), request, hashlib.sha256).hexdigest()
        return cls(
            principal=principal,
            key_hash=_derive(key, principal, b"lookup").hex(),
            fingerprint=fingerprint,
            method=method,
            path=path,
            body_key=_derive(key, principal, b"answer"),
        )


def _derive(key: str, principal: str, purpose: bytes) -> bytes:
    """32 bytes for `purpose`, from the Idempotency-Key (HKDF-SHA256, bound to the principal)."""
    info = purpose + b"\0" + principal.encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=info).derive(key.encode("latin-1"))


def seal(request: KeyedRequest, status: int, body: bytes) -> bytes:
    """The answer's body encrypted (AES-256-GCM, a random nonce first), bound to its record and status."""
    nonce = os.urandom(12)
    return nonce + AESGCM(request.body_key).encrypt(nonce, body, _associated(request, status))


def unseal(request: KeyedRequest, status: int, sealed: bytes) -> bytes:
    """:raises cryptography.exceptions.InvalidTag: not sealed with this request's key (or altered)."""
    return AESGCM(request.body_key).decrypt(sealed[:12], sealed[12:], _associated(request, status))


def _associated(request: KeyedRequest, status: int) -> bytes:
    return f"{request.principal}\n{request.key_hash}\n{status}".encode()


@dataclass(frozen=True)
class Claimed:
    """The key is ours: do the work, then finish (or release) the record."""

    record_id: int


@dataclass(frozen=True)
class Stored:
    answer: Answer


@dataclass(frozen=True)
class Running:
    """Another request with the key is being processed."""


@dataclass(frozen=True)
class Reused:
    """The key was used for another request."""

    method: str
    path: str


def claim(
    sessions: sessionmaker[Session],
    request: KeyedRequest,
    now: datetime | None = None,
) -> Claimed | Stored | Running | Reused:
    """Claim the request's key (insert its record), or say what holds it: a stored answer, a running request,
    another request. An expired record counts as none; a claim abandoned for LEASE is taken over."""
    now = now or datetime.now(UTC)
    _purge_now_and_then(sessions, now)
    for _ in range(3):
        try:
            with transaction(sessions) as session:
                claimed = IdempotencyRecord(
                    principal=request.principal,
                    key_hash=request.key_hash,
                    fingerprint=request.fingerprint,
                    method=request.method,
                    path=request.path,
                    locked_until=now + LEASE,
                    created_at=now,
                    expires_at=now + KEEP,
                )
                session.add(claimed)
                session.flush()
                return Claimed(claimed.id)
        except IntegrityError:
            pass  # held: see by what
        with transaction(sessions) as session:
            record = session.scalar(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.principal == request.principal, IdempotencyRecord.key_hash == request.key_hash
                )
            )
            if record is None:  # released meanwhile
                continue
            if _aware(record.expires_at) <= now:
                session.delete(record)
                continue
            if not hmac.compare_digest(record.fingerprint, request.fingerprint):
                return Reused(record.method, record.path)
            if record.status is not None:
                body = unseal(request, record.status, record.body or b"")
                return Stored(Answer(record.status, dict(record.headers or {}), body))
            if _aware(record.locked_until) <= now:
                taken = session.execute(
                    update(IdempotencyRecord)
                    .where(
                        IdempotencyRecord.id == record.id,
                        IdempotencyRecord.status.is_(None),
                        IdempotencyRecord.locked_until <= now,
                    )
                    .values(locked_until=now + LEASE)
                    .execution_options(synchronize_session=False)
                ).rowcount  # type: ignore[attr-defined]
                if taken:
                    log.warning("taking over an %s claimed at %s and not answered since", HEADER, record.created_at)
                    return Claimed(record.id)
            return Running()
    return Running()


def finish(sessions: sessionmaker[Session], record_id: int, request: KeyedRequest, answer: Answer) -> None:
    """Store the answer of a claimed key (its body encrypted)."""
    with transaction(sessions) as session:
        session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.id == record_id)
            .values(
                status=answer.status,
                headers=answer.headers,
                body=seal(request, answer.status, answer.body),
                completed_at=datetime.now(UTC),
            )
        )


def release(sessions: sessionmaker[Session], record_id: int) -> None:
    """Give a claimed key up without an answer (5xx, a failure): the next request with it does the work."""
    with transaction(sessions) as session:
        session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id, IdempotencyRecord.status.is_(None))
        )


def purge_expired(sessions: sessionmaker[Session], now: datetime | None = None) -> int:
    """Delete the records past their expiry; how many."""
    with transaction(sessions) as session:
        expired = IdempotencyRecord.expires_at < (now or datetime.now(UTC))
        result = session.execute(delete(IdempotencyRecord).where(expired))
        return int(result.rowcount)  # type: ignore[attr-defined]


_last_purge = -float("inf")
_purge_lock = threading.Lock()


def _purge_now_and_then(sessions: sessionmaker[Session], now: datetime) -> None:
    """Lazily, at most every PURGE_EVERY seconds per process: expired keys go when keys are used."""
    global _last_purge
    with _purge_lock:
        if time.monotonic() - _last_purge < PURGE_EVERY:
            return
        _last_purge = time.monotonic()
    purge_expired(sessions, now)


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes (stored as UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
