"""The portal feed under load, and the bulk export, on a generated district in PostgreSQL.

One run, the same number of server processes throughout (``--servers``, default: one per
core, sharing the port with SO_REUSEPORT), 50 concurrent connections:

1. the ceiling: a bare aiohttp handler that reads one row (a pupil) by primary key through the
   gateway's own database pool and returns it as JSON;
2. ``GET /portal/v1/pupils/{snils}/progress`` as JWS and as XML, each *warm* (the same pupils
   again: unchanged data, reused signature) and *cold* (every request for a pupil and range
   whose document has not been signed yet);
3. ``ediary feed export`` of every school of the district (≥ 1,000,000 marks): marks/s and
   the peak memory of the export's whole process tree (sampled from /proc).

It prints requests/s, p50, p99 and the ratio to the ceiling; it asserts nothing about time.
A database ``ediary_bench_portal_<random>`` is created on 127.0.0.1:5432 and dropped after.

    python bench/bench_portal.py [--schools 5] [--pupils 1800] [--repeat 2]
        [--keep-db | --reuse-db NAME] [--skip http|export] [--seconds 10] [--servers N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import asyncpg
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from diary_core.clock import FixedClock
from diary_core.db import create_engine, session_factory, upgrade
from diary_core.demo.generator import generate_district
from diary_core.models import Mark, Pupil, School, User

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
GENERATED_AT = datetime(2026, 5, 25, 12, 0, tzinfo=UTC)  # the year's marks are all there
YEAR = (date(2025, 9, 1), date(2026, 5, 31))
HERE = Path(__file__).resolve()


def pg_url(name: str) -> str:
    return f"postgresql+asyncpg://{PG['user']}@{PG['host']}:{PG['port']}/{name}"


def pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


# ----------------------------------------------------------------------------- server side


def serve(args: argparse.Namespace) -> None:
    """One server process: the gateway with the portal, plus the ceiling handler."""
    from aiohttp import web

    from config import load_settings
    from gateway import keys
    from gateway.app import create_app
    from gateway.portal import setup_portal

    async def ceiling(request: web.Request) -> web.Response:
        async with request.app[keys.SESSIONS]() as session:
            row = (
                await session.execute(
                    select(Pupil.id, Pupil.user_id, Pupil.school_id, Pupil.class_id).where(
                        Pupil.id == int(request.match_info["id"])
                    )
                )
            ).first()
        if row is None:
            raise web.HTTPNotFound()
        return web.json_response(
            dict(zip(("id", "user_id", "school_id", "class_id"), row, strict=True))
        )

    settings = load_settings(environ=_server_env(args))
    app = create_app(settings)
    if "/portal/oauth/token" not in {r.canonical for r in app.router.resources()}:
        setup_portal(app)
    app.router.add_get("/bench/ceiling/{id}", ceiling)
    web.run_app(app, host="127.0.0.1", port=args.port, reuse_port=True, print=None, access_log=None)


def _server_env(args: argparse.Namespace) -> dict[str, str]:
    return {
        "EDIARY_DATABASE_URL": args.db,
        "EDIARY_DATABASE_POOL_SIZE": "20",
        "EDIARY_SERVER_PUBLIC_URL": f"http://127.0.0.1:{args.port}",
        "EDIARY_FEED_KEY_FILE": args.feed_key,
        "EDIARY_FEED_CERT_FILE": args.feed_cert,
        "EDIARY_FEED_RATE_LIMIT_PER_MINUTE": "1000000000",
    }


def export_child(args: argparse.Namespace) -> None:
    """The export command itself, in its own process (so its memory is measured alone)."""
    from gateway.cli import feed

    parser = argparse.ArgumentParser()
    feed.register(parser.add_subparsers(dest="command", required=True))
    ns = parser.parse_args(
        ["feed", "export", "--school", args.school, "--format", args.fmt, "--out", args.out,
         "--from", YEAR[0].isoformat(), "--to", YEAR[1].isoformat()]
    )  # fmt: skip
    os.environ.update(_server_env(args))
    sys.exit(ns.func(ns))


# ----------------------------------------------------------------------------- load side


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else 0.0


async def load(
    name: str, base: str, paths: Iterator[str], headers: dict[str, str], concurrency: int,
    seconds: float,
) -> Result:  # fmt: skip
    """``concurrency`` connections each taking the next path until time or paths run out."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base, connector=connector, headers=headers) as http:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                path = next(paths, None)
                if path is None:
                    return
                t0 = time.perf_counter()
                async with http.get(path) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return Result(name, len(latencies), errors, elapsed, latencies)


async def token(base: str, client_id: str, key: rsa.RSAPrivateKey) -> str:
    now = int(time.time())
    aud = base + "/portal/oauth/token"
    claims = {"iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + 240,
              "jti": uuid.uuid4().hex}  # fmt: skip
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": jwt.encode(claims, pem(key), algorithm="RS256"),
    }
    async with aiohttp.ClientSession() as http, http.post(aud, data=form) as resp:
        body = await resp.json()
        if resp.status != 200:
            raise SystemExit(f"token refused: {body}")
        return str(body["access_token"])


