"""Human numbers handed out from `Sequence` rows, locked so concurrent writers never collide."""

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
