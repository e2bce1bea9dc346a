"""The personal data archive: one ZIP holding ``personal-data.json`` (the machine-readable
whole, valid against ``personal-data.schema.json`` beside this module) and
``personal-data.html`` (the same in Russian, for reading and printing).

One ZIP rather than two downloads: a parent keeps, forwards or prints one file, and the two
parts always describe the same moment. The archive is written while it is read: the core
hands over rows in bounded batches
(:func:`diary_core.personal_data.sections.export_rows`), each batch goes into the ZIP and
out to the client before the next is read. The HTML part is spooled
(in memory up to :data:`SPOOL`, then on disk) and copied into the ZIP at the end.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, tzinfo
from html import escape
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from diary_core.context import Ctx
from diary_core.personal_data import sections
from diary_core.personal_data.access import ExportScope
from diary_core.personal_data.sections import BATCH
from gateway.storage import SignInEvent, WebSession

SCHEMA_PATH = Path(__file__).with_name("personal-data.schema.json")
FORMAT = "ediary.personal-data"
VERSION = 1
JSON_NAME = "personal-data.json"
HTML_NAME = "personal-data.html"
#: Bytes of the HTML part kept in memory before it is spooled to disk.
SPOOL = 1 << 20

#: Every section of the archive's body, in order: the core's, then the gateway's own.
SECTIONS = (*sections.SECTIONS, "sign_ins", "sessions")

Send = Callable[[bytes], Awaitable[None]]


class _Sink:
    """A write-only, non-seekable file for :class:`zipfile.ZipFile`: what the ZIP writes
    waits here until :meth:`take` hands it to the response."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def write(self, data: bytes) -> int:
        self._buf += data
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: :meth:`take` empties the buffer."""

    def close(self) -> None:
        """Nothing to close: the response is the caller's."""

    def take(self) -> bytes:
        out = bytes(self._buf)
        self._buf.clear()
        return out


async def _gateway_rows(
    ctx: Ctx, scope: ExportScope, batch: int
) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """The gateway's own records of the person: sign-ins and open sessions (never the session
    token's hash, its CSRF token or its data)."""
    last = 0
    while True:
        rows = list(
            await ctx.session.scalars(
                select(SignInEvent)
                .where(SignInEvent.user_id == scope.subject_id, SignInEvent.id > last)
                .order_by(SignInEvent.id)
                .limit(batch)
            )
        )
        if not rows:
            break
        yield (
            "sign_ins",
            [
                {
                    "at": r.at.isoformat(),
                    "method": r.method,
                    "success": r.success,
                    "reason": r.reason,
                    "ip": r.ip,
                    "user_agent": r.user_agent,
                }
                for r in rows
            ],
        )
        last = rows[-1].id
        if len(rows) < batch:
            break
    sessions = await ctx.session.execute(
        select(
            WebSession.created_at,
            WebSession.last_seen_at,
            WebSession.expires_at,
            WebSession.method,
            WebSession.ip,
            WebSession.user_agent,
        )
        .where(WebSession.user_id == scope.subject_id)
        .order_by(WebSession.created_at)
    )
    rows_out = [
        {
            "started_at": created.isoformat(),
            "last_seen_at": seen.isoformat(),
            "expires_at": expires.isoformat(),
            "method": method,
            "ip": ip,
            "user_agent": agent,
        }
        for created, seen, expires, method, ip, agent in sessions
    ]
    if rows_out:
        yield "sessions", rows_out


