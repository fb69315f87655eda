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
from service.issuing.identity import IssuerIdentity, did_web
from service.issuing.signing_keys import dev_signing_key
from service.issuing.status_lists import StatusLists
from tests.postgres import Postgres

ISSUER = "0x70997970C51812dc3A010C7d01b50e20d4dc79C8"
PROCESSES = 4
ROUNDS = 12
COHORT = 3_000  # 4 x 12 x 3,000 = 144,000 > 131,072: the processes also race to open list 2


def _identity(address: str) -> IssuerIdentity:
    """A partner's identity as the hub's directory gives it (development key; the slug from the address)."""
    slug = address[2:].lower()
    return IssuerIdentity(address, slug, did_web("http://hub.example", slug), dev_signing_key(address))


def _lists(url: str) -> StatusLists:
    sessions = make_sessionmaker(make_engine(url))
    return StatusLists(
        sessions,
        public_url="http://hub.example",
        registry_address="0x5FbDB2315678afecb367f032d93F642f64180aa3",
        identities=_identity,
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


def test_the_largest_cohort_records_its_status_entries(postgres: Postgres) -> None:
    """HUB_MAX_BATCH_SIZE (20,000) credentials: five parameters each would overflow one multi-row VALUES
    (PostgreSQL's protocol allows 65,535 parameters, SQLite's default build 32,766); as executemany they fit."""
    from sqlalchemy import func, insert

    from service.db.models import Batch, Credential, Programme, StatusEntry
    from service.db.session import transaction
    from service.settings import Settings

    count = Settings(_env_file=None).max_batch_size
    url = postgres.new_database()
    engine = make_engine(url)
    migrate(engine)
    lists = _lists(url)
    allocation = lists.allocate(ISSUER, count)
    ids = [f"00000000-0000-4000-8000-{n:012x}" for n in range(count)]
    with transaction(lists.sessions) as session:
        session.add(
            Programme(
                id="p",
                name="p",
                theme="Blockchain",
                description="d",
                criteria="c",
                achievement_type="Course",
                ects=1,
                eqf_level=5,
                issuer_address=ISSUER,
            )
        )
        session.add(Batch(id="b", issuer_address=ISSUER, status="pending", count=count, root="0x" + "00" * 32))
        session.flush()
        session.execute(
            insert(Credential),
            [
                {
                    "id": credential_id,
                    "batch_id": "b",
                    "position": n,
                    "programme_id": "p",
                    "issuer_address": ISSUER,
                    "digest": f"0x{n:064x}",
                    "document": {},
                    "disclosures": [],
                    "holder_token_hash": f"{n:064x}",
                    "share_token": f"s{n}",
                }
                for n, credential_id in enumerate(ids)
            ],
        )
        StatusLists.record(session, allocation, [(credential_id, f"0x{n:064x}") for n, credential_id in enumerate(ids)])
    with lists.sessions() as session:
        assert session.scalar(select(func.count()).select_from(StatusEntry)) == count
    engine.dispose()
