"""Values a web process reads again at most every few seconds, not on every request.

For figures that change rarely and cost a query out of proportion to the page that shows
them (the currencies orders are in: a DISTINCT over every order). Each process holds its
own copy; the bound on how stale it may be is stated where each is declared.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

_every: list[Held] = []


class Held(Generic[T]):
    """`read()`'s value, read again once it is `seconds` old."""

    def __init__(self, read: Callable[[], T], seconds: float) -> None:
        self._read = read
        self.seconds = seconds
        self._value: tuple[float, T] | None = None
        self._lock = threading.Lock()
        _every.append(self)

    def __call__(self) -> T:
        held = self._value
        if held is not None and time.monotonic() - held[0] < self.seconds:
            return held[1]
        with self._lock:
            value = self._read()
            self._value = (time.monotonic(), value)
        return value

    def forget(self) -> None:
        self._value = None


def forget_all() -> None:
    """Read every held value afresh on its next use (tests, whose data changes under it)."""
    for held in _every:
        held.forget()
