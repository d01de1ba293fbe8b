"""Number series: unique and increasing everywhere; on PostgreSQL, orders and invoices never
wait for another transaction's numbers."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from ordersight.core.sequences import (
    DATABASE_SEQUENCES,
    move_numbers_past,
    next_free_number,
    reserve_numbers,
)
from tests.threads import run_together

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("series", ["order", "invoice", "offer"])
def test_numbers_are_unique_and_increasing(series):
    first = list(reserve_numbers(series, 3, start=1001))
    second = list(reserve_numbers(series, 2, start=1001))
    assert first == sorted(first) and second == sorted(second)
    assert len(set(first + second)) == 5
    assert min(second) > max(first)
    assert min(first) >= 1001 or series != "offer"


@pytest.mark.parametrize("series", ["order", "offer"])
def test_moving_past_loaded_numbers(series):
    (before,) = reserve_numbers(series, 1, start=1001)
    move_numbers_past(series, before + 500)
    assert reserve_numbers(series, 1, start=1001)[0] == before + 501
    # Moving back is refused: numbers never repeat.
    move_numbers_past(series, before)
    assert reserve_numbers(series, 1, start=1001)[0] == before + 502


def test_next_free_number_skips_numbers_taken_by_hand():
    (last,) = reserve_numbers("order", 1, start=1001)
    taken = {last + 1, last + 2}
    assert next_free_number("order", lambda n: n in taken, start=1001) == last + 3


@pytest.mark.postgres_only
def test_order_and_invoice_numbers_do_not_wait_for_an_open_transaction():
    """A writer holding numbers in an open transaction does not hold up a second writer,
    which a locked counter row would (the second would wait for the first's commit)."""
    assert set(DATABASE_SEQUENCES) == {"order", "invoice"}
    holding, release = threading.Event(), threading.Event()

    def work(role: str) -> list[int]:
        if role == "first":
            with transaction.atomic():
                numbers = list(reserve_numbers("order", 10, start=1001))
                holding.set()
                assert release.wait(10)
            return numbers
        assert holding.wait(10)
        with transaction.atomic():
            numbers = list(reserve_numbers("order", 10, start=1001))
        # Got its numbers while the first transaction is still open.
        release.set()
        return numbers

    first, second = run_together(work, ["first", "second"])
    assert not set(first) & set(second)
    assert min(second) > max(first)


@pytest.mark.postgres_only
def test_a_rolled_back_number_is_skipped_not_reused():
    with pytest.raises(RuntimeError), transaction.atomic():
        (lost,) = reserve_numbers("invoice", 1, start=5001)
        raise RuntimeError("the write failed")
    (after,) = reserve_numbers("invoice", 1, start=5001)
    assert after == lost + 1


@pytest.mark.postgres_only
def test_the_sequences_exist_after_migrating():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'S' AND relname = ANY(%s)",
            [list(DATABASE_SEQUENCES.values())],
        )
        assert {row[0] for row in cursor.fetchall()} == set(DATABASE_SEQUENCES.values())
