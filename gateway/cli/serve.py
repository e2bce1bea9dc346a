"""``ediary serve`` (the gateway as configured) and ``ediary demo`` (everything on loopback)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import errno
import json
import logging
from pathlib import Path

from aiohttp import web

from config import Settings
from diary_core.clock import SystemClock
from diary_core.demo.generator import ensure_demo_school
from diary_core.demo.summary import DemoSummary
from diary_core.roles import ROLE_TITLES, Role
from gateway.app import create_app
from gateway.calendar.access_log import TokenMaskingAccessLogger
from gateway.cli.common import (
    PortUnavailable,
    engine_from,
    port_problem,
    require_port,
    settings_from,
)
from gateway.demo.esia_persons import esia_persons
from gateway.storage.schema import is_current, upgrade

DEMO_DIR = Path("var/demo")
DEMO_CLIENT_ID = "EDIARY-DEMO"
EMULATOR_PORT = 8090
DEMO_HOST = "127.0.0.1"
SERVE_HINT = (
    "ediary serve --port {port} (или port в разделе [server] файла настроек, "
    "или EDIARY_SERVER_PORT={port})"
)
DEMO_HINT = "ediary demo --port {port}"
DEMO_EMULATOR_HINT = "ediary demo --emulator-port {port}"
DEMO_EMULATOR = "эмулятор ЕСИА"
_LISTEN_ERRORS = (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = sub.add_parser("serve", help="запустить шлюз по настройкам")
    serve.add_argument("--host", help="адрес (вместо server.host)")
    serve.add_argument("--port", type=int, help="порт (вместо server.port)")
    serve.set_defaults(func=_serve)
    demo = sub.add_parser(
        "demo",
        help="демонстрация: SQLite в ./var/, сгенерированная школа, шлюз на "
        "127.0.0.1:8080 и эмулятор ЕСИА на 127.0.0.1:8090",
    )
    demo.add_argument("--port", type=int, default=8080, help="порт шлюза (по умолчанию 8080)")
    demo.add_argument(
        "--emulator-port",
        type=int,
        default=EMULATOR_PORT,
        help="порт эмулятора ЕСИА (по умолчанию 8090)",
    )
    demo.add_argument(
        "--smtp-port",
        type=int,
        default=0,
        help="порт встроенного почтового сервера демонстрации (по умолчанию любой свободный)",
    )
    demo.set_defaults(func=_demo)


def _serve(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if args.host or args.port:
        settings = settings.replace(
            "server",
            **{k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None},
        )
    host, port = settings.server.host, settings.server.port
    require_port(host, port, SERVE_HINT)
    asyncio.run(_check_schema(settings))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        web.run_app(
            create_app(settings),
            host=host,
            port=port,
            print=None,
            access_log_class=TokenMaskingAccessLogger,  # feed addresses are credentials
        )
    except OSError as exc:  # taken between the check and the start
        if exc.errno in _LISTEN_ERRORS:
            raise port_problem(host, port, exc, SERVE_HINT) from None
        raise
    return 0


async def _check_schema(settings: Settings) -> None:
    engine = engine_from(settings)
    try:
        if not await is_current(engine):
            raise SystemExit(
                "ediary: схема базы данных устарела; сначала выполните `ediary db upgrade`"
            )
    finally:
        await engine.dispose()


def _demo(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if not settings.database.url.startswith("sqlite"):
        raise SystemExit(
            "ediary demo работает со своей базой SQLite; уберите переменную EDIARY_DATABASE_URL"
        )
    port, emulator_port = args.port, args.emulator_port
    if port == emulator_port:
        raise PortUnavailable(
            f"шлюзу и эмулятору ЕСИА нужны разные порты, а указан один: {port}; "
            f"укажите другой: {DEMO_EMULATOR_HINT.format(port=port + 1)}"
        )
    require_port(DEMO_HOST, port, DEMO_HINT, avoid=(emulator_port,))
    require_port(DEMO_HOST, emulator_port, DEMO_EMULATOR_HINT, DEMO_EMULATOR, avoid=(port,))
    logging.basicConfig(level=logging.WARNING)
    try:
        asyncio.run(_run_demo(settings, port, emulator_port, args.smtp_port))
    except KeyboardInterrupt:
        pass
    return 0


async def _prepare_database(settings: Settings) -> DemoSummary:
    engine = engine_from(settings)
    try:
        await upgrade(engine)
        summary = await ensure_demo_school(engine, SystemClock())
    finally:
        await engine.dispose()
    if summary is None:
        raise SystemExit(
            "ediary demo: в базе уже есть другие школы, а демонстрационной нет; "
            "укажите пустую базу (EDIARY_DATABASE_URL) или удалите ./var/ediary.sqlite"
        )
    return summary


async def _run_demo(settings: Settings, port: int, emulator_port: int, smtp_port: int) -> None:
    from gateway.mail.demo import add_demo_mail_routes, demo_mail_settings
    from gateway.mail.sink import MailSink, running_sink
    from gosuslugi_adapter.emulator import RegisteredClient, load_persons, running_emulator
    from gosuslugi_adapter.key_files import load_certificate

    print("Готовлю базу данных и демонстрационную школу…", flush=True)
    summary = await _prepare_database(settings)
    key_file, cert_file, persons_file = _demo_files(esia_persons(summary.persons))
    public_url = f"http://{DEMO_HOST}:{port}"
    client = RegisteredClient(
        DEMO_CLIENT_ID, load_certificate(cert_file.read_bytes()), public_url + "/"
    )
    emulator = running_emulator([client], load_persons(persons_file), port=emulator_port)
    try:
        esia = await emulator.__aenter__()
    except OSError as exc:  # taken between the check and the start
        if exc.errno in _LISTEN_ERRORS:
            raise port_problem(
                DEMO_HOST, emulator_port, exc, DEMO_EMULATOR_HINT, DEMO_EMULATOR, (port,)
            ) from None
        raise
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_exit(emulator)
        sink = MailSink()
        sink_port = await stack.enter_async_context(running_sink(sink, DEMO_HOST, smtp_port))
        token_cert = DEMO_DIR / "esia-token-cert.pem"
        token_cert.write_bytes(esia.token_certificate_pem)
        demo_settings = dataclasses.replace(
            settings,
            server=dataclasses.replace(
                settings.server, host=DEMO_HOST, port=port, public_url=public_url
            ),
            esia=dataclasses.replace(
                settings.esia,
                base_url=esia.base_url,
                protocol="v2",
                client_id=DEMO_CLIENT_ID,
                signer="rsa",
                key_file=str(key_file),
                cert_file=str(cert_file),
                certificates=(str(token_cert),),
            ),
            mail=demo_mail_settings(settings.mail, DEMO_HOST, sink_port, public_url),
        )
        await _opt_in_demo_families(demo_settings, summary)
        app = create_app(demo_settings)
        add_demo_mail_routes(app, sink)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        try:
            await web.TCPSite(runner, DEMO_HOST, port).start()
        except OSError as exc:  # taken between the check and the start
            if exc.errno in _LISTEN_ERRORS:
                raise port_problem(
                    DEMO_HOST, port, exc, DEMO_HINT, avoid=(emulator_port,)
                ) from None
            raise
        _print_demo(public_url, esia.base_url, summary)
        await asyncio.Event().wait()


async def _opt_in_demo_families(settings: Settings, summary: DemoSummary) -> None:
    from zoneinfo import ZoneInfo

    from gateway.mail.demo import opt_in_demo_families

    families = [a.login for a in summary.accounts if a.role in (Role.PARENT, Role.PUPIL)]
    engine = engine_from(settings)
    try:
        await opt_in_demo_families(
            engine, families, SystemClock().now(), ZoneInfo(settings.server.timezone)
        )
    finally:
        await engine.dispose()


def _demo_files(persons: list[dict[str, object]]) -> tuple[Path, Path, Path]:
    """The demo's client key and certificate (made once, kept under ./var/demo/) and the
    emulator's persons file written from the demo school's families."""
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    key_file, cert_file = DEMO_DIR / "client-key.pem", DEMO_DIR / "client-cert.pem"
    if not key_file.exists() or not cert_file.exists():
        from gosuslugi_adapter.devkeys import generate_rsa_credentials

        creds = generate_rsa_credentials("ediary demo")
        key_file.write_bytes(creds.key_pem)
        cert_file.write_bytes(creds.cert_pem)
    persons_file = DEMO_DIR / "esia-persons.json"
    persons_file.write_text(json.dumps(persons, ensure_ascii=False, indent=2), "utf-8")
    return key_file, cert_file, persons_file


def _print_demo(public_url: str, esia_url: str, summary: DemoSummary) -> None:
    print()
    print(f"Электронный дневник: {public_url}/")
    print(f"Эмулятор ЕСИА (Госуслуги): {esia_url}/")
    print(f"Письма дневника (встроенный почтовый сервер): {public_url}/demo/mail")
    print(f"Школа: {summary.school_name}")
    print("Демонстрационные учётные записи (логин и пароль):")
    for account in summary.accounts:
        title = ROLE_TITLES.get(Role(account.role), account.role)
        print(f"  {title:<22} {account.login:<14} {account.password}  ({account.full_name})")
    if summary.persons:
        name = summary.persons[0].data.full_name
        print(
            "Вход через Госуслуги: нажмите «Войти через Госуслуги» и выберите на странице "
            f"эмулятора, например, {name} (родитель)."
        )
    print("Остановить: Ctrl+C", flush=True)
