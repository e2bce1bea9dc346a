"""The diary core's one error family; the gateway maps each kind to an HTTP status in one place."""

from __future__ import annotations


class DiaryError(Exception):
    """Base of every error the core raises on purpose. ``code`` is stable, for machines."""

    code = "diary_error"


class NotFound(DiaryError):
    """The object does not exist, or the actor may not know that it exists.

    The message names what was looked for, for logs, the command line and import reports.
    Interfaces answer every NotFound with :data:`NOT_FOUND_DETAIL` alone, whatever its kind
    and whichever of the two it is, so "not yours" and "does not exist" cannot be told apart
    (docs/regulation.md, clause 3.3)."""

    code = "not_found"


#: The one text a person or a program is shown for any NotFound (and any unknown address).
NOT_FOUND_DETAIL = "Запрошенная страница или запись не найдена либо недоступна вам."


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
