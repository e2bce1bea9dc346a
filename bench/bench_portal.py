"""The portal feed under load, and the bulk export, on a generated district in PostgreSQL.

One run, the same number of server processes throughout (``--servers``, default: one per
core, sharing the port with SO_REUSEPORT), 50 concurrent connections:

1. the ceiling: a bare aiohttp handler that reads one row (a pupil) by primary key through the
   gateway's own database pool and returns it as JSON;
2. ``GET /portal/v1/pupils/{snils}/progress`` as JWS, as XML (RSA, enveloped) and as XML in
   the SMEV 3 profile (GOST R 34.10-2012 in the process, the SMEV transform), each *warm* (the
   same pupils again: unchanged data, reused signature) and *cold* (every request for a pupil
   and range whose document has not been signed yet);
3. ``ediary feed export`` of every school of the district (≥ 1,000,000 marks), run as an
   operator runs it (``python -m gateway.cli.main``, one process per school): marks/s, the
   peak memory of the export's whole process tree (sampled from /proc: the sum of PSS, and
   for comparison the sum of RSS, which the first figures used, and of USS; see
   :class:`ExportRun`) and CPU per mark (the export's processes, its main process, and the
   PostgreSQL backends that serve it).

It prints requests/s, p50, p99 and the ratio to the ceiling, and for each HTTP scenario what
one request cost (:class:`Cost`: CPU of the servers and of the database's backends, SQL
statements), which other load on the machine disturbs far less; it asserts nothing about time.
A database ``ediary_bench_portal_<random>`` is created on 127.0.0.1:5432 and dropped after.

    python bench/bench_portal.py [--schools 5] [--pupils 1800] [--repeat 2]
        [--keep-db | --reuse-db NAME] [--skip http|export] [--seconds 10] [--servers N]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import signal
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
from sqlalchemy import event, func, select

from diary_core.clock import FixedClock
from diary_core.db import create_engine, session_factory
from diary_core.demo.generator import generate_district
from diary_core.models import Mark, Pupil, School, User
from gateway.storage.schema import upgrade
from gosuslugi_adapter.devkeys import generate_gost_credentials

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

    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    def dump() -> None:  # on SIGUSR1: the load side reads it before and after a scenario
        (Path(args.feed_key).parent / f"statements-{os.getpid()}").write_text(str(statements))

    def counting(method: Any) -> Any:  # statements sent through asyncpg itself (driver.py)
        async def counted(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            if args or method.__name__ != "execute":  # not asyncpg's own BEGIN or COMMIT
                count()
            return await method(self, query, *args, **kwargs)

        return counted

    async def instrument(app: web.Application) -> None:
        event.listen(app[keys.ENGINE].sync_engine, "before_cursor_execute", count)
        for name in ("fetchrow", "fetch", "execute"):
            setattr(asyncpg.Connection, name, counting(getattr(asyncpg.Connection, name)))
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, dump)

    settings = load_settings(environ=_server_env(args))
    app = create_app(settings)
    if "/portal/oauth/token" not in {r.canonical for r in app.router.resources()}:
        setup_portal(app)
    app.router.add_get("/bench/ceiling/{id}", ceiling)
    app.on_startup.append(instrument)
    web.run_app(app, host="127.0.0.1", port=args.port, reuse_port=True, print=None, access_log=None)


def _server_env(args: argparse.Namespace) -> dict[str, str]:
    return {
        "EDIARY_DATABASE_URL": args.db,
        "EDIARY_DATABASE_POOL_SIZE": "50",
        "EDIARY_SERVER_PUBLIC_URL": f"http://127.0.0.1:{args.port}",
        "EDIARY_FEED_KEY_FILE": args.feed_key,
        "EDIARY_FEED_CERT_FILE": args.feed_cert,
        "EDIARY_FEED_SMEV3_KEY_FILE": str(Path(args.feed_key).with_name("feed-gost.key")),
        "EDIARY_FEED_SMEV3_CERT_FILE": str(Path(args.feed_key).with_name("feed-gost.pem")),
        "EDIARY_FEED_RATE_LIMIT_PER_MINUTE": "1000000000",
    }


# ----------------------------------------------------------------------------- load side


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    cost: Cost | None = None  # per request, measured around the scenario

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else 0.0


@dataclass(frozen=True)
class Cost:
    """What one request cost, robust to other load on the machine: CPU of the server
    processes, CPU of the PostgreSQL backends of the benchmark's database (sampled from
    /proc), and SQL statements the servers ran (SQLAlchemy's cursor executions and the reads
    sent through asyncpg directly; BEGIN, COMMIT and the pool's pre-ping are not counted)."""

    server_ms: float
    db_ms: float
    statements: float


class Meter:
    """Measures :class:`Cost` over a scenario: ``start()`` before, ``cost(requests)`` after."""

    def __init__(self, servers: list[int], database: str, stats: Path) -> None:
        self.servers, self.database, self.stats = servers, database, stats

    def _statements(self) -> int:
        files = [self.stats / f"statements-{pid}" for pid in self.servers]
        for f in files:
            f.unlink(missing_ok=True)
        for pid in self.servers:
            os.kill(pid, signal.SIGUSR1)
        deadline = time.time() + 5
        while not all(f.exists() for f in files) and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(0.01)  # let the last write finish
        return sum(int(f.read_text() or 0) for f in files if f.exists())

    def _server_cpu(self) -> float:
        return sum(cpu_seconds(pid) or 0.0 for pid in self.servers)

    def start(self) -> None:
        self.cpu0, self.statements0 = self._server_cpu(), self._statements()
        self.db = DatabaseBackends(self.database)

    def cost(self, requests: int) -> Cost:
        self.db.sample()
        cpu, statements = self._server_cpu() - self.cpu0, self._statements() - self.statements0
        n = max(requests, 1)
        return Cost(cpu / n * 1000, self.db.seconds() / n * 1000, statements / n)


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


#: The HTTP scenarios' representations: (label, Accept).
FORMATS = (
    ("JWS", "application/jose"),
    ("XML", "application/xml"),
    ("SMEV3", 'application/xml; profile="smev3"'),
)


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
                   client_id: str, key: rsa.RSAPrivateKey,
                   meter: Meter) -> list[list[Result]]:  # fmt: skip
    """``ns.repeat`` rounds of every scenario, each round with its own ceiling; cold paths
    continue across rounds, so a cold request is never for a document signed before."""

    async def measured(name: str, paths: Iterator[str], headers: dict[str, str]) -> Result:
        meter.start()
        result = await load(name, base, paths, headers, c, secs)
        result.cost = meter.cost(result.requests)
        return result

    rounds: list[list[Result]] = []
    c, secs = ns.concurrency, ns.seconds
    ceiling = [f"/bench/ceiling/{i}" for i in ids]
    # Pupils in a fixed random order: every grade, not only the first grades' pupils (who
    # have few or no marks) that the enrolment order would give.
    mixed = list(snils)
    random.Random(1).shuffle(mixed)
    warm_set = [progress_path(s, *YEAR) for s in mixed[: ns.warm_pupils]]
    cold = {
        "JWS": cold_paths(mixed),
        "XML": cold_paths(list(reversed(mixed))),
        "SMEV3": cold_paths(mixed[len(mixed) // 2 :] + mixed[: len(mixed) // 2]),
    }
    primed: set[str] = set()
    for _ in range(ns.repeat):
        results = [await measured("ceiling (1 row by PK, JSON)", cycle(ceiling), {})]
        for fmt, accept in FORMATS:
            bearer = f"Bearer {await token(base, client_id, key)}"
            headers = {"Accept": accept, "Authorization": bearer}
            if fmt not in primed:
                await load("prime", base, iter(warm_set), headers, c, 600)  # sign them once
                primed.add(fmt)
            results.append(await measured(f"{fmt} warm", cycle(warm_set), headers))
            headers["Authorization"] = f"Bearer {await token(base, client_id, key)}"
            results.append(await measured(f"{fmt} cold", cold[fmt], headers))
        report(results)
        rounds.append(results)
    return rounds


def report(results: list[Result]) -> None:
    top = results[0].rps
    print(f"\n{'scenario':32} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'×ceiling':>9} "
          f"{'errors':>7}   per request: {'server CPU':>10} {'DB CPU':>8} {'SQL':>5}")  # fmt: skip
    for r in results:
        cost = r.cost or Cost(0.0, 0.0, 0.0)
        print(f"{r.name:32} {r.rps:9.0f} {r.pct(0.5):8.1f} {r.pct(0.99):8.1f} "
              f"{r.rps / top:9.2f} {r.errors:7d}                {cost.server_ms:7.2f} ms "
              f"{cost.db_ms:5.2f} ms {cost.statements:5.2f}")  # fmt: skip


def report_ranges(rounds: list[list[Result]]) -> None:
    """Each scenario's range over the rounds (ratios to the ceiling of the same round)."""
    print(f"\nover {len(rounds)} rounds: {'scenario':32} {'req/s':>13} {'×ceiling':>11}")
    for i, first in enumerate(rounds[0]):
        rps = [r[i].rps for r in rounds]
        ratio = [r[i].rps / r[0].rps for r in rounds]
        print(f"{'':15} {first.name:32} {min(rps):6.0f}–{max(rps):<6.0f} "
              f"{min(ratio):5.2f}–{max(ratio):<5.2f}")  # fmt: skip


# ----------------------------------------------------------------------------- export side


@dataclass
class ExportRun:
    """One ``ediary feed export``: wall time, CPU and the peak memory of its process tree.

    Memory is sampled from /proc, three ways, each summed over the processes of the tree (the
    main process and its workers); RSS every 50 ms, PSS and USS (dearer to read) every 0.5 s
    and whenever the RSS sum reaches a new high:

    - ``rss``: resident set sizes, the only figure the benchmark printed at first. It counts
      every page once per process that maps it, so pages shared between processes (the
      interpreter, shared libraries such as libcrypto and libxml2, a forked worker's pages
      it has not written since the fork) are counted several times: an upper bound.
    - ``pss``: proportional set sizes (/proc/PID/smaps_rollup): a shared page counts 1/n in
      each of the n processes that map it, so the sum is the tree's share of physical memory
      without double counting. Pages shared with processes outside the tree (other Python
      programs running the same libraries) are split with them too, so it varies a little
      with what else runs. The headline figure.
    - ``uss``: unique (private) pages only: what ending the tree would free; a lower bound.

    CPU: user + system seconds of the whole tree (``wait4`` of the main process includes its
    reaped workers), of the main process alone, and of the PostgreSQL backends serving the
    benchmark's database while the export runs (sampled, so the last 50 ms may be missing):
    the export's reading moves work into the database server, on the same cores.
    """

    seconds: float
    rss: int  # kB, peak of the sums
    pss: int
    uss: int
    cpu: float  # s, the export's whole process tree
    cpu_main: float  # s, its main process
    cpu_db: float  # s, the database's backends


_TICK = os.sysconf("SC_CLK_TCK")


def tree_pids(pid: int) -> list[int]:
    """A process and all its descendants."""
    found, stack = [], [pid]
    while stack:
        p = stack.pop()
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
        found.append(p)
    return found


def rss_kb(pid: int) -> int:
    """Resident memory of one process, in kB (0 if it has ended). Cheap."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def memory_kb(pid: int) -> tuple[int, int, int]:
    """RSS, PSS and USS of one process, in kB (zeros if it has ended). The kernel walks the
    process's page tables for this: milliseconds for a large process."""
    fields: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, value = line.split(":", 1)
            fields[name] = int(value.split()[0])
    except (FileNotFoundError, ProcessLookupError):
        return 0, 0, 0
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return fields.get("Rss", 0), fields.get("Pss", 0), uss


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of one process so far (None if it has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


class DatabaseBackends:
    """CPU of the PostgreSQL backends serving one database (found by their process titles,
    ``postgres: … USER DATABASE HOST(PORT) …``), counted from when this object is made."""

    def __init__(self, database: str) -> None:
        self.marker = f" {database} ".encode()
        self.serves: dict[int, bool] = {}  # pid → is a backend of our database
        self.cpu: dict[int, float] = {}
        self.sample()
        self.before = dict(self.cpu)

    def sample(self) -> None:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            if pid not in self.serves:
                try:
                    title = (entry / "cmdline").read_bytes()
                except (FileNotFoundError, ProcessLookupError):
                    continue
                self.serves[pid] = title.startswith(b"postgres: ") and self.marker in title
            cpu = cpu_seconds(pid) if self.serves[pid] else None
            if cpu is not None:
                self.cpu[pid] = cpu

    def seconds(self) -> float:
        return sum(cpu - self.before.get(pid, 0.0) for pid, cpu in self.cpu.items())


def run_export(server: argparse.Namespace, school: str, fmt: str, out: Path) -> ExportRun:
    """``ediary feed export`` of one school as an operator runs it: the ``ediary`` entry point
    in a process of its own, configured through the environment like the servers.

    (The first version ran the command inside this module, ``bench_portal.py export-child``:
    its spawned workers then re-imported this module as their ``__main__``, with aiohttp,
    asyncpg, PyJWT and the data generator, which the real command's workers never load.)"""
    cmd = [sys.executable, "-m", "gateway.cli.main", "feed", "export", "--school", school,
           "--format", fmt, "--out", str(out), "--from", YEAR[0].isoformat(),
           "--to", YEAR[1].isoformat()]  # fmt: skip
    env = {**os.environ, **_server_env(server)}
    backends = DatabaseBackends(server.db.rsplit("/", 1)[1])
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stderr=subprocess.DEVNULL, env=env, cwd=HERE.parent.parent)
    peak = [0, 0, 0]  # kB: RSS, PSS, USS sums
    cpu_main = 0.0
    for tick in itertools.count():
        pids = tree_pids(child.pid)
        rss = sum(rss_kb(p) for p in pids)
        if tick % 10 == 0 or rss > peak[0]:  # PSS costs more to read: every 0.5 s, or a peak
            sizes = [memory_kb(p) for p in pids]
            peak = [max(peak[i], sum(s[i] for s in sizes)) for i in range(3)]
        peak[0] = max(peak[0], rss)
        cpu_main = cpu_seconds(child.pid) or cpu_main
        backends.sample()
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    backends.sample()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"export of {school} failed ({os.waitstatus_to_exitcode(status)})")
    cpu = usage.ru_utime + usage.ru_stime
    rss, pss, uss = peak
    return ExportRun(seconds, rss, pss, uss, cpu, cpu_main, backends.seconds())


def run_exports(ns: argparse.Namespace, url: str, data: dict[str, Any], tmp: Path) -> None:
    """Every school of the district, one after another, in each format; ``ns.repeat`` times."""
    server = argparse.Namespace(db=url, port=ns.port, feed_key=str(tmp / "feed.key"),
                                feed_cert=str(tmp / "feed.crt"))  # fmt: skip
    total = sum(data["marks"].values())
    print(
        "\nexport (ediary feed export, every school of the district, one after another;"
        "\nmemory: peak over the process tree, PSS sum (RSS sum, USS sum); CPU per mark):"
    )
    for fmt in ("xml", "smev3", "jose") * ns.repeat:
        runs = []
        for sid, school in data["schools"]:
            out = tmp / f"export-{sid}.{fmt}"
            runs.append(run_export(server, school, fmt, out))
            out.unlink()
        seconds = sum(r.seconds for r in runs)
        mb = [max(getattr(r, k) for r in runs) / 1024 for k in ("pss", "rss", "uss")]
        us = [sum(getattr(r, k) for r in runs) / total * 1e6 for k in ("cpu", "cpu_main", "cpu_db")]
        print(f"  {fmt:5} {total:,} marks in {seconds:.1f} s = {total / seconds:,.0f} marks/s; "
              f"memory {mb[0]:.0f} MB PSS ({mb[1]:.0f} MB RSS, {mb[2]:.0f} MB USS); "
              f"CPU {us[0]:.1f} µs/mark (main {us[1]:.1f}), PostgreSQL {us[2]:.1f} µs/mark",
              flush=True)  # fmt: skip


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


def stop_servers(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM once to each server still running (a second one would cut its graceful
    shutdown short), then wait for them."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        p.wait(timeout=60)


def main() -> None:
    ns = parse()
    if ns.command == "serve":
        return serve(ns)
    name = ns.reuse_db or f"ediary_bench_portal_{uuid.uuid4().hex[:8]}"
    if not ns.reuse_db:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    tmp = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        run(ns, pg_url(name), tmp, procs)
    finally:
        stop_servers(procs)
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
    generate_gost_credentials("ediary-gateway bench").write(tmp, "feed-gost")  # one for all
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
        meter = Meter([p.pid for p in procs], url.rsplit("/", 1)[1], tmp)
        rounds = asyncio.run(
            run_http(ns, base, data["snils"], data["ids"], data["client_id"], client_key, meter)
        )
        report_ranges(rounds)
    stop_servers(procs)  # before the export: it has the machine to itself
    if ns.skip == "export":
        return
    run_exports(ns, url, data, tmp)


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("command", nargs="?", default="bench", choices=("bench", "serve"))
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
    return p.parse_args()


if __name__ == "__main__":
    main()
