"""A run fetches a store's next page while it writes the one before (`read_ahead`): pages in
their order, a failure where its page would have come, and no fetching left behind."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from ordersight.sync.transport import Page, StoreUnavailable, read_ahead


def _page(n: int) -> Page:
    return Page(items=[{"id": n}], next_url=None)


def _fetchers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "store-pages"]


def test_the_next_page_is_fetched_while_the_caller_writes_one():
    second_fetched = threading.Event()

    def pages() -> Iterator[Page]:
        yield _page(1)
        yield _page(2)
        second_fetched.set()
        yield _page(3)

    seen = []
    for page in read_ahead(pages()):
        if page.items[0]["id"] == 1:
            # Fetched one after the other, page 2 would wait for this page to be written.
            assert second_fetched.wait(timeout=10)
        seen.append(page.items[0]["id"])
    assert seen == [1, 2, 3]


def test_a_failure_is_raised_after_the_pages_before_it():
    def pages() -> Iterator[Page]:
        yield _page(1)
        yield _page(2)
        raise StoreUnavailable("the store answered 500")

    seen = []
    with pytest.raises(StoreUnavailable, match="500"):
        for page in read_ahead(pages()):
            seen.append(page.items[0]["id"])
    assert seen == [1, 2]


def test_a_caller_that_stops_early_stops_the_fetching():
    fetched = []

    def endless() -> Iterator[Page]:
        n = 0
        while True:
            n += 1
            fetched.append(n)
            yield _page(n)

    pages = read_ahead(endless())
    assert next(pages).items[0]["id"] == 1
    pages.close()  # as a `for` loop left by an exception does
    for thread in _fetchers():
        thread.join(timeout=10)
    assert not _fetchers()
    # The page taken and at most two ahead of it; nothing after the caller stopped.
    assert len(fetched) <= 3


def test_a_page_that_brings_an_item_again_starts_a_new_write():
    from ordersight.sync.services import _in_writes

    first = Page(items=[{"id": "1", "external_id": "A"}, {"external_id": "B"}], next_url=None)
    # The same order as the ingest knows it (its external id), under another row id.
    again = Page(items=[{"id": "2", "external_id": "A"}], next_url=None)
    other = Page(items=[{"external_id": "C"}], next_url=None)
    writes = list(_in_writes(iter([first, other, again])))
    assert [[item["external_id"] for item in write] for write in writes] == [["A", "B", "C"], ["A"]]