def cycle(items: list[str]) -> Iterator[str]:
    while True:
        yield from items


def progress_path(snils: str, start: date, end: date) -> str:
    return f"/portal/v1/pupils/{quote(snils)}/progress?from={start}&to={end}"


def cold_paths(snils: list[str]) -> Iterator[str]:
    """Pupil × range pairs never asked for before: the range ends one day earlier each round."""
    for shift in range(1, 200):
        end = date.fromordinal(YEAR[1].toordinal() - shift)
        for s in snils:
            yield progress_path(s, YEAR[0], end)


async def run_http(ns: argparse.Namespace, base: str, snils: list[str], ids: list[int],
                   client_id: str, key: rsa.RSAPrivateKey) -> list[list[Result]]:  # fmt: skip
    """``ns.repeat`` rounds of every scenario, each round with its own ceiling; cold paths
    continue across rounds, so a cold request is never for a document signed before."""
    rounds: list[list[Result]] = []
    c, secs = ns.concurrency, ns.seconds
    ceiling = [f"/bench/ceiling/{i}" for i in ids]
    # Pupils in a fixed random order: every grade, not only the first grades' pupils (who
    # have few or no marks) that the enrolment order would give.
    mixed = list(snils)
    random.Random(1).shuffle(mixed)
    warm_set = [progress_path(s, *YEAR) for s in mixed[: ns.warm_pupils]]
    cold = {"JWS": cold_paths(mixed), "XML": cold_paths(list(reversed(mixed)))}
    primed: set[str] = set()
    for _ in range(ns.repeat):
        results = [await load("ceiling (1 row by PK, JSON)", base, cycle(ceiling), {}, c, secs)]
        for fmt, accept in (("JWS", "application/jose"), ("XML", "application/xml")):
            bearer = f"Bearer {await token(base, client_id, key)}"
            headers = {"Accept": accept, "Authorization": bearer}
            if fmt not in primed:
                await load("prime", base, iter(warm_set), headers, c, 600)  # sign them once
                primed.add(fmt)
            results.append(await load(f"{fmt} warm", base, cycle(warm_set), headers, c, secs))
            headers["Authorization"] = f"Bearer {await token(base, client_id, key)}"
            results.append(await load(f"{fmt} cold", base, cold[fmt], headers, c, secs))
        report(results)
        rounds.append(results)
    return rounds


def report(results: list[Result]) -> None:
    top = results[0].rps
    print(
        f"\n{'scenario':32} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'×ceiling':>9} {'errors':>7}"
    )
    for r in results:
        print(f"{r.name:32} {r.rps:9.0f} {r.pct(0.5):8.1f} {r.pct(0.99):8.1f} "
              f"{r.rps / top:9.2f} {r.errors:7d}")  # fmt: skip


def report_ranges(rounds: list[list[Result]]) -> None:
    """Each scenario's range over the rounds (ratios to the ceiling of the same round)."""
    print(f"\nover {len(rounds)} rounds: {'scenario':32} {'req/s':>13} {'×ceiling':>11}")
    for i, first in enumerate(rounds[0]):
        rps = [r[i].rps for r in rounds]
        ratio = [r[i].rps / r[0].rps for r in rounds]
        print(f"{'':15} {first.name:32} {min(rps):6.0f}–{max(rps):<6.0f} "
              f"{min(ratio):5.2f}–{max(ratio):<5.2f}")  # fmt: skip


# ----------------------------------------------------------------------------- export side


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, in kB."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def run_export(
    ns: argparse.Namespace, common: list[str], school: str, fmt: str, out: Path
) -> tuple[float, int]:
    """Wall seconds and the peak resident memory (kB) of the export's process tree."""
    cmd = [sys.executable, str(HERE), "export-child", *common, "--school", school,
           "--fmt", fmt, "--out", str(out)]  # fmt: skip
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    peak = 0
    while child.poll() is None:
        peak = max(peak, tree_rss_kb(child.pid))
        time.sleep(0.05)
    if child.returncode != 0:
        raise SystemExit(f"export of {school} failed ({child.returncode})")
    return time.perf_counter() - start, peak


# ----------------------------------------------------------------------------- orchestration


