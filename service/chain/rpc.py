"""The JSON-RPC transport the service's web3 uses: web3's HTTPProvider, with retries as a hosted node needs them.

A request that could not connect, timed out, or got HTTP 429 (rate limited) or 502/503/504 is sent again, up to
`retries` times, after a wait drawn at random between 0 and `backoff`·2ⁿ seconds ("full jitter": processes
that were refused together do not come back together), or after the node's Retry-After when it sends one (at
most `max_wait`). Every JSON-RPC method is retried: reads change nothing, and a signed transaction sent twice is
the same transaction ("already known"). What still fails is raised as web3 would raise it.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any

from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import HTTPError, Timeout
from web3 import HTTPProvider
from web3.types import RPCEndpoint

log = logging.getLogger(__name__)

RETRIED_STATUSES = frozenset({429, 502, 503, 504})


class RetryingHTTPProvider(HTTPProvider):
    def __init__(
        self, endpoint_uri: str, *, retries: int = 3, backoff: float = 0.1, max_wait: float = 10.0, **kwargs: Any
    ) -> None:
        super().__init__(endpoint_uri, exception_retry_configuration=None, **kwargs)
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait

    def _make_request(self, method: RPCEndpoint, request_data: bytes) -> bytes:
        for attempt in range(self.retries + 1):
            try:
                return super()._make_request(method, request_data)
            except (RequestsConnectionError, Timeout, HTTPError) as exc:
                status = exc.response.status_code if isinstance(exc, HTTPError) and exc.response is not None else None
                if attempt == self.retries or (isinstance(exc, HTTPError) and status not in RETRIED_STATUSES):
                    raise
                wait = self._wait(attempt, exc)
                log.info(
                    "rpc: %s failed (%s); retry %d of %d in %.2f s",
                    method,
                    status or type(exc).__name__,
                    attempt + 1,
                    self.retries,
                    wait,
                )
                time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, attempt: int, exc: Exception) -> float:
        response = getattr(exc, "response", None)
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after is not None:
            try:
                return min(max(0.0, float(retry_after)), self.max_wait)
            except ValueError:
                pass  # an HTTP date: use the backoff
        return random.uniform(0, min(self.max_wait, self.backoff * 2**attempt))  # noqa: S311 - jitter, not secrets
