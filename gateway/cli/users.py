"""``ediary users …``: the operator's account commands (the first administrator of a school)."""

from __future__ import annotations

import argparse
import asyncio
import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import accounts, school
from diary_core.clock import SystemClock
from diary_core.context import Ctx
from diary_core.db import session_factory
from diary_core.demo.calendar import LOCAL
from diary_core.models import School
from diary_core.policy import Actor
from diary_core.roles import Role
from gateway.cli.common import settings_from, with_engine


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    users = sub.add_parser("users", help="учётные записи")
    actions = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    admin = actions.add_parser(
        "create-admin",
        help="создать администратора школы (заместителя директора) с одноразовым паролем",
    )
    admin.add_argument("--school", required=True, help="название школы")
    admin.add_argument(
        "--create-school",
        action="store_true",
        help="создать школу, если её ещё нет: с учебным годом и четвертями, видами работ, "
        "звонками и предметами федерального учебного плана",
    )
    admin.add_argument(
        "--school-year",
        metavar="ГГГГ/ГГГГ",
        help="учебный год новой школы, например 2026/2027 (по умолчанию текущий: с сентября — "
        "начавшийся, до августа — начавшийся прошлой осенью)",
    )
    admin.add_argument("--last-name", required=True, help="фамилия")
    admin.add_argument("--first-name", required=True, help="имя")
    admin.add_argument("--middle-name", default="", help="отчество")
    admin.add_argument("--email", default="", help="адрес электронной почты")
    admin.set_defaults(func=_create_admin)


def _start_year(raw: str | None, today: date) -> int:
    """``2026/2027`` (or ``2026``) → 2026; none given → the current school year's."""
    if raw is None:
        return school.year_start_for(today)
    match = re.fullmatch(r"\s*(\d{4})\s*(?:/\s*(\d{4})\s*)?", raw)
    if not match or (match.group(2) and int(match.group(2)) != int(match.group(1)) + 1):
        raise SystemExit(f"ediary: неверный учебный год «{raw}» (ожидается, например, 2026/2027)")
    return int(match.group(1))


def _create_admin(args: argparse.Namespace) -> int:
    clock = SystemClock()
    start_year = _start_year(args.school_year, clock.now().astimezone(LOCAL).date())
    created: list[str] = []

    async def work(engine: AsyncEngine) -> accounts.IssuedCredentials:
        async with session_factory(engine)() as session:
            ctx = Ctx(session, Actor.system_actor(), clock)
            found = await session.scalar(select(School).where(School.name == args.school.strip()))
            if found is None and not args.create_school:
                raise SystemExit(
                    f"ediary: школа «{args.school}» не найдена "
                    "(добавьте --create-school, чтобы создать её)"
                )
            if found is not None and args.school_year:
                raise SystemExit(
                    f"ediary: школа «{found.name}» уже есть; --school-year задаётся только "
                    "вместе с --create-school для новой школы"
                )
            sch = found
            if sch is None:
                sch = await school.set_up_school(ctx, args.school, start_year)
                year = await school.current_year(ctx, sch.id)
                created.append(
                    f"Школа «{sch.name}» создана: {year.name} учебный год "
                    f"({year.starts_on:%d.%m.%Y} – {year.ends_on:%d.%m.%Y}, четыре четверти), "
                    "виды работ, звонки и предметы федерального учебного плана."
                )
            user = await accounts.create_staff(
                ctx,
                sch.id,
                last_name=args.last_name,
                first_name=args.first_name,
                middle_name=args.middle_name,
                email=args.email,
                roles=(Role.ADMINISTRATOR,),
            )
            issued = await accounts.issue_credentials(ctx, user.id)
            await session.commit()
            return issued

    issued = asyncio.run(with_engine(settings_from(args), work))
    for line in created:
        print(line)
    print(f"Администратор: {issued.full_name}")
    print(f"Логин: {issued.login}")
    print(f"Одноразовый пароль: {issued.one_time_password}")
    print("Пароль показан один раз; при первом входе его нужно сменить.")
    return 0
