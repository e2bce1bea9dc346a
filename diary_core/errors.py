"""The diary core's one error family; the gateway maps each kind to an HTTP status in one place."""

from __future__ import annotations


class DiaryError(Exception):
    """Base of every error the core raises on purpose. ``code`` is stable, for machines."""

    code = "diary_error"


class NotFound(DiaryError):
    """The object does not exist, or the actor may not know that it exists."""

    code = "not_found"


class Forbidden(DiaryError):
    """The actor may see the object but may not do this to it."""

    code = "forbidden"


class InvalidInput(DiaryError):
    """A value breaks a rule (bad SNILS, unknown mark, date outside the year …)."""

    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Conflict(DiaryError):
    """The action clashes with the current state (a locked period mark, a used code …)."""

    code = "conflict"
