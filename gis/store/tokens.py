"""Bearer tokens: generated once, stored only as a hash, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

__all__ = ["ROLES", "Principal", "can", "hash_secret", "new_token", "split_token", "verify_secret"]

Role = Literal["viewer", "editor", "auditor"]
ROLES: tuple[Role, ...] = ("viewer", "editor", "auditor")

#: what each role may do; every role reads
_PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "editor": frozenset({"read", "edit"}),
    "auditor": frozenset({"read", "ledger"}),
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name (shown as `actor` in history) and role."""

    token_id: str
    name: str
    role: Role


def can(role: str, action: str) -> bool:
    """Whether `role` may do `action` (``read``, ``edit`` or ``ledger``).

    >>> can("editor", "edit"), can("auditor", "edit"), can("viewer", "read")
    (True, False, True)
    """
    return action in _PERMISSIONS.get(role, frozenset())


def new_token() -> tuple[str, str, str]:
    """A fresh token: ``(token_id, secret, token)`` where ``token = "lr_<id>_<secret>"``.

    Only the id and ``hash_secret(secret)`` are stored; the token is shown to the user once.
    """
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return token_id, secret, f"lr_{token_id}_{secret}"


def split_token(token: str) -> tuple[str, str] | None:
    """``(token_id, secret)`` of a well-formed token, else None."""
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != "lr" or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def hash_secret(secret: str) -> str:
    """SHA-256 of the secret. The secret has 256 random bits, so no salt or slow hash is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


def verify_secret(secret: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented secret with the stored hash."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)
