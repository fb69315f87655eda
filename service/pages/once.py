"""A form that acts once (the partner console's upload and issue-one forms, the graduate's share-link form): sent
again (a double click, a reloaded answer, a second tab) it shows the first answer instead of acting twice, as the
API does for a request with an Idempotency-Key.

    keyed = staff_form_key(request, hub, staff, "partner console upload", UPLOAD_PATH, data, "text/csv", data)
    outcome = await once(hub, keyed, work)      # in a worker thread; work returns the answer (JSON-able)
    Done(answer, replayed) | idempotency.Running | idempotency.Reused

The answers live in the API's idempotency store (service.api.idempotency). They may hold a graduate's holder link,
so the store keeps each encrypted with a key derived from the session's cookie and the form (its file, or its
once-only id), which the database lacks. Work that fails (a refusal, the chain away, a bug) gives the key up, so
the same form may be sent again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from service.api import idempotency
from service.hub import Hub
from service.web import sessions as web_sessions
from service.web import staff as web_staff
from service.web.staff import Staff


@dataclass(frozen=True)
class Done:
    """The form's answer: made now, or `replayed` from its first send."""

    answer: dict[str, Any]
    replayed: bool


def form_key(
    request: Request,
    hub: Hub,
    principal: str,
    purpose: str,
    path: str,
    token: bytes,
    media: str,
    body: bytes,
    *,
    holder: bool = False,
) -> idempotency.KeyedRequest:
    """The store's view of one form of this browser's session (the staff's, or with `holder` the graduate's):
    `token` tells the form apart (its file, or its once-only id), `body` what it asks (the same token with another
    body is idempotency.Reused)."""
    session = web_sessions.session_id(request, web_staff.secure(hub), holder=holder) or ""
    key = hashlib.sha256(purpose.encode() + b"\0" + session.encode() + b"\0" + token).hexdigest()
    return idempotency.KeyedRequest.of(principal, key, "POST", path, media, body)


def staff_form_key(
    request: Request, hub: Hub, staff: Staff, purpose: str, path: str, token: bytes, media: str, body: bytes
) -> idempotency.KeyedRequest:
    """form_key for a signed-in person of the consoles."""
    return form_key(request, hub, f"staff:{staff.account_id}", purpose, path, token, media, body)


async def once(
    hub: Hub, keyed: idempotency.KeyedRequest, work: Callable[[], dict[str, Any]]
) -> Done | idempotency.Running | idempotency.Reused:
    """Do `work` unless this form was sent before: then its stored answer, or what holds the key (another send of
    it still running, or the same form id with other details). All of it runs in one worker thread, so a browser
    that goes away mid-work (the request cancelled) still leaves the answer stored, never a key given up after the
    work was done."""
    return await run_in_threadpool(once_in_thread, hub, keyed, work)


def once_in_thread(
    hub: Hub, keyed: idempotency.KeyedRequest, work: Callable[[], dict[str, Any]]
) -> Done | idempotency.Running | idempotency.Reused:
    """`once` for code that already runs in a worker thread."""
    held = idempotency.claim(hub.sessions, keyed)
    if isinstance(held, idempotency.Stored):
        return Done(json.loads(held.answer.body), replayed=True)
    if not isinstance(held, idempotency.Claimed):
        return held
    try:
        answer = work()
    except BaseException:
        idempotency.release(hub.sessions, held.record_id)
        raise
    idempotency.finish(hub.sessions, held.record_id, keyed, idempotency.Answer(201, {}, json.dumps(answer).encode()))
    return Done(answer, replayed=False)
