"""Who is acting, and the role rules every collector record checks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final

from arrisk.errors import PermissionDenied

WRITE_ROLES: Final = frozenset({"admin", "credit_analyst", "collector"})
APPROVER_ROLES: Final = frozenset({"admin", "credit_analyst"})


@dataclass(frozen=True)
class Actor:
    """A user id and role, as the API's auth or the CLI's ``--user/--role`` gives them."""

    user_id: str
    role: str

    def __str__(self) -> str:
        return self.user_id


SYSTEM = Actor(user_id="system", role="admin")


def require_role(actor: Actor, roles: frozenset[str], *, action: str) -> None:
    if actor.role not in roles:
        allowed = ", ".join(sorted(roles))
        raise PermissionDenied(
            f"{action}: user {actor.user_id} has role {actor.role!r}; needs one of {allowed}"
        )


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
