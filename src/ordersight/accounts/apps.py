from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "ordersight.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from ordersight.accounts.roles import ensure_roles_after_migrate

        # Permissions only exist after migrate, so the role groups are kept in step then.
        post_migrate.connect(ensure_roles_after_migrate, dispatch_uid="ordersight_roles")
