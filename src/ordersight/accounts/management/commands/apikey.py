"""`ordersight apikey create|list|revoke`: manage API keys from the shell."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ordersight.accounts.models import ApiKey
from ordersight.accounts.services import create_api_key, revoke_api_key
from ordersight.core.errors import DomainError


class Command(BaseCommand):
    help = "Create, list or revoke API keys."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key and print its token once")
        create.add_argument("--name", required=True)
        create.add_argument("--scopes", default="read", help="comma-separated: read,write")
        create.add_argument(
            "--permissions",
            default="",
            help="restrict the key to these comma-separated permissions, e.g. "
            "orders.add_order,orders.view_order",
        )
        create.add_argument("--user", help="username recorded as the key's creator")
        sub.add_parser("list", help="list keys (never their tokens)")
        revoke = sub.add_parser("revoke", help="revoke a key by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except DomainError as exc:
            raise CommandError(f"{exc.message} {exc.fields}") from exc

    def _create(self, options: dict[str, Any]) -> None:
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no user named {options['user']}")
        key, token = create_api_key(
            name=options["name"],
            scopes=options["scopes"],
            permissions=options["permissions"],
            created_by=user,
        )
        limited = f", restricted to {','.join(key.permissions)}" if key.permissions else ""
        self.stdout.write(
            f"Created API key {key.name!r} with scopes {','.join(key.scopes)}{limited}."
        )
        self.stdout.write("Token (shown once, store it now):")
        self.stdout.write(token)

    def _list(self, options: dict[str, Any]) -> None:
        for key in ApiKey.objects.all():
            state = "revoked" if key.revoked_at else "active"
            used = key.last_used_at.isoformat() if key.last_used_at else "never"
            self.stdout.write(
                f"{key.prefix}  {state:8}  {','.join(key.scopes):11}  last used {used}  {key.name}"
            )

    def _revoke(self, options: dict[str, Any]) -> None:
        key = revoke_api_key(prefix=options["prefix"])
        self.stdout.write(f"Revoked {key}.")
