"""Requests waiting for their batch: POST /credentials answers once its batch is anchored (or failed), or when
HUB_REQUEST_WAIT has passed.

The waiting is asynchronous and shared: however many requests of this process wait, one query every `interval`
seconds reads the status of all their batches (on any process's database writes, whoever leads), and no
thread is held while waiting.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from service.db import models
from service.issuing.states import BatchStatus

DONE = frozenset({BatchStatus.ANCHORED, BatchStatus.FAILED})


class BatchWaiter:
    def __init__(self, sessions: sessionmaker[Session], *, interval: float = 0.1) -> None:
        self.sessions = sessions
        self.interval = interval
        self._waiting: dict[str, list[asyncio.Future[BatchStatus]]] = {}
        self._poller: asyncio.Task[None] | None = None

    async def wait(self, batch_id: str, timeout: float) -> BatchStatus:
        """The batch's status once anchored or failed, or as it is after `timeout` seconds."""
        future: asyncio.Future[BatchStatus] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(batch_id, []).append(future)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll())
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return (await run_in_threadpool(self._statuses, [batch_id]))[batch_id]
        finally:
            futures = self._waiting.get(batch_id, [])
            with contextlib.suppress(ValueError):
                futures.remove(future)
            if not futures:
                self._waiting.pop(batch_id, None)

    async def _poll(self) -> None:
        while self._waiting:
            statuses = await run_in_threadpool(self._statuses, list(self._waiting))
            for batch_id, status in statuses.items():
                if status in DONE:
                    for future in self._waiting.get(batch_id, []):
                        if not future.done():
                            future.set_result(status)
            await asyncio.sleep(self.interval)

    def _statuses(self, batch_ids: list[str]) -> dict[str, BatchStatus]:
        with self.sessions() as session:
            rows = session.execute(select(models.Batch.id, models.Batch.status).where(models.Batch.id.in_(batch_ids)))
            return {batch_id: BatchStatus(status) for batch_id, status in rows}
