"""The emulator's pages for people, in Russian: pick a test person (or refuse), or read what went
wrong. Protocol answers to machines (JSON errors, redirect parameters) stay as ESIA sends them."""

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

#: What each requested scope means to the person asked to grant it (unknown scopes are refused
#: before the page is shown; ``openid`` grants no data and is not listed).
SCOPE_NAMES = {
    "fullname": "фамилия, имя и отчество",
    "birthdate": "дата рождения",
    "gender": "пол",
    "snils": "СНИЛС",
    "inn": "ИНН",
    "id_doc": "данные паспорта",
    "birthplace": "место рождения",
    "contacts": "контактные данные",
    "email": "адрес электронной почты",
    "mobile": "номер мобильного телефона",
    "addresses": "адреса",
    "usr_org": "организации, в которых вы работаете",
    "kid_fullname": "фамилии, имена и отчества детей",
    "kid_birthdate": "даты рождения детей",
    "kid_gender": "пол детей",
    "kid_snils": "СНИЛС детей",
    "kid_inn": "ИНН детей",
    "kid_birth_cert_doc": "свидетельства о рождении детей",
    "kid_medical_doc": "полисы ОМС детей",
}

#: What ESIA's own error pages say for each code (what happened, and what to do).
PAGE_MESSAGES = {
    "ESIA-007002": "Информационная система не зарегистрирована в ЕСИА, или её сертификат не "
    "подходит. Сообщите об ошибке владельцу сайта, с которого вы начали вход.",
    "ESIA-007003": "Параметр запроса указан несколько раз. Вернитесь на сайт, с которого вы "
    "начали вход, и попробуйте ещё раз.",
    "ESIA-007011": "Сеанс входа истёк или уже завершён. Вернитесь на сайт, с которого вы начали "
    "вход, и начните вход заново.",
    "ESIA-007014": "В запросе на вход нет обязательного параметра. Вернитесь на сайт, с которого "
    "вы начали вход, и попробуйте ещё раз.",
    "ESIA-007023": "Адрес возврата (redirect_uri) не разрешён для этой системы. Сообщите об "
    "ошибке владельцу сайта, с которого вы начали вход.",
}
_DEFAULT_MESSAGE = (
    "Запрос на вход не может быть выполнен. Вернитесь на сайт, с которого вы начали вход, "
    "и попробуйте ещё раз."
)


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


def _requested_data(scope: str) -> str:
    names = [SCOPE_NAMES[s] for s in scope.split() if s in SCOPE_NAMES]
    if not names:
        return ""
    items = "".join(f"<li>{escape(name)}</li>" for name in names)
    return f"<p>Система просит доступ к данным:</p><ul>{items}</ul>"


def pick_person_page(
    action: str, client_id: str, persons: Sequence[Person], scope: str = ""
) -> web.Response:
    """The sign-in page: a POST form with a field named ``oid`` (the test person); its second
    button, named ``deny``, refuses, as a person may at ESIA (ESIA-007004)."""
    labels = "\n".join(_person_label(p, i == 0) for i, p in enumerate(persons))
    body = (
        "<h1>Вход через Госуслуги</h1>"
        f"<p>Система <b>{escape(client_id)}</b> запрашивает доступ к вашим данным.</p>"
        f"{_requested_data(scope)}"
        f'<form method="post" action="{escape(action)}">'
        "<p>Выберите тестового пользователя:</p>"
        f"{labels}"
        '<button type="submit">Разрешить и войти</button>'
        '<button type="submit" name="deny" value="1">Отказаться</button></form>'
    )
    return _page("Вход через Госуслуги", body)


def error_page(code: str, message: str = "", status: int = 400) -> web.Response:
    """An error ESIA shows itself (e.g. when it cannot trust the redirect_uri): what happened and
    what to do, in Russian, with ESIA's code for the support service."""
    text = message or PAGE_MESSAGES.get(code, _DEFAULT_MESSAGE)
    body = (
        "<h1>Ошибка входа</h1>"
        f"<p>{escape(text)}</p>"
        f"<p><small>Код ошибки: {escape(code)}</small></p>"
    )
    return _page("Ошибка входа", body, status)


def page_gone(status: int) -> web.Response:
    """A browser asked for a page the emulator does not have (404) or re-opened the sign-in
    form's target by address or by going back (405): in Russian, with what to do."""
    text = (
        "Страница входа устарела: её нельзя открыть повторно."
        if status == 405
        else "Такой страницы нет."
    )
    body = (
        "<h1>Страница не найдена</h1>"
        f"<p>{escape(text)} Вернитесь на сайт, с которого вы начали вход, и начните вход "
        "заново.</p>"
    )
    return _page("Страница не найдена", body, status)