async def _all_rows(
    ctx: Ctx, scope: ExportScope, batch: int
) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    async for item in sections.export_rows(ctx, scope, batch):
        yield item
    async for item in _gateway_rows(ctx, scope, batch):
        yield item


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def header(scope: ExportScope) -> dict[str, Any]:
    """The archive's head: everything but the sections."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": scope.exported_at.isoformat(),
        "requested_by": scope.requested_by,
        "person": scope.person,
        "links": scope.links,
        "pupils": [
            {
                "pupil_id": p.place.pupil_id,
                "name": p.name,
                "school": p.school,
                "class": p.class_name,
                "class_id": p.place.class_id,
            }
            for p in scope.pupils
        ],
    }


async def write_archive(
    ctx: Ctx, scope: ExportScope, send: Send, zone: tzinfo, batch: int = BATCH
) -> None:
    """Write the archive of ``scope`` through ``send``, batch by batch."""
    sink = _Sink()
    with (
        tempfile.SpooledTemporaryFile(max_size=SPOOL, mode="w+b") as html_file,
        zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as zf,
    ):
        page = _HtmlWriter(html_file, scope, zone)
        with zf.open(JSON_NAME, "w", force_zip64=True) as entry:
            head = _dumps(header(scope))
            entry.write(head[:-1].encode())
            index = -1  # the section being written
            first = True
            async for section, rows in _all_rows(ctx, scope, batch):
                at = SECTIONS.index(section)
                if at != index:
                    if index >= 0:
                        entry.write(b"]")
                    for skipped in SECTIONS[index + 1 : at]:
                        entry.write(f", {_dumps(skipped)}: []".encode())
                        page.section(skipped, [])
                    entry.write(f", {_dumps(section)}: [".encode())
                    index, first = at, True
                body = ", ".join(_dumps(r) for r in rows)
                entry.write(((", " if not first else "") + body).encode())
                first = False
                page.rows(section, rows)
                await send(sink.take())
            if index >= 0:
                entry.write(b"]")
            for skipped in SECTIONS[index + 1 :]:
                entry.write(f", {_dumps(skipped)}: []".encode())
                page.section(skipped, [])
            entry.write(b"}")
        page.close()
        html_file.seek(0)
        with zf.open(HTML_NAME, "w", force_zip64=True) as entry:
            while chunk := html_file.read(64 * 1024):
                entry.write(chunk)
                await send(sink.take())
    await send(sink.take())


# --- the printable summary ------------------------------------------------------------------

#: Each section's Russian title and columns: (title, [(heading, how to show a row)]).
Column = tuple[str, Callable[[dict[str, Any]], str]]

KINDS = {"password": "логин и пароль", "esia": "Госуслуги"}


def _method(row: dict[str, Any]) -> str:
    return KINDS.get(row["method"]) or str(row["method"])


def _history(row: dict[str, Any]) -> str:
    entries = row.get("history") or []
    return "; ".join(
        f"{e['at'][:10]} {e['by']}: {_change(e)}" for e in entries if e["action"] != "create"
    )


def _change(entry: dict[str, Any]) -> str:
    old = (entry.get("old") or {}).get("value") or (entry.get("old") or {}).get("kind")
    new = (entry.get("new") or {}).get("value") or (entry.get("new") or {}).get("kind")
    words = {"update": "исправлено", "delete": "удалено"}.get(entry["action"], entry["action"])
    text = f"{words} {old or ''} → {new or ''}".strip()
    if entry.get("reason"):
        text += f" ({entry['reason']})"
    return text


class _HtmlWriter:
    """The printable summary, written section by section into a spooled file."""

    def __init__(self, out: IO[bytes], scope: ExportScope, zone: tzinfo) -> None:
        self.out, self.zone = out, zone
        self.open: str | None = None
        pupils = {p.place.pupil_id: p.name for p in scope.pupils}
        classes = {p.place.class_id: p.class_name for p in scope.pupils}
        when, day = self.when, self.day
        self.columns: dict[str, tuple[str, list[Column]]] = {
            "marks": ("Отметки", [
                ("Дата", lambda r: day(r["date"])), ("Ученик", lambda r: pupils[r["pupil_id"]]),
                ("Предмет", lambda r: r["subject"]), ("Отметка", lambda r: r["value"]),
                ("Вид работы", lambda r: r["work_type"]), ("Вес", lambda r: str(r["weight"])),
                ("Комментарий", lambda r: r["comment"]), ("Исправления", _history),
            ]),
            "attendance": ("Посещаемость", [
                ("Дата", lambda r: day(r["date"])), ("Ученик", lambda r: pupils[r["pupil_id"]]),
                ("Урок", lambda r: str(r["lesson_number"])),
                ("Предмет", lambda r: r["subject"]), ("Отметка", lambda r: r["kind"]),
                ("Исправления", _history),
            ]),
            "period_marks": ("Итоговые отметки", [
                ("Ученик", lambda r: pupils[r["pupil_id"]]), ("Предмет", lambda r: r["subject"]),
                ("Период", lambda r: r["period"]), ("Отметка", lambda r: r["value"]),
                ("Исправления", _history),
            ]),
            "homework": ("Темы уроков и домашние задания", [
                ("Дата", lambda r: day(r["date"])), ("Класс", lambda r: classes[r["class_id"]]),
                ("Урок", lambda r: str(r["lesson_number"])), ("Предмет", lambda r: r["subject"]),
                ("Тема", lambda r: r["topic"]), ("Задание", lambda r: r["homework"]),
            ]),
            "messages": ("Сообщения", [
                ("Время", lambda r: when(r["at"])), ("Тема", lambda r: r["topic"]),
                ("Автор", lambda r: r["author"]), ("Текст", lambda r: r["body"]),
            ]),
            "notifications": ("Уведомления", [
                ("Время", lambda r: when(r["at"])), ("Текст", lambda r: r["text"]),
                ("Прочитано", lambda r: when(r["read_at"])),
            ]),
            "announcements": ("Объявления", [
                ("Время", lambda r: when(r["at"])), ("Заголовок", lambda r: r["title"]),
                ("Текст", lambda r: r["body"]), ("Прочитано", lambda r: when(r["read_at"])),
            ]),
            "sign_ins": ("История входов", [
                ("Время", lambda r: when(r["at"])),
                ("Способ", lambda r: _method(r)),
                ("Результат", lambda r: "успешно" if r["success"] else "отказ"),
                ("Адрес", lambda r: r["ip"]), ("Браузер", lambda r: r["user_agent"]),
            ]),
            "sessions": ("Открытые сеансы", [
                ("Начат", lambda r: when(r["started_at"])),
                ("Последнее действие", lambda r: when(r["last_seen_at"])),
                ("Способ", lambda r: _method(r)),
                ("Адрес", lambda r: r["ip"]), ("Браузер", lambda r: r["user_agent"]),
            ]),
        }  # fmt: skip
        self._head(scope)

    def when(self, value: str | None) -> str:
        if not value:
            return ""
        return datetime.fromisoformat(value).astimezone(self.zone).strftime("%d.%m.%Y %H:%M")

    @staticmethod
    def day(value: str) -> str:
        return ".".join(reversed(value.split("-")))

    def _w(self, text: str) -> None:
        self.out.write(text.encode())

    def _head(self, scope: ExportScope) -> None:
        p = scope.person
        name = escape(" ".join(x for x in (p["last_name"], p["first_name"], p["middle_name"]) if x))
        stamp = escape(self.when(scope.exported_at.isoformat()))
        self._w(
            '<!doctype html><html lang="ru"><head><meta charset="utf-8">'
            f"<title>Персональные данные — {name}</title><style>"
            "body{font:14px/1.4 sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
            "th,td{border:1px solid #999;padding:2px 6px;text-align:left;vertical-align:top}"
            "@media print{h2{break-before:auto}tr{break-inside:avoid}}</style></head><body>"
            f"<h1>Персональные данные: {name}</h1>"
            f"<p>Сведения электронного дневника на {stamp}"
            " (статья 14 Федерального закона № 152-ФЗ «О персональных данных»).</p>"
            "<h2>Сведения о человеке</h2><table>"
        )
        roles = ", ".join(r["title"] for r in p["roles"])
        esia = p["esia"]
        facts = [
            ("Дата рождения", self.day(p["birth_date"]) if p["birth_date"] else ""),
            ("СНИЛС", p["snils"] or ""),
            ("Электронная почта", p["email"]),
            ("Телефон", p["phone"]),
            ("Логин", p["login"] or ""),
            ("Роли", roles),
            (
                "Госуслуги",
                f"связана с {self.when(esia['linked_at'])}" if esia["linked"] else "не связана",
            ),
        ]
        for label, value in facts:
            self._w(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>")
        self._w("</table>")
        if scope.pupils:
            self._w("<h2>Обучающиеся</h2><ul>")
            for pupil in scope.pupils:
                self._w(
                    f"<li>{escape(pupil.name)} — {escape(pupil.school)}, "
                    f"класс {escape(pupil.class_name)}</li>"
                )
            self._w("</ul>")
        if scope.links:
            self._w("<h2>Родители и дети</h2><ul>")
            statuses = {"confirmed": "подтверждена", "pending": "ждёт подтверждения"}
            for link in scope.links:
                who = link["pupil_name"] if link["relation"] == "child" else link["guardian_name"]
                role = "ребёнок" if link["relation"] == "child" else "родитель"
                status = statuses.get(link["status"], "отклонена")
                self._w(f"<li>{escape(role)}: {escape(who)} (связь {escape(status)})</li>")
            self._w("</ul>")

    def rows(self, section: str, rows: list[dict[str, Any]]) -> None:
        title, columns = self.columns[section]
        if self.open != section:
            self._close()
            self._w(f"<h2>{escape(title)}</h2><table><thead><tr>")
            self._w("".join(f"<th>{escape(h)}</th>" for h, _ in columns))
            self._w("</tr></thead><tbody>")
            self.open = section
        for row in rows:
            cells = "".join(f"<td>{escape(show(row))}</td>" for _, show in columns)
            self._w(f"<tr>{cells}</tr>")

    def section(self, section: str, rows: list[dict[str, Any]]) -> None:
        """A section without rows."""
        self._close()
        title, _ = self.columns[section]
        self._w(f'<h2>{escape(title)}</h2><p class="empty">Нет записей.</p>')

    def _close(self) -> None:
        if self.open is not None:
            self._w("</tbody></table>")
            self.open = None

    def close(self) -> None:
        self._close()
        self._w("</body></html>")
