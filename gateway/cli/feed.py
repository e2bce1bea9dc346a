"""``ediary feed export``: every pupil's signed progress document of a school, streamed to a
file (memory stays flat whatever the school's size; progress on stderr).

The file appears only once it is complete: the export writes a temporary file beside it and
renames it over ``--out`` at the end; a failed export leaves ``--out`` as it was. A pupil
whose stored data XML cannot carry is left out and named on stderr, and the command then
exits with :data:`EXIT_PUPILS_LEFT_OUT` (the file is still whole and well-formed)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
import tempfile
from concurrent.futures import Executor
from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from config import Settings
from config.settings import FeedSettings
from diary_core.clock import SystemClock
from diary_core.db import session_factory
from diary_core.errors import DiaryError, InvalidInput
from diary_core.models import School
from diary_core.progress.export import school_year_range
from diary_core.progress.model import check_range
from gateway.cli.common import Progress, atomic_output, settings_from, with_engine
from gateway.portal.export import (
    BATCH,
    Counts,
    ExportJob,
    default_workers,
    export,
    export_pool,
    in_flight,
    now_meta,
)
from gateway.portal.signing import self_signed_certificate

log = logging.getLogger("ediary.portal")

#: The export finished and the file is complete, but some pupils were left out (stderr says
#: who and why). Errors that stop the export exit 1 and leave no file.
EXIT_PUPILS_LEFT_OUT = 3


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    feed = subparsers.add_parser("feed", help="подписанные документы для портала госуслуг")
    actions = feed.add_subparsers(dest="feed_command", metavar="ACTION", required=True)
    cmd = actions.add_parser("export", help="выгрузить документы всех обучающихся школы")
    cmd.add_argument("--school", required=True, help="название школы, как оно заведено")
    cmd.add_argument(
        "--format",
        required=True,
        choices=("xml", "smev3", "jose"),
        dest="fmt",
        help="xml — XML-DSig, smev3 — профиль СМЭВ 3 (ГОСТ), jose — JWS",
    )
    cmd.add_argument("--out", required=True, type=Path, help="файл для выгрузки")
    cmd.add_argument("--from", dest="start", type=date.fromisoformat, help="ГГГГ-ММ-ДД")
    cmd.add_argument("--to", dest="end", type=date.fromisoformat, help="ГГГГ-ММ-ДД")
    cmd.add_argument("--workers", type=int, default=None, help="рабочих процессов (по числу ядер)")
    cmd.set_defaults(func=_run)
    check = actions.add_parser(
        "verify",
        help="проверить подписанный документ (XML-DSig или СМЭВ 3): дайджест, подпись, "
        "сертификат; показать, что подписано",
    )
    check.add_argument("file", type=Path, help="файл с документом")
    check.add_argument(
        "--cert",
        type=Path,
        action="append",
        default=[],
        help="доверенный сертификат подписи (PEM); можно несколько; без него — любой",
    )
    check.set_defaults(func=_verify)


async def _job(engine: AsyncEngine, args: argparse.Namespace, settings: Settings) -> ExportJob:
    now = SystemClock().now()
    async with session_factory(engine)() as session:
        school = await session.scalar(select(School).where(School.name == args.school.strip()))
        if school is None:
            raise InvalidInput(f"школа «{args.school}» не найдена")
        start, end = args.start, args.end
        if start is None or end is None:
            year = await school_year_range(session, school.id, now.date())
            start, end = start or year[0], end or year[1]
    check_range(start, end)
    return ExportJob(
        school.id, school.name, start, end, args.fmt, now_meta(settings.feed.issuer, now)
    )


def _verify(args: argparse.Namespace) -> int:
    """``ediary feed verify FILE``: every check of :func:`verify_document`, then what was
    signed. Exit 0 when it verifies, 1 naming the failed check when it does not."""
    from lxml import etree

    from gateway.portal.verify import VerificationError, verify_document
    from gosuslugi_adapter.key_files import KeyLoadError, load_certificate

    try:
        data = args.file.read_bytes()
        trusted = [load_certificate(path).der for path in args.cert]
    except (OSError, KeyLoadError) as exc:
        raise DiaryError(f"не удалось прочитать: {exc}") from None
    try:
        verified = verify_document(data, trusted=trusted)
    except VerificationError as exc:
        print(f"ediary: подпись НЕ подтверждена ({exc.check}): {exc}", file=sys.stderr)
        return 1
    root = verified.element
    print(f"Подпись подтверждена: профиль {verified.profile}, {verified.signature_method}")
    print(f"Подписал: {verified.signer} (сертификат действует до {verified.not_after:%d.%m.%Y})")
    if not trusted:
        print("Внимание: сертификат не сверен с доверенным (укажите --cert)")
    ident = f", Id={root.get('Id')}" if root.get("Id") else ""
    print(f"Подписано: {etree.QName(root).localname}{ident}, {len(verified.signed)} байт")
    return 0


def _with_key_files(feed: FeedSettings, folder: Path, fmt: str) -> FeedSettings:
    """Worker processes must share one key: without [feed] keys, throwaway ones on disk."""
    if fmt == "smev3":
        feed = _with_gost_files(feed, folder)
    if feed.key_file and feed.cert_file:
        return feed
    log.warning("[feed] key_file/cert_file are not set: the export is signed with a throwaway key")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed_certificate(key, feed.issuer)
    (folder / "feed.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (folder / "feed.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return FeedSettings(**{**feed.__dict__, "key_file": str(folder / "feed.key"),
                           "cert_file": str(folder / "feed.crt")})  # fmt: skip


def _with_gost_files(feed: FeedSettings, folder: Path) -> FeedSettings:
    if feed.smev3_cert_file and (feed.smev3_key_file or feed.smev3_sign_command):
        return feed
    from gosuslugi_adapter.devkeys import generate_gost_credentials

    log.warning("[feed] smev3_* keys are not set: the export is signed with a throwaway GOST key")
    key, cert = generate_gost_credentials(feed.issuer).write(folder, "feed-gost")
    return dataclasses.replace(feed, smev3_key_file=str(key), smev3_cert_file=str(cert))


def _run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    workers = args.workers or default_workers()
    with tempfile.TemporaryDirectory() as tmp:
        feed = _with_key_files(settings.feed, Path(tmp), args.fmt)
        # First, before an event loop or a database engine exists (see export_pool).
        with export_pool(feed, settings.database.url, workers) as pool:
            counts = asyncio.run(
                with_engine(settings, lambda engine: _export(engine, args, settings, pool, workers))
            )
    for skipped in counts.skipped:
        print(f"ediary: {skipped} — не выгружен", file=sys.stderr)
    print(f"Выгружено документов: {counts.pupils} (отметок: {counts.marks}) → {args.out}",
          file=sys.stderr)  # fmt: skip
    if counts.skipped:
        print(f"ediary: не выгружено обучающихся: {len(counts.skipped)}", file=sys.stderr)
        return EXIT_PUPILS_LEFT_OUT
    return 0


async def _export(
    engine: AsyncEngine, args: argparse.Namespace, settings: Settings, pool: Executor, workers: int
) -> Counts:
    job = await _job(engine, args, settings)
    progress = Progress("отметок выгружено", every=BATCH * 100)
    try:
        with atomic_output(args.out) as out:
            counts = await export(
                session_factory(engine), job, out, pool, progress.advance, in_flight(workers)
            )
    except OSError as exc:  # a full disk, a lost mount …: say so; the target is left as it was
        reason = exc.strerror or str(exc)
        raise DiaryError(f"выгрузка в {args.out} не удалась: {reason}; файл не изменён") from exc
    progress.finish()
    return counts
