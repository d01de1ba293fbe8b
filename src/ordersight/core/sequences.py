"""Human numbers handed out from `Sequence` rows, locked so concurrent writers never collide."""

from collections.abc import Callable

from django.db import transaction

from ordersight.core.models import Sequence


@transaction.atomic
def reserve_numbers(name: str, count: int = 1, *, start: int = 1) -> range:
    """Reserve `count` consecutive numbers from the named sequence and return them."""
    Sequence.objects.get_or_create(name=name, defaults={"last_value": start - 1})
    seq = Sequence.objects.select_for_update().get(name=name)
    first = seq.last_value + 1
    seq.last_value += count
    seq.save(update_fields=["last_value"])
    return range(first, first + count)


def next_number(name: str, *, start: int = 1) -> int:
    return reserve_numbers(name, 1, start=start)[0]


def next_free_number(name: str, taken: Callable[[int], bool], *, start: int = 1) -> int:
    """The next number of the sequence that nobody took by hand (numbers may also be chosen
    explicitly, so the sequence skips past those instead of colliding with them)."""
    number = next_number(name, start=start)
    while taken(number):
        number = next_number(name, start=start)
    return number
