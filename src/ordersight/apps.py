"""The project itself as a Django app: installs the order lifecycle (and the one filter of
orders that payments answers) and owns `demo`."""

from django.apps import AppConfig


class OrdersightConfig(AppConfig):
    name = "ordersight"
    verbose_name = "ordersight"

    def ready(self) -> None:
        # Imported here, not at the top: the handlers import models, which only exist
        # once the app registry is ready.
        from ordersight.lifecycle import FACTS, PROJECTIONS, REACTIONS
        from ordersight.orders.filters import install_paid_through
        from ordersight.orders.lifecycle import install
        from ordersight.payments.selectors import paid_through

        install(reactions=REACTIONS, projections=PROJECTIONS, facts=FACTS)
        install_paid_through(paid_through)
