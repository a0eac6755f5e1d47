"""Domain errors; fronts map them to HTTP statuses or plain sentences in the bot."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a front must turn into a clear answer."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(DomainError):
    """It does not exist, or the caller may not see it (never tell which)."""

    code, status = "not_found", 404


class Forbidden(DomainError):
    """The caller's role does not allow this action on something they can see."""

    code, status = "forbidden", 403


class Invalid(DomainError):
    """Input fields are missing or malformed."""

    code, status = "invalid", 422


class Conflict(DomainError):
    """The request clashes with what is already recorded."""

    code, status = "conflict", 409


class TooLarge(DomainError):
    """The upload is over its size limit; nothing was stored."""

    code, status = "too_large", 413


class UnsupportedType(DomainError):
    """The upload's type is not one the regulation's records accept."""

    code, status = "unsupported_type", 415


class GateRefused(DomainError):
    """A rule of the regulation refuses the step; ``missing`` lists requirement IDs."""

    code, status = "gate_refused", 409

    def __init__(self, message: str, missing: list[str], *, details: dict | None = None):
        super().__init__(message, details=details)
        self.missing = missing
