"""Status list indexes handed out by several processes at once on one PostgreSQL database: never the same one.

Each process is a separate Python interpreter (spawn) with its own engine, as several service processes are.
The cluster is the session's `postgres` fixture (tests/postgres.py): without PostgreSQL these tests are skipped
(outside CI).
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from typing import Any

from sqlalchemy import select

from service.credentials.status_list import LIST_BITS
from service.db.migrate import migrate
from service.db.models import StatusList
from service.db.session import make_engine, make_sessionmaker
from service.issuing.interim_identity import interim_identities
from service.issuing.status_lists import StatusLists
from tests.postgres import Postgres

ISSUER = "0x70997970C51812dc3A010C7d01b50e20d4dc79C8"
PROCESSES = 4
ROUNDS = 12
COHORT = 3_000  # 4 x 12 x 3,000 = 144,000 > 131,072: the processes also race to open list 2


def _lists(url: str) -> StatusLists:
    sessions = make_sessionmaker(make_engine(url))
    return StatusLists(
        sessions,
        public_url="http://hub.example",
        registry_address="0x5FbDB2315678afecb367f032d93F642f64180aa3",
        identities=interim_identities("http://hub.example", 31337),
        sign=lambda *args, **kwargs: {},
    )


def _allocate(url: str, barrier: Any, rounds: int, count: int) -> list[tuple[int, int]]:
    lists = _lists(url)
    barrier.wait()
    taken: list[tuple[int, int]] = []
    for _ in range(rounds):
        allocation = lists.allocate(ISSUER, count)
        taken.extend((allocation.list_number, index) for index in allocation.indexes)
    return taken


def test_processes_allocating_at_once_get_distinct_indexes(postgres: Postgres) -> None:
    url = postgres.new_database()
    engine = make_engine(url)
    migrate(engine)
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(PROCESSES)
        with context.Pool(PROCESSES) as pool:
            results = pool.starmap(_allocate, [(url, barrier, ROUNDS, COHORT)] * PROCESSES)
    taken = [pair for result in results for pair in result]
    assert len(taken) == PROCESSES * ROUNDS * COHORT
    assert len(set(taken)) == len(taken), "two credentials got the same status index"
    assert all(0 <= index < LIST_BITS for _, index in taken)
    per_list = Counter(number for number, _ in taken)
    with make_sessionmaker(engine)() as session:
        stored = {row.number: row.allocated for row in session.scalars(select(StatusList))}
    # what each list says it handed out is what the processes got; list 1 was filled as far as cohorts fit
    assert stored == dict(per_list) and set(stored) == {1, 2}
    assert LIST_BITS - COHORT < stored[1] <= LIST_BITS
    engine.dispose()
