"""The export's stream (``gateway.portal.export``): the documents its workers read, build and
sign are byte for byte those the endpoint builds; batches are written in pupil order however
the workers finish, with at most ``in_flight`` of them out at once; and ``ediary feed export``
run as a program (workers forked) writes the same documents as a run from a process with
threads (workers spawned)."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from config.settings import FeedSettings
from diary_core.db import session_factory
from diary_core.families import PersonData, enroll_pupil
from diary_core.marks import record_mark
from diary_core.models import Pupil
from diary_core.policy import PortalReader
from diary_core.progress.reading import load_progress, load_pupil_rows
from gateway.cli import feed
from gateway.portal import documents
from gateway.portal import export as export_module
from gateway.portal.export import ExportJob, export, export_pool
from gateway.portal.signing import DocumentSignatures
from gateway.portal.signing_worker import Batch, Signed
from gateway.portal.xml import progress_xml
from tests.integration.portal.conftest import Marks
from tests.support.world import World, next_snils

REPO = Path(__file__).resolve().parents[3]
META = documents.Meta("ediary-gateway", datetime(2025, 10, 15, 10, 0, tzinfo=UTC),
                      datetime(2025, 10, 15, 10, 0, tzinfo=UTC))  # fmt: skip


async def more_pupils(world: World, n: int) -> list[int]:
    """``n`` more pupils in 5Б of school A, each with a mark of his own (so that one batch
    holds several pupils' marks)."""
    ctx = await world.ctx()
    math = await world.ctx(world.teacher_math)
    ids = []
    for i in range(n):
        person = PersonData("Новиков", f"Ученик{i}", "Иванович", date(2014, 5, 1), next_snils())
        ids.append((await enroll_pupil(ctx, world.class_5b, person)).id)
        await record_mark(
            math, pupil_id=ids[-1], subject_id=world.math_a, day=date(2025, 10, 2),
            value=str(5 - i % 4), work_type_id=world.a.work_type_ids["Диктант"],
        )  # fmt: skip
    await world.session.commit()
    return ids


async def school_a_pupil_ids(world: World) -> list[int]:
    rows = await world.session.scalars(
        select(Pupil.id).where(Pupil.school_id == world.a.id).order_by(Pupil.id)
    )
    return list(rows)


async def as_the_endpoint_builds_them(
    world: World, fmt: str, marks: Marks, signer: DocumentSignatures
) -> bytes:
    """Every pupil's document of school A, loaded, built and signed one by one, as the
    endpoint does."""
    parts = []
    reader = PortalReader.school_export(world.a.id)
    for pupil_id in await school_a_pupil_ids(world):
        progress = await load_progress(world.session, reader, pupil_id, marks.start, marks.end)
        rows = await load_pupil_rows(world.session, reader, progress.pupil, marks.start, marks.end)
        doc = documents.progress_json(rows, META)
        if fmt == "xml":
            parts.append(signer.sign_xml(progress_xml(doc)))
        else:
            parts.append(signer.sign_jws(documents.dumps(doc)).encode())
        parts.append(b"\n")
    return b"".join(parts)


@pytest.mark.parametrize("fmt", ["xml", "jose"])
async def test_exported_documents_are_the_endpoints_documents_byte_for_byte(
    fmt: str, db_url: str, engine: AsyncEngine, world: World, marks: Marks,
    feed_keys: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    await more_pupils(world, 4)
    # Batches of two pupils, ids read three at a time: batches cross the keyset pages.
    monkeypatch.setattr(export_module, "BATCH", 2)
    monkeypatch.setattr(export_module, "IDS_PER_QUERY", 3)
    job = ExportJob(world.a.id, "Школа А", marks.start, marks.end, fmt, META)
    keys = FeedSettings(key_file=str(feed_keys[0]), cert_file=str(feed_keys[1]))
    out = io.BytesIO()
    with export_pool(keys, db_url, 2) as pool:
        counts = await export(session_factory(engine), job, out, pool, lambda _: None, 3)
    signer = DocumentSignatures.from_files(str(feed_keys[0]), str(feed_keys[1]))
    body = await as_the_endpoint_builds_them(world, fmt, marks, signer)
    if fmt == "xml":
        body = export_module._head(job) + body + b"</p:Export>\n"
    assert out.getvalue() == body
    assert counts.pupils == len(await school_a_pupil_ids(world))
    assert counts.marks == 3 + 4  # pupil_a1's three and one of each new pupil


class CountingPool(ThreadPoolExecutor):
    """Counts the batches handed out and not yet written (``written`` is called per write)."""

    def __init__(self) -> None:
        super().__init__(max_workers=3)
        self.lock = threading.Lock()
        self.out = 0
        self.most = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self.lock:
            self.out += 1
            self.most = max(self.most, self.out)
        return super().submit(fn, *args, **kwargs)

    def written(self) -> None:
        with self.lock:
            self.out -= 1


async def test_batches_are_written_in_pupil_order_with_at_most_in_flight_out(
    engine: AsyncEngine, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await more_pupils(world, 9)
    ids = await school_a_pupil_ids(world)
    monkeypatch.setattr(export_module, "BATCH", 1)
    monkeypatch.setattr(export_module, "IDS_PER_QUERY", 4)

    def sign(batch: Batch) -> Signed:
        """The first batch of each three finishes last."""
        (pupil_id,) = batch.pupil_ids
        time.sleep(0.05 if ids.index(pupil_id) % 3 == 0 else 0.0)
        return Signed(f"{pupil_id}\n".encode(), 1, pupil_id)

    monkeypatch.setattr(export_module, "export_batch", sign)
    pool = CountingPool()

    class Out(io.BytesIO):
        def write(self, data: Any) -> int:
            pool.written()
            return super().write(data)

    job = ExportJob(world.a.id, "Школа А", date(2025, 9, 1), date(2026, 5, 31), "jose", META)
    out, advanced = Out(), list[int]()
    with pool:
        counts = await export(session_factory(engine), job, out, pool, advanced.append, 3)
    assert out.getvalue().split() == [str(i).encode() for i in ids]
    assert advanced == ids and counts.pupils == len(ids) == 12
    assert pool.most == 3


def payloads(path: Path) -> list[dict[str, Any]]:
    """The JWS payloads of an export, without their issue and as-of times."""
    docs = [json.loads(jwt.api_jws.decode(line, options={"verify_signature": False}))
            for line in path.read_text().splitlines()]  # fmt: skip
    for doc in docs:
        del doc["issuedAt"], doc["asOf"]
    return docs


async def test_export_run_as_a_program_writes_what_a_threaded_run_writes(
    db_url: str, engine: AsyncEngine, world: World, marks: Marks,
    feed_keys: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    await more_pupils(world, 2)
    env = {"EDIARY_DATABASE_URL": db_url, "EDIARY_FEED_KEY_FILE": str(feed_keys[0]),
           "EDIARY_FEED_CERT_FILE": str(feed_keys[1])}  # fmt: skip
    argv = ["feed", "export", "--school", "Школа А", "--format", "jose", "--from",
            marks.start.isoformat(), "--to", marks.end.isoformat(), "--workers", "2"]  # fmt: skip
    program = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli.main", *argv, "--out", str(tmp_path / "forked.jws"),
        cwd=REPO, env={**os.environ, **env}, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await program.communicate()
    assert program.returncode == 0, stderr.decode()

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    parser = argparse.ArgumentParser()
    feed.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([*argv, "--out", str(tmp_path / "spawned.jws")])
    assert await asyncio.to_thread(args.func, args) == 0

    forked = payloads(tmp_path / "forked.jws")
    assert forked == payloads(tmp_path / "spawned.jws")
    assert len(forked) == len(await school_a_pupil_ids(world))
    assert {d["school"]["id"] for d in forked} == {world.a.id}
    assert sum(len(s["marks"]) for d in forked for s in d["subjects"]) == 3 + 2
