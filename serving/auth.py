"""Users, API keys and bearer tokens (no FastAPI here): keys are stored as SHA-256 of their secret.

A token is either an API key ``ark_<key_id>_<secret>`` or a JWT (HS256, ``settings.jwt_secret``) whose
``sub`` is a user id. Either way the user must exist and be active.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Engine, select

from arrisk.errors import NotFoundError, PermissionDenied, ValidationError
from arrisk.store.audit import record_row, row_dict
from arrisk.store.db import session_scope
from serving.tables import ApiKey, User

KEY_PREFIX = "ark_"


class Role(enum.StrEnum):
    collector = "collector"
    credit_analyst = "credit_analyst"
    data_scientist = "data_scientist"
    admin = "admin"


class AuthenticationError(PermissionDenied):
    """No or a bad token: HTTP 401 rather than 403."""

    http_status = 401


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user, their role and, for collectors, whose portfolio they own."""

    user_id: str
    name: str
    role: Role
    collector_id: str | None

    def sees_customer_of(self, collector_id: str | None) -> bool:
        return self.role != Role.collector or (collector_id is not None and collector_id == self.collector_id)


class TokenCache:
    """Principals of recently seen tokens for ``ttl`` seconds: a deactivated user or revoked key stops
    working within that time, and a hot endpoint skips two queries per request."""

    def __init__(self, ttl: float = 30.0, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._data: dict[str, tuple[float, Principal]] = {}

    def get(self, token: str) -> Principal | None:
        hit = self._data.get(_hash(token))
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, token: str, principal: Principal) -> None:
        if len(self._data) >= self.size:
            self._data.clear()
        self._data[_hash(token)] = (time.monotonic() + self.ttl, principal)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_user(
    engine: Engine, *, name: str, role: str, collector_id: str | None = None, actor: str = "cli"
) -> tuple[str, str]:
    """Create a user with one API key; returns (user_id, token). The token is never stored."""
    try:
        role_ = Role(role)
    except ValueError as err:
        raise ValidationError(f"role {role!r} is not one of {[r.value for r in Role]}") from err
    if role_ == Role.collector and not collector_id:
        raise ValidationError("role collector needs --collector-id (the portfolio the user works)")
    user_id = f"u_{secrets.token_hex(6)}"
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(24)
    with session_scope(engine) as session:
        now = dt.datetime.now(dt.UTC)
        user = User(
            user_id=user_id,
            name=name,
            role=role_.value,
            collector_id=collector_id,
            created_at=now,
            active=True,
        )
        session.add(user)
        session.flush()
        session.add(ApiKey(key_id=key_id, user_id=user_id, secret_hash=_hash(secret), created_at=now))
        record_row(session, user, actor=actor, action="create")
    return user_id, f"{KEY_PREFIX}{key_id}_{secret}"


def issue_jwt(user_id: str, *, secret: str, algorithm: str = "HS256", ttl_minutes: int = 60) -> str:
    import jwt

    now = dt.datetime.now(dt.UTC)
    return jwt.encode(
        {"sub": user_id, "iat": now, "exp": now + dt.timedelta(minutes=ttl_minutes)},
        secret,
        algorithm=algorithm,
    )


def _user_id_from_token(engine: Engine, token: str, *, jwt_secret: str, algorithm: str) -> str:
    if token.startswith(KEY_PREFIX):
        key_id, _, secret = token.removeprefix(KEY_PREFIX).partition("_")
        with engine.connect() as conn:
            row = conn.execute(
                select(ApiKey.user_id, ApiKey.secret_hash, ApiKey.revoked_at).where(ApiKey.key_id == key_id)
            ).first()
        if (
            row is None
            or row.revoked_at is not None
            or not hmac.compare_digest(row.secret_hash, _hash(secret))
        ):
            raise AuthenticationError("bearer token: unknown or revoked API key")
        return str(row.user_id)
    import jwt

    try:
        claims = jwt.decode(token, jwt_secret, algorithms=[algorithm], options={"require": ["sub", "exp"]})
    except jwt.PyJWTError as err:
        raise AuthenticationError(f"bearer token: not a valid API key or JWT ({err})") from err
    return str(claims["sub"])


def authenticate(engine: Engine, token: str, *, jwt_secret: str, algorithm: str = "HS256") -> Principal:
    """The active user behind ``token``; AuthenticationError (401) otherwise."""
    user_id = _user_id_from_token(engine, token, jwt_secret=jwt_secret, algorithm=algorithm)
    with engine.connect() as conn:
        user = conn.execute(select(User).where(User.user_id == user_id)).first()
    if user is None or not user.active:
        raise AuthenticationError(f"bearer token: user {user_id!r} does not exist or is inactive")
    return Principal(
        user_id=user.user_id, name=user.name, role=Role(user.role), collector_id=user.collector_id
    )


def list_users(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(select(User).order_by(User.created_at)).all()
    return [dict(r._mapping) for r in rows]


def deactivate_user(engine: Engine, user_id: str, *, actor: str) -> None:
    with session_scope(engine) as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFoundError(f"user {user_id!r} not found")
        before = row_dict(user)
        user.active = False
        record_row(session, user, actor=actor, action="deactivate", before=before)
