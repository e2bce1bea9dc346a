"""Roster and marks import from a CSV upload (formats: README.md): all or nothing, with a
line-numbered error report when the file is refused."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from diary_core import imports
from diary_core.errors import InvalidInput
from diary_core.imports import ImportFailed
from gateway import auth
from gateway.handlers.admin.common import admin_actor, page, text

#: Larger files are refused with a clear message. The whole request is also bounded by the
#: application's ``client_max_size`` (8 MiB), so this limit sits below it.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
KINDS = {"roster": "Список учеников и родителей", "marks": "Отметки"}


def _form(request: web.Request, typed: dict[str, Any], **extra: Any) -> web.Response:
    status = 400 if extra.get("error") or extra.get("errors") else 200
    context = {
        "kinds": KINDS,
        "typed": typed,
        "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
        "roster_columns": imports.ROSTER_COLUMNS,
        "marks_columns": imports.MARKS_COLUMNS,
        "roster_titles": [imports.ROSTER_TITLES[c] for c in imports.ROSTER_COLUMNS],
        "marks_titles": [imports.MARKS_TITLES[c] for c in imports.MARKS_COLUMNS],
        "error": "",
        "errors": [],
        "report": None,
        **extra,
    }
    return page("import.html", request, context, status=status)


async def import_page(request: web.Request) -> web.Response:
    await admin_actor(request)
    return _form(request, {"kind": "roster", "create_classes": False})


def _upload(form: Any) -> tuple[str, bytes]:
    field = form.get("file")
    if field is None or isinstance(field, str) or not getattr(field, "filename", ""):
        raise InvalidInput("выберите файл CSV для загрузки")
    data = field.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            f"файл больше {MAX_UPLOAD_BYTES // (1024 * 1024)} МБ; разделите его на части"
        )
    if not data:
        raise InvalidInput("файл пустой")
    return field.filename, data


async def import_submit(request: web.Request) -> web.Response:
    """Import the uploaded file; nothing is written unless every row is right."""
    _, school_id = await admin_actor(request)
    form = await request.post()
    kind = text(form, "kind")
    create_classes = bool(text(form, "create_classes"))
    typed = {"kind": kind, "create_classes": create_classes}
    try:
        if kind not in KINDS:
            raise InvalidInput("выберите, что загружаете: список учеников или отметки")
        name, data = _upload(form)
        if kind == "roster":
            report = await auth.run(
                request,
                lambda ctx: imports.import_roster(
                    ctx, school_id, data, file_name=name, create_classes=create_classes
                ),
            )
        else:
            report = await auth.run(
                request, lambda ctx: imports.import_marks(ctx, school_id, data, file_name=name)
            )
    except ImportFailed as exc:
        return _form(request, typed, error=str(exc), errors=exc.errors)
    except InvalidInput as exc:
        return _form(request, typed, error=str(exc))
    return _form(request, typed, report=report, file_name=name)
