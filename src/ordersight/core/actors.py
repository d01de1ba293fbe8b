"""Who did something: a signed-in user, an API key, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from django.utils.translation import gettext as _

from ordersight.core.errors import Forbidden

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class ApiKeyLike(Protocol):
    """What an actor needs of an API key (the model lives in accounts, above core)."""

    pk: int
    name: str

    def has_perm(self, perm: str) -> bool: ...


@dataclass(frozen=True)
class Actor:
    user: AbstractBaseUser | None = None
    api_key: ApiKeyLike | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls()

    @property
    def kind(self) -> str:
        if self.user is not None:
            return "user"
        if self.api_key is not None:
            return "api_key"
        return "system"

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        if self.api_key is not None:
            return f"API key {self.api_key.name}"
        return "system"

    def has_perm(self, perm: str) -> bool:
        """Users need the Django permission, API keys theirs (see ApiKey.has_perm); the
        system itself may do anything."""
        if self.user is not None:
            return self.user.has_perm(perm)
        if self.api_key is not None:
            return self.api_key.has_perm(perm)
        return True

    def require(self, perm: str) -> None:
        """Raise Forbidden naming `perm` unless this actor holds it (what a service checks
        whoever calls it: page, API or task)."""
        if not self.has_perm(perm):
            raise Forbidden(
                _("This needs the permission {perm}.").format(perm=perm),
                fields={"permission": perm},
            )
