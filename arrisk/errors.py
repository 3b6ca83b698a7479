"""Domain errors: service code raises these; the CLI and the API map them to exit codes and HTTP."""

from __future__ import annotations


class ArriskError(Exception):
    """Base of every error a user can act on; its message names the thing, the rule and the value."""

    http_status = 400


class ValidationError(ArriskError):
    http_status = 422


class NotFoundError(ArriskError):
    http_status = 404


class ConflictError(ArriskError):
    http_status = 409


class PermissionDenied(ArriskError):
    http_status = 403


class UnavailableError(ArriskError):
    """A dependency (model registry, database) is not there; the message says which and why."""

    http_status = 503
