"""CSV files as school staff really have them, through the command line and the console's
import page alike (SQLite and PostgreSQL): what Excel on a Russian Windows saves as CSV
(Windows-1251, ``;``, CRLF, Russian column titles, dates as DD.MM.YYYY), UTF-8 with or
without a BOM, titles in any case with spaces or underscores, and errors quoting the value
they refuse."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diary_core.clock import FixedClock
from diary_core.models import Mark, Pupil, User
from diary_core.snils import make_snils
from gateway.cli.main import main
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

Cli = Callable[..., Awaitable[tuple[int, str]]]

ROSTER_TITLES = [
    "Класс", "Фамилия обучающегося", "Имя обучающегося", "Отчество обучающегося",
    "Дата рождения обучающегося", "СНИЛС обучающегося", "Фамилия родителя", "Имя родителя",
    "Отчество родителя", "СНИЛС родителя", "Email родителя", "Телефон родителя",
]  # fmt: skip
MARKS_TITLES = [
    "Класс", "Предмет", "СНИЛС обучающегося", "Дата", "Отметка", "Вид работы", "Вес",
    "Комментарий",
]  # fmt: skip
PUPIL_1, PUPIL_2 = make_snils(410_000_001), make_snils(410_000_002)
PARENT = make_snils(410_000_003)

ROSTER_ROWS = [
    ["5А", "Ёлкина", "Алёна", "Вадимовна", "14.03.2014", PUPIL_1, "Ёлкина", "Юлия",
     "Сергеевна", PARENT, "elkina@example.ru", "+7 (900) 123-45-67"],
    ["5Б", "Щукин", "Пётр", "", "02.07.2014", PUPIL_2, "Ёлкина", "Юлия", "Сергеевна", PARENT,
     "elkina@example.ru", "+7 (900) 123-45-67"],
]  # fmt: skip
MARKS_ROWS = [
    ["5А", "Математика", PUPIL_1, "06.10.2025", "5", "Контрольная работа", "", "«Отлично»"],
    ["5Б", "Русский язык", PUPIL_2, "07.10.2025", "4", "Диктант", "3", ""],
]


def excel(titles: list[str], rows: list[list[str]], encoding: str = "cp1251") -> bytes:
    """A CSV the way Excel on a Russian Windows saves it: ``;``, CRLF, the system's code
    page (``encoding="utf-8-sig"``: «CSV UTF-8», with a BOM)."""
    lines = [";".join(titles), *(";".join(r) for r in rows)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def _restyled(titles: list[str]) -> list[str]:
    """The same titles as a person might type them: other case, underscores, extra spaces."""
    return [
        f" {t.upper()} " if i % 3 == 0 else t.lower().replace(" ", "_") if i % 3 == 1 else t
        for i, t in enumerate(titles)
    ]


# --- through the command line ----------------------------------------------------------------


@pytest.fixture
def cli(db_url: str, world: World, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``ediary ARGS`` against the test world's database, run in a thread of its own (the
    command starts its own event loop); returns (exit code, stdout+stderr)."""
    for name in [n for n in os.environ if n.startswith("EDIARY_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("EDIARY_DATABASE_URL", db_url)

    async def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
        await world.session.commit()
        code = await asyncio.to_thread(main, list(args))
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


async def _count(engine: AsyncEngine, model: type, *where: Any) -> int:
    async with AsyncSession(engine) as db:
        return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.mark.parametrize("encoding", ["cp1251", "utf-8-sig", "utf-8"])
async def test_cli_imports_excel_files(
    cli: Cli,
    engine: AsyncEngine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    encoding: str,
) -> None:
    roster = tmp_path / "Список.csv"
    roster.write_bytes(excel(ROSTER_TITLES, ROSTER_ROWS, encoding))
    marks = tmp_path / "Отметки.csv"
    marks.write_bytes(excel(_restyled(MARKS_TITLES), MARKS_ROWS, encoding))
    code, out = await cli(capsys, "roster", "import", str(roster), "--school", "Школа А")
    assert code == 0, out
    assert "обучающиеся: новых 2" in out and "родители: новых 1" in out
    code, out = await cli(capsys, "marks", "import", str(marks), "--school", "Школа А")
    assert code == 0, out
    assert "отметок новых 2" in out
    async with AsyncSession(engine) as db:
        names = set(await db.scalars(select(User.first_name).where(User.snils == PUPIL_1)))
        comments = set(await db.scalars(select(Mark.comment)))
    assert names == {"Алёна"} and "«Отлично»" in comments


async def test_cli_errors_quote_the_bad_values(
    cli: Cli,
    engine: AsyncEngine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_bytes(excel(ROSTER_TITLES, ROSTER_ROWS))
    assert (await cli(capsys, "roster", "import", str(roster), "--school", "Школа А"))[0] == 0
    bad = tmp_path / "marks.csv"
    unknown = make_snils(410_000_099)
    bad.write_bytes(
        excel(
            MARKS_TITLES,
            [
                ["5А", "Матем", PUPIL_1, "06.10.2025", "5", "Контрольная работа", "", ""],
                ["5А", "Математика", PUPIL_1, "06.10.2025", "5", "Контрольная", "", ""],
                ["5А", "Математика", unknown, "06.10.2025", "5", "Диктант", "", ""],
            ],
        )
    )
    code, out = await cli(capsys, "marks", "import", str(bad), "--school", "Школа А")
    assert code == 1
    assert "строка 2, столбец Предмет: предмета «Матем» в школе нет" in out
    assert "строка 3, столбец Вид работы: вида работы «Контрольная» в школе нет" in out
    assert f"строка 4, столбец СНИЛС обучающегося: обучающегося со СНИЛС «{unknown}»" in out
    assert await _count(engine, Mark) == 0


async def test_a_file_in_neither_encoding_is_refused_by_line(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "roster.csv"
    bad.write_bytes(excel(ROSTER_TITLES, ROSTER_ROWS) + b"5\x98;\r\n")
    code, out = await cli(capsys, "roster", "import", str(bad), "--school", "Школа А")
    assert code == 1
    assert "строка 4: файл не в кодировке UTF-8 и не в Windows-1251" in out


# --- through the console's import page ------------------------------------------------------


@pytest.fixture
async def admin(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[tuple[Browser, str]]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as base:
        browser = Browser()
        await sign_in_as(browser, engine, world.admin_a, clock.now())
        yield browser, base + "/console/admin/import"
        await browser.close()


async def _upload(
    browser: Browser, url: str, kind: str, name: str, content: bytes
) -> tuple[int, str]:
    token = await browser.csrf(url)
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    form.add_field("kind", kind)
    form.add_field("file", content, filename=name, content_type="text/csv")
    resp = await browser.http.post(url, data=form, allow_redirects=False)
    return resp.status, await resp.text()


@pytest.mark.parametrize("encoding", ["cp1251", "utf-8-sig", "utf-8"])
async def test_import_page_takes_excel_files(
    admin: tuple[Browser, str], engine: AsyncEngine, encoding: str
) -> None:
    browser, url = admin
    status, page = await _upload(
        browser, url, "roster", "Список.csv", excel(_restyled(ROSTER_TITLES), ROSTER_ROWS, encoding)
    )
    assert status == 200, page
    assert "<tr><th>Ученики</th><td>2</td><td>0</td><td>0</td></tr>" in page
    status, page = await _upload(
        browser, url, "marks", "Отметки.csv", excel(MARKS_TITLES, MARKS_ROWS, encoding)
    )
    assert status == 200, page
    assert "<tr><th>Отметки</th><td>2</td><td>0</td><td>0</td></tr>" in page
    assert (
        await _count(
            engine,
            Pupil,
            Pupil.user_id.in_(select(User.id).where(User.snils.in_([PUPIL_1, PUPIL_2]))),
        )
        == 2
    )


async def test_import_page_errors_quote_the_bad_values(
    admin: tuple[Browser, str], engine: AsyncEngine
) -> None:
    browser, url = admin
    status, _ = await _upload(browser, url, "roster", "r.csv", excel(ROSTER_TITLES, ROSTER_ROWS))
    assert status == 200
    bad = excel(
        MARKS_TITLES,
        [
            ["5А", "Матем", PUPIL_1, "06.10.2025", "5", "Контрольная работа", "", ""],
            ["5А", "Математика", PUPIL_1, "31.02.2025", "5", "Контрольная работа", "", ""],
        ],
    )
    status, page = await _upload(browser, url, "marks", "m.csv", bad)
    assert status == 400
    rows = re.findall(
        r"<tr><td>(\d+)</td><td>(?:<code>(.*?)</code>|—)</td><td>(.*?)</td></tr>", page
    )
    assert ("2", "Предмет", "предмета «Матем» в школе нет") in rows
    assert ("3", "Дата", "такой даты нет: «31.02.2025»") in rows
    assert await _count(engine, Mark) == 0
