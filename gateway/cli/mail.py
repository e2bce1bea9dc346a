"""``ediary mail worker`` (send the outbox) and ``ediary mail status`` (what it holds)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from config import Settings
from gateway.cli.common import settings_from, with_engine
from gateway.storage.mail import OutboxMail

STATUS_TITLES = {
    "queued": "ждут отправки",
    "held": "ждут ежедневной сводки",
    "bundled": "вошли в сводки",
    "sent": "отправлены",
    "refused": "отклонены сервером",
    "bounced": "адрес отклонён",
    "cancelled": "отменены (письма выключены)",
    "failed": "не доставлены за 5 дней",
}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    mail = sub.add_parser("mail", help="уведомления по электронной почте")
    actions = mail.add_subparsers(dest="action", metavar="ACTION", required=True)
    worker = actions.add_parser(
        "worker",
        help="отправлять письма из очереди, пока не остановят (то же делает запущенный шлюз)",
    )
    worker.set_defaults(func=_worker)
    status = actions.add_parser("status", help="сколько писем в очереди, отправлено, отклонено")
    status.set_defaults(func=_status)


def _require_mail(settings: Settings) -> None:
    if not settings.mail.enabled:
        raise SystemExit(
            "ediary: отправка писем не настроена: укажите host и sender в разделе [mail] "
            "файла настроек (или EDIARY_MAIL_HOST и EDIARY_MAIL_SENDER)"
        )


def _worker(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    _require_mail(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(with_engine(settings, lambda engine: _work(engine, settings)))
    return 0


async def _work(engine: AsyncEngine, settings: Settings) -> None:
    from gateway.mail.worker import MailWorker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"Отправка писем через {settings.mail.host}:{settings.mail.port}; Ctrl+C — остановить")
    await MailWorker(engine, settings).run_forever(stop)


def _status(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    counts = asyncio.run(with_engine(settings, _counts))
    for status, title in STATUS_TITLES.items():
        print(f"{title:<30} {counts.get(status, 0)}")
    return 0


async def _counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(OutboxMail.status, func.count()).group_by(OutboxMail.status)
        )
        return {status: int(n) for status, n in rows}
