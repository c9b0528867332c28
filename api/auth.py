"""Bearer tokens at the HTTP edge (CONTRACT §5.1): who is calling, and may they read, edit or keep the ledger.

``--auth writes`` (the default) lets anyone read; ``--auth all`` wants at least a viewer token for reads too. A
missing or unknown token is 401 with ``WWW-Authenticate: Bearer``; a token whose role may not do the thing is 403.
Tokens are checked against the store's hashes once, then remembered in memory (a token cannot be changed through
the API, so a remembered answer stays true).
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from fastapi import Request

from gis.errors import ForbiddenError, UnauthorizedError
from gis.store.tokens import Principal, can

__all__ = ["authenticate", "edit_store", "require", "require_read"]

Action = Literal["read", "edit", "ledger"]

#: what each action is called in a 403 message
_NEEDS = {"read": "viewer", "edit": "editor", "ledger": "auditor"}
_KNOWN_LIMIT = 10_000
_lock = threading.Lock()


def edit_store(request: Request) -> Any:
    """The app's `gis.store.Store`, or None when it serves data it cannot write (tests, read-only results)."""
    return getattr(request.app.state, "edit_store", None)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def authenticate(request: Request) -> Principal | None:
    """The caller's principal; None without an Authorization header; UnauthorizedError for a bad token."""
    token = _bearer(request)
    if token is None:
        return None
    state = request.app.state
    known: dict[str, Principal] | None = getattr(state, "known_tokens", None)
    if known is None:
        with _lock:
            known = getattr(state, "known_tokens", None)
            if known is None:
                known = state.known_tokens = {}
    principal = known.get(token)
    if principal is not None:
        return principal
    store = edit_store(request)
    principal = store.authenticate(token) if store is not None else None
    if principal is None:
        raise UnauthorizedError("unknown or invalid token")
    if len(known) < _KNOWN_LIMIT:
        known[token] = principal
    return principal


def require(request: Request, action: Action) -> Principal:
    """The caller's principal if their token allows `action`; 401 without a valid token, 403 for a wrong role."""
    principal = authenticate(request)
    if principal is None:
        raise UnauthorizedError(f"this needs a bearer token of role {_NEEDS[action]}")
    if not can(principal.role, action):
        raise ForbiddenError(f"role {principal.role} may not do this; it needs role {_NEEDS[action]}")
    return principal


async def require_read(request: Request) -> None:
    """App-wide dependency: under ``--auth all`` every request but ``/healthz`` needs a token that may read.

    It is ``async`` so that FastAPI runs it inline (no thread-pool hop per request); after a token's first use the
    check is a dictionary lookup.
    """
    if request.app.state.settings.auth == "all" and request.url.path != "/healthz":
        require(request, "read")
