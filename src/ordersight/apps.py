"""The project itself as a Django app: installs the order lifecycle and owns `demo`."""

from django.apps import AppConfig


class OrdersightConfig(AppConfig):
    name = "ordersight"
    verbose_name = "ordersight"

    def ready(self) -> None:
        # Imported here, not at the top: the handlers import models, which only exist
        # once the app registry is ready.
        from ordersight.lifecycle import HANDLERS
        from ordersight.orders.lifecycle import install

        install(HANDLERS)