async def prepare(url: str, ns: argparse.Namespace, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    from gateway.portal.clients import parse_public_keys, register_client

    engine = create_engine(url)
    await upgrade(engine)
    t0 = time.perf_counter()
    await generate_district(engine, schools=ns.schools, pupils_per_school=ns.pupils,
                            clock=FixedClock(GENERATED_AT))  # fmt: skip
    generated = time.perf_counter() - t0
    async with session_factory(engine)() as s:
        schools = [
            tuple(r) for r in await s.execute(select(School.id, School.name).order_by(School.id))
        ]
        count = select(func.count()).select_from(Mark)
        marks = {sid: await s.scalar(count.where(Mark.school_id == sid)) for sid, _ in schools}
        first = schools[0][0]
        pupils = select(Pupil.id, User.snils).join(User, User.id == Pupil.user_id)
        rows = (await s.execute(pupils.where(Pupil.school_id == first).order_by(Pupil.id))).all()
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        client_id = await register_client(
            s, name=f"bench {uuid.uuid4().hex[:8]}", jwks=parse_public_keys(public),
            scopes=frozenset({"progress.read", "changes.read"}), school_ids=None,
            now=datetime.now(UTC),
        )  # fmt: skip
        await s.commit()
    await engine.dispose()
    return {
        "schools": schools,
        "marks": marks,
        "ids": [r[0] for r in rows],
        "snils": [r[1] for r in rows],
        "client_id": client_id,
        "generated": generated,
    }


async def _admin(sql: str, database: str = "postgres") -> None:
    conn = await asyncpg.connect(database=database, **PG)  # type: ignore[arg-type]
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def start_servers(common: list[str], n: int, port: int) -> list[subprocess.Popen[bytes]]:
    procs = [subprocess.Popen([sys.executable, str(HERE), "serve", *common]) for _ in range(n)]
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            import urllib.request

            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    time.sleep(1.0)  # let the other processes finish starting
                    return procs
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the servers did not start")


def main() -> None:
    ns = parse()
    if ns.command == "serve":
        return serve(ns)
    if ns.command == "export-child":
        return export_child(ns)
    name = ns.reuse_db or f"ediary_bench_portal_{uuid.uuid4().hex[:8]}"
    if not ns.reuse_db:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    tmp = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        run(ns, pg_url(name), tmp, procs)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        if not (ns.keep_db or ns.reuse_db):
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()


def run(ns: argparse.Namespace, url: str, tmp: Path, procs: list[subprocess.Popen[bytes]]) -> None:
    from gateway.portal.signing import self_signed_certificate

    feed_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp / "feed.key").write_bytes(pem(feed_key))
    cert = self_signed_certificate(feed_key, "ediary-gateway bench")
    (tmp / "feed.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    client_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    print(f"generating {ns.schools} schools × ~{ns.pupils} pupils …", flush=True)
    data = asyncio.run(prepare(url, ns, client_key))
    # A freshly generated district has no planner statistics and no visibility map yet; a
    # live one has both (autovacuum): measure that state, not the bulk load's aftermath.
    asyncio.run(_admin("VACUUM ANALYZE", url.rsplit("/", 1)[1]))
    total = sum(data["marks"].values())
    print(f"district: {len(data['schools'])} schools, {total:,} marks "
          f"(generated in {data['generated']:.0f} s); HTTP on {data['schools'][0][1]} "
          f"({len(data['ids'])} pupils); {ns.servers} server processes, {os.cpu_count()} cores",
          flush=True)  # fmt: skip
    if total < 1_000_000:
        print(f"warning: {total:,} marks, fewer than the 1,000,000 the target is set for")
    common = ["--db", url, "--port", str(ns.port), "--feed-key", str(tmp / "feed.key"),
              "--feed-cert", str(tmp / "feed.crt")]  # fmt: skip
    procs += start_servers(common, ns.servers, ns.port)
    base = f"http://127.0.0.1:{ns.port}"
    if ns.skip != "http":
        rounds = asyncio.run(
            run_http(ns, base, data["snils"], data["ids"], data["client_id"], client_key)
        )
        report_ranges(rounds)
    for p in procs:
        p.terminate()
    if ns.skip == "export":
        return
    print("\nexport (ediary feed export, every school of the district, one after another):")
    for fmt in ("xml", "jose") * ns.repeat:
        seconds, peak = 0.0, 0
        for sid, school in data["schools"]:
            spent, rss = run_export(ns, common, school, fmt, tmp / f"export-{sid}.{fmt}")
            seconds, peak = seconds + spent, max(peak, rss)
            (tmp / f"export-{sid}.{fmt}").unlink()
        print(f"  {fmt:5} {total:,} marks in {seconds:.1f} s = {total / seconds:,.0f} marks/s; "
              f"peak memory (process tree) {peak / 1024:.0f} MB")  # fmt: skip


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "command", nargs="?", default="bench", choices=("bench", "serve", "export-child")
    )
    p.add_argument("--schools", type=int, default=5)
    p.add_argument(
        "--pupils", type=int, default=1800, help="pupils per school (the generator: ≤ ~2000)"
    )
    p.add_argument("--seconds", type=float, default=10.0, help="per HTTP scenario")
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--warm-pupils", type=int, default=300)
    p.add_argument("--servers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--port", type=int, default=18080)
    p.add_argument("--keep-db", action="store_true", help="do not drop the database after")
    p.add_argument("--reuse-db", help="run on this database generated before (--keep-db)")
    p.add_argument("--repeat", type=int, default=2, help="runs of each scenario (a range)")
    p.add_argument("--skip", choices=("http", "export"), help="leave one part out")
    p.add_argument("--db")
    p.add_argument("--feed-key")
    p.add_argument("--feed-cert")
    p.add_argument("--school")
    p.add_argument("--fmt")
    p.add_argument("--out")
    return p.parse_args()


if __name__ == "__main__":
    main()
