"""The emulator's pages for people, in Russian: pick a test person, or read what went wrong."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from aiohttp import web

from gosuslugi_adapter.emulator.persons import Person

_PAGE = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}}
label{{display:block;padding:.6rem;border:1px solid #ccc;border-radius:.4rem;margin:.4rem 0}}
button{{padding:.6rem 1.2rem;margin:.6rem .4rem 0 0}} small{{color:#555}}</style>
</head><body>
<p><small>Эмулятор ЕСИА — тестовый стенд, не настоящие Госуслуги</small></p>
{body}
</body></html>"""


def _page(title: str, body: str, status: int = 200) -> web.Response:
    html = _PAGE.format(title=escape(title), body=body)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def _person_label(person: Person, checked: bool) -> str:
    trust = "подтверждённая" if person.trusted else "неподтверждённая"
    kids = f", детей: {len(person.kids)}" if person.kids else ""
    return (
        f'<label><input type="radio" name="oid" value="{escape(person.oid)}"'
        f"{' checked' if checked else ''}> {escape(person.display_name)}"
        f" <small>(СНИЛС {escape(person.fields['snils'])}, учётная запись {trust}{kids})"
        f"</small></label>"
    )


def pick_person_page(action: str, client_id: str, persons: Sequence[Person]) -> web.Response:
    """The sign-in page: a POST form with a field named ``oid`` (the test person)."""
    labels = "\n".join(_person_label(p, i == 0) for i, p in enumerate(persons))
    body = (
        "<h1>Вход через Госуслуги</h1>"
        f"<p>Система <b>{escape(client_id)}</b> запрашивает доступ к вашим данным. "
        "Выберите тестового пользователя:</p>"
        f'<form method="post" action="{escape(action)}">{labels}'
        '<button type="submit">Войти</button>'
        '<button type="submit" name="deny" value="1">Отказаться</button></form>'
    )
    return _page("Вход через Госуслуги", body)


def error_page(code: str, message: str, status: int = 400) -> web.Response:
    """An error ESIA shows itself (when it cannot trust the redirect_uri)."""
    body = f"<h1>Ошибка входа</h1><p>{escape(message)}</p><p><small>Код: {escape(code)}</small></p>"
    return _page("Ошибка входа", body, status)
