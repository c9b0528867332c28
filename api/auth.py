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

__all__ = ["TOKEN_COOKIE", "authenticate", "edit_store", "remember_page_token", "require", "require_read"]

#: a browser cannot add an Authorization header to the map's script, style and tile requests: under
#: ``--auth all`` the page is opened once as ``/?access_token=…`` (RFC 6750 §2.3) and this cookie carries it
TOKEN_COOKIE = "landready_token"

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
        token = request.query_params.get("access_token") or request.cookies.get(TOKEN_COOKIE)
        return token.strip() if token and token.strip() else None
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


def remember_page_token(app: Any) -> None:
    """Keep a token given as ``?access_token=`` in an HttpOnly same-site cookie, for the map page's requests."""

    @app.middleware("http")
    async def _remember(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        token = request.query_params.get("access_token")
        if token and response.status_code < 400:
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return response
