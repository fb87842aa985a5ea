"""The sent-ledger claimed a batch at a time: exactly once between claimers, all or nothing."""

from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from bot.core.clock import FixedClock
from storage.engine import session_factory
from storage.ledger import Claim, Key, Ledger
from tests.conftest import add_users, migrated_engine

DAY = date(2021, 4, 8)
PEOPLE = range(100, 300)


def users_in(url: str, clock: FixedClock) -> None:
    engine = migrated_engine(url)
    add_users(engine, PEOPLE, clock.now())
    engine.dispose()


def test_two_claimers_win_each_row_exactly_once(db_url: str, clock: FixedClock) -> None:
    """Two processes (each its own engine) claim the same 200 reminders in batches of 10,
    in opposite orders and at the same time: every one is won by exactly one of them."""
    users_in(db_url, clock)
    keys: list[Key] = [(u, DAY, "reminder") for u in PEOPLE]
    engines = [migrated_engine(db_url) for _ in range(2)]
    ledgers = [Ledger(session_factory(e), clock) for e in engines]
    won: list[set[Key]] = [set(), set()]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def claimer(i: int) -> None:
        order = keys if i == 0 else keys[::-1]
        try:
            start.wait()
            for n in range(0, len(order), 10):
                batch = [Claim(*k) for k in order[n : n + 10]]
                won[i] |= ledgers[i].claim_many(batch)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert won[0].isdisjoint(won[1])
    assert won[0] | won[1] == set(keys)
    assert ledgers[0].present(keys) == set(keys)
    # and a third claim of any of them, alone or in a batch, wins nothing
    assert ledgers[1].claim_many([Claim(*k) for k in random.sample(keys, 30)]) == set()
    assert not ledgers[0].claim(PEOPLE[0], DAY, "reminder")
    for e in engines:
        e.dispose()


def test_a_batch_claims_a_key_once_and_says_what_it_won(db_url: str, clock: FixedClock) -> None:
    users_in(db_url, clock)
    engine = migrated_engine(db_url)
    ledger = Ledger(session_factory(engine), clock)
    assert ledger.claim(100, DAY, "reminder")  # claimed one by one before
    won = ledger.claim_many(
        [
            Claim(100, DAY, "reminder"),
            Claim(101, DAY, "reminder", "skipped"),
            Claim(101, DAY, "reminder"),  # listed twice: the first one counts
            Claim(101, DAY, "digest"),
        ]
    )
    assert won == {(101, DAY, "reminder"), (101, DAY, "digest")}
    assert ledger.status(101, DAY, "reminder") == "skipped"
    ledger.release_many([(101, DAY, "reminder"), (102, DAY, "reminder")])
    assert ledger.status(101, DAY, "reminder") is None
    assert ledger.status(101, DAY, "digest") == "sent"
    assert ledger.claim_many([Claim(101, DAY, "reminder")]) == {(101, DAY, "reminder")}
    assert ledger.claim_many([]) == set()
    engine.dispose()


def test_a_batch_that_fails_midway_claims_nothing(db_url: str, clock: FixedClock) -> None:
    """One INSERT for the batch: a row the database refuses (here, a user it does not know)
    fails the whole batch, so none of it reads "sent" for a message that never went out;
    the batch claimed again (without that row) wins every one."""
    users_in(db_url, clock)
    engine = migrated_engine(db_url)
    ledger = Ledger(session_factory(engine), clock)
    batch = [Claim(u, DAY, "reminder") for u in PEOPLE[:10]]
    with pytest.raises(IntegrityError):
        ledger.claim_many([*batch[:5], Claim(99_999, DAY, "reminder"), *batch[5:]])
    assert ledger.present(c.key for c in batch) == set()
    assert ledger.claim_many(batch) == {c.key for c in batch}
    engine.dispose()


def test_the_day_is_part_of_the_key(db_url: str, clock: FixedClock) -> None:
    users_in(db_url, clock)
    engine = migrated_engine(db_url)
    ledger = Ledger(session_factory(engine), FixedClock(datetime(2021, 4, 9, tzinfo=UTC)))
    today = [Claim(u, DAY, "reminder") for u in PEOPLE[:3]]
    tomorrow = [Claim(u, date(2021, 4, 9), "reminder") for u in PEOPLE[:3]]
    assert len(ledger.claim_many(today)) == 3
    assert ledger.claim_many([*today, *tomorrow]) == {c.key for c in tomorrow}
    engine.dispose()
