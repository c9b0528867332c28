"""Errors to HTTP, in one place: every error response is JSON ``{"code", "description"}``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis.errors import (
    ConflictError,
    ForbiddenError,
    InputError,
    LandreadyError,
    NotFoundError,
    PreconditionFailedError,
    PreconditionRequiredError,
    UnauthorizedError,
)

__all__ = ["STATUS_BY_ERROR", "NotAcceptableError", "add_error_handlers", "error_response"]

log = logging.getLogger(__name__)


class NotAcceptableError(LandreadyError):
    """The client asked for a representation we do not produce."""


#: domain error -> (HTTP status, OGC exception code); subclasses inherit their base's entry
STATUS_BY_ERROR: dict[type[Exception], tuple[int, str]] = {
    InputError: (400, "InvalidParameterValue"),
    NotFoundError: (404, "NotFound"),
    NotAcceptableError: (406, "NotAcceptable"),
    ConflictError: (409, "Conflict"),
    PreconditionFailedError: (412, "PreconditionFailed"),
    PreconditionRequiredError: (428, "PreconditionRequired"),
    UnauthorizedError: (401, "Unauthorized"),
    ForbiddenError: (403, "Forbidden"),
}

_CODE_BY_STATUS = {
    400: "InvalidParameterValue",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    412: "PreconditionFailed",
    428: "PreconditionRequired",
}


def error_response(status: int, code: str, description: str) -> JSONResponse:
    """The one shape of every error body."""
    return JSONResponse({"code": code, "description": description}, status_code=status)


def _domain_handler(status: int, code: str) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handler(request: Request, exc: Exception) -> JSONResponse:
        response = error_response(status, code, str(exc))
        if status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    return handler


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    # FastAPI's own parameter parsing: a bad request, not 422, and in our error shape
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body"))
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid")))
    return error_response(400, "InvalidParameterValue", "; ".join(parts) or "invalid request")


async def _http_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _CODE_BY_STATUS.get(exc.status_code, "ServerError" if exc.status_code >= 500 else "BadRequest")
    response = error_response(exc.status_code, code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _internal_handler(request: Request, exc: Exception) -> JSONResponse:
    log.exception("internal error on %s", request.url.path, exc_info=exc)
    return error_response(500, "ServerError", "internal error; see the server log")


def add_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into ``{"code", "description"}``."""
    for exc_type, (status, code) in STATUS_BY_ERROR.items():
        app.add_exception_handler(exc_type, _domain_handler(status, code))
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(Exception, _internal_handler)
