"""``ediary users …``: the operator's account commands (the first administrator of a school)."""

from __future__ import annotations

import argparse
import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import accounts, school
from diary_core.clock import SystemClock
from diary_core.context import Ctx
from diary_core.db import session_factory
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
        "--create-school", action="store_true", help="создать школу, если её ещё нет"
    )
    admin.add_argument("--last-name", required=True)
    admin.add_argument("--first-name", required=True)
    admin.add_argument("--middle-name", default="")
    admin.add_argument("--email", default="")
    admin.set_defaults(func=_create_admin)


def _create_admin(args: argparse.Namespace) -> int:
    async def work(engine: AsyncEngine) -> accounts.IssuedCredentials:
        async with session_factory(engine)() as session:
            ctx = Ctx(session, Actor.system_actor(), SystemClock())
            found = await session.scalar(select(School).where(School.name == args.school.strip()))
            if found is None and not args.create_school:
                raise SystemExit(
                    f"ediary: школа «{args.school}» не найдена "
                    "(добавьте --create-school, чтобы создать её)"
                )
            sch = found or await school.create_school(ctx, args.school)
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
    print(f"Администратор: {issued.full_name}")
    print(f"Логин: {issued.login}")
    print(f"Одноразовый пароль: {issued.one_time_password}")
    print("Пароль показан один раз; при первом входе его нужно сменить.")
    return 0
