"""A real school from the command line alone (README «Настоящая школа, шаг за шагом»):
``users create-admin --create-school`` → ``roster import --create-classes`` → ``marks import``
on a fresh database, SQLite and PostgreSQL, ending with the marks stored."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from diary_core.db import create_engine
from diary_core.demo.calendar import LOCAL, school_year
from diary_core.models import AcademicYear, Mark, Period, Pupil, School, SchoolClass
from diary_core.school import year_start_for
from gateway.cli.main import main
from tests.support.databases import _admin, pg_url, postgres_enabled

SCHOOL = "МБОУ «СОШ № 7» г. Калуги"

ROSTER = (
    "class,pupil_last_name,pupil_first_name,pupil_middle_name,pupil_birth_date,pupil_snils,"
    "parent_last_name,parent_first_name,parent_middle_name,parent_snils,parent_email,"
    "parent_phone\n"
    "5А,Соколов,Иван,Петрович,2015-03-14,112-233-445 95,Соколова,Анна,Сергеевна,"
    "123-456-789 64,sokolova@example.ru,+7 900 123-45-67\n"
    "6Б,Орлова,Мария,Игоревна,2014-07-02,111-222-333 72,Орлов,Игорь,Олегович,222-333-444 16,,\n"
)


def _marks_csv(day: date) -> str:
    return (
        "class,subject,pupil_snils,date,mark,work_type,weight,comment\n"
        f"5А,Математика,112-233-445 95,{day:%d.%m.%Y},5,Контрольная работа,,\n"
        f"5А,Русский язык,112-233-445 95,{day:%d.%m.%Y},4,Диктант,,молодец\n"
        f"6Б,История,111-222-333 72,{day:%Y-%m-%d},3,Ответ на уроке,2,\n"
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A database no command has touched yet (PostgreSQL: a new, unmigrated one)."""
    if request.param == "postgres":
        if not postgres_enabled():
            pytest.skip("PostgreSQL tests are off: set EDIARY_TEST_POSTGRES=1 (CI does)")
        name = f"ediary_cli_{uuid.uuid4().hex[:10]}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        url = pg_url(name)
    else:
        name = ""
        url = f"sqlite+aiosqlite:///{tmp_path / 'school.sqlite'}"
    monkeypatch.setenv("EDIARY_DATABASE_URL", url)
    try:
        yield url
    finally:
        if name:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _facts(url: str) -> dict[str, object]:
    async def read() -> dict[str, object]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                year = (await conn.execute(select(AcademicYear.__table__))).one()
                quarters = (
                    await conn.execute(
                        select(Period.starts_on, Period.ends_on)
                        .where(Period.kind == "quarter")
                        .order_by(Period.number)
                    )
                ).all()
                return {
                    "schools": await conn.scalar(select(func.count()).select_from(School)),
                    "year": (year.name, year.starts_on, year.ends_on),
                    "quarters": [tuple(q) for q in quarters],
                    "classes": sorted(await conn.scalars(select(SchoolClass.name))),
                    "pupils": await conn.scalar(select(func.count()).select_from(Pupil)),
                    "marks": sorted(
                        (m.value, m.weight, m.comment)
                        for m in (await conn.execute(select(Mark.__table__))).all()
                    ),
                }
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_a_school_from_the_command_line_alone(
    fresh_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import datetime

    today = datetime.now(LOCAL).date()
    calendar = school_year(year_start_for(today))
    # A day of the current school year that has already come (in the summer: its last day).
    day = min(today - timedelta(days=1), calendar.ends_on)
    day = max(day, calendar.starts_on)
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    marks = tmp_path / "marks.csv"
    marks.write_text(_marks_csv(day), encoding="utf-8")

    assert main(["db", "upgrade"]) == 0
    assert (
        main(
            [
                "users",
                "create-admin",
                "--school",
                SCHOOL,
                "--create-school",
                "--last-name",
                "Харитонова",
                "--first-name",
                "Алёна",
                "--middle-name",
                "Вадимовна",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert f"{calendar.name} учебный год" in out
    assert "Одноразовый пароль:" in out
    assert main(["roster", "import", str(roster), "--school", SCHOOL, "--create-classes"]) == 0
    assert "создано классов: 2" in capsys.readouterr().out
    assert main(["marks", "import", str(marks), "--school", SCHOOL]) == 0
    assert "отметок новых 3" in capsys.readouterr().out

    facts = _facts(fresh_url)
    assert facts["schools"] == 1
    assert facts["year"] == (calendar.name, calendar.starts_on, calendar.ends_on)
    assert facts["quarters"] == list(calendar.quarters)
    assert facts["classes"] == ["5А", "6Б"]
    assert facts["pupils"] == 2
    assert facts["marks"] == [("3", 2, ""), ("4", 2, "молодец"), ("5", 3, "")]


def test_an_explicit_school_year_and_a_bad_one(
    fresh_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["db", "upgrade"])
    base = ["users", "create-admin", "--school", SCHOOL, "--last-name", "А", "--first-name", "Б"]
    with pytest.raises(SystemExit) as bad:
        main([*base, "--create-school", "--school-year", "2026/2028"])
    assert "неверный учебный год «2026/2028»" in str(bad.value)
    assert main([*base, "--create-school", "--school-year", "2030/2031"]) == 0
    assert "2030/2031 учебный год" in capsys.readouterr().out
    assert _facts(fresh_url)["year"] == ("2030/2031", date(2030, 9, 1), date(2031, 5, 31))
    with pytest.raises(SystemExit) as again:
        main([*base, "--school-year", "2031/2032"])
    assert "только вместе с --create-school" in str(again.value)
