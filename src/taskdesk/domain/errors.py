"""Errors the domain layer raises; the web UI and the API each turn them into responses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class DomainError(Exception):
    """Base of every refusal the domain layer makes on purpose."""

    code = "domain_error"

    def __init__(self, message: Any = "") -> None:
        super().__init__(str(message))
        self.message = message


class ValidationError(DomainError):
    """Input broke a rule; ``fields`` maps each bad field to its message."""

    code = "validation_failed"

    def __init__(self, fields: dict[str, Any]) -> None:
        super().__init__("validation failed")
        self.fields = fields


class ConflictError(DomainError):
    """The row changed since the client read it (stale version)."""

    code = "version_conflict"

    def __init__(self, current_version: int, *, raced: bool = False,
                 field: str | None = None) -> None:
        super().__init__("changed by someone else")
        self.current_version = current_version
        #: The field of the change's data that held the stale version ("version"), or None
        #: when the caller's expected version was (an HTTP ``If-Match``, a form's version).
        self.field = field
        #: The row changed between reading and writing it: the loaded row is expired, and
        #: only a fresh attempt of the whole request can look at the current one.
        self.raced = raced


class ForbiddenFieldsError(DomainError):
    """The actor may not change ``fields`` (sorted; empty: a change without any field, such
    as a bare version, which the actor may not make either)."""

    code = "forbidden"

    def __init__(self, fields: Iterable[str], message: Any) -> None:
        super().__init__(message)
        self.fields = tuple(fields)


class DuplicateError(DomainError):
    """A unique value is taken already (a project slug, a username, a group name)."""

    code = "duplicate"

    def __init__(self, field: str, message: Any) -> None:
        super().__init__(message)
        self.field = field
