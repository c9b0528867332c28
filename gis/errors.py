"""Errors of the domain layer; the CLI maps `InputError` to exit 2 and the API to 4xx."""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "ForbiddenError",
    "InputError",
    "LandreadyError",
    "NotFoundError",
    "PreconditionFailedError",
    "PreconditionRequiredError",
    "UnauthorizedError",
]


class LandreadyError(Exception):
    """Base of every error landready raises on purpose."""


class InputError(LandreadyError):
    """The user's data or arguments are wrong.

    The message names where: file, layer, feature and field, whichever are known, so that a planner can find the
    bad cell in their own data without reading a traceback.
    """

    def __init__(
        self,
        message: str,
        *,
        file: object | None = None,
        layer: str | None = None,
        feature: object | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.layer = layer
        self.feature = None if feature is None else str(feature)
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [
            f"{label} {value}"
            for label, value in (
                ("file", self.file),
                ("layer", self.layer),
                ("feature", self.feature),
                ("field", self.field),
            )
            if value is not None
        ]
        return f"{', '.join(where)}: {self.message}" if where else self.message


class NotFoundError(LandreadyError):
    """A requested thing (parcel, collection, layer) does not exist."""


class ConflictError(LandreadyError):
    """The change collides with what is stored (e.g. creating a parcel id that exists)."""


class PreconditionRequiredError(LandreadyError):
    """A write came without the `If-Match` ETag it needs (HTTP 428)."""


class PreconditionFailedError(LandreadyError):
    """A write's `If-Match` ETag is stale: someone changed the item since it was read (HTTP 412)."""


class UnauthorizedError(LandreadyError):
    """No token, or a token the store does not know (HTTP 401)."""


class ForbiddenError(LandreadyError):
    """A valid token whose role may not do this (HTTP 403)."""
