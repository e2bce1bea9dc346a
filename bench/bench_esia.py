"""What ESIA sign-in costs in cryptography, side by side in one run.

1. One GOST client_secret (and one RSA for comparison): the ``openssl`` command run as a
   subprocess (what common ESIA clients do), pure-Python gostcrypto, and OpenSSL's GOST engine
   in-process (the native backend), for 256- and 512-bit keys, raw (v2/v3) and CMS (v1).
2. One GOST signature verification the same three ways, and a whole token check (every claim).
3. The cost of starting a login, ``GET /auth/esia/login`` with a GOST signer (a session, a
   client_secret, a login transaction written), over ``GET /healthz``, with each backend.

Prints figures; never asserts on time.  Run: ``python bench/bench_esia.py [--seconds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from config import load_settings
from diary_core.db import create_engine
from gateway.app import create_app
from gateway.storage.schema import upgrade
from gosuslugi_adapter.devkeys import generate_gost_credentials, generate_rsa_credentials
from gosuslugi_adapter.emulator.app import make_token_issuer
from gosuslugi_adapter.emulator.core import Grant, Switches
from gosuslugi_adapter.gost import GostPrivateKey, load_backend, use_backend
from gosuslugi_adapter.id_tokens import TokenVerifier
from gosuslugi_adapter.key_files import load_certificate, load_private_key
from gosuslugi_adapter.signers import GostSigner, RsaSigner, SignatureForm

TEXT = (
    b"SCHOOL-DIARYopenid fullname birthdate snils kid_fullname kid_birthdate kid_snils"
    b"2026.01.15 10:00:00 +0300b3f0c7f6-8a2e-4d1f-9d3c-2f1e0a9b7c6d"
    b"http://127.0.0.1:8080/auth/esia/callback"
)
BACKENDS = ("gostcrypto", "openssl")


def measure(action: Callable[[], object], seconds: float) -> tuple[float, int]:
    """Seconds per operation (mean) over at least ``seconds`` of wall time."""
    action()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds or count < 3:
        action()
        count += 1
    return elapsed / count, count


def row(name: str, per_op: float, count: int, *baselines: float | None) -> None:
    ratios = "".join(f"{b / per_op:9.1f}×" if b else " " * 10 for b in baselines)
    print(f"  {name:<46} {1 / per_op:9.1f} ops/s {per_op * 1000:9.3f} ms/op{ratios}  (n={count})")


def openssl_run(*args: str) -> Callable[[], object]:
    argv = ["openssl", *args]
    return lambda: subprocess.run(argv, input=TEXT, capture_output=True, check=True)


def signatures_section(seconds: float, workdir: Path) -> None:
    print("One client_secret      (columns: × the openssl subprocess, × gostcrypto)")
    rsa = generate_rsa_credentials("bench")
    rsa_signer = RsaSigner(load_private_key(rsa.key_pem), load_certificate(rsa.cert_pem))
    row(
        "in-process RSA-SHA256 CMS (v1)",
        *measure(lambda: rsa_signer.sign_now(TEXT, SignatureForm.CMS), seconds),
    )
    for bits in (256, 512):
        creds = generate_gost_credentials("bench", bits=bits)
        key_path, cert_path = creds.write(workdir, f"gost{bits}")
        signer = GostSigner(load_private_key(creds.key_pem), load_certificate(creds.cert_pem))
        for form, argv in (
            ("raw", ("dgst", "-engine", "gost", f"-md_gost12_{bits}", "-sign", str(key_path))),
            ("CMS", ("smime", "-sign", "-engine", "gost", "-binary", "-noattr", "-outform",
                     "DER", "-signer", str(cert_path), "-inkey", str(key_path))),
        ):  # fmt: skip
            per_op, n = measure(openssl_run(*argv), seconds)
            row(f"openssl {argv[0]} GOST-{bits} {form} (subprocess)", per_op, n)
            subprocess_cost, pure_cost = per_op, None
            for name in BACKENDS:
                use_backend(load_backend(name))
                sign_form = SignatureForm.RAW if form == "raw" else SignatureForm.CMS
                cost, n = measure(lambda f=sign_form, s=signer: s.sign_now(TEXT, f), seconds)
                row(f"{name} GOST-{bits} {form}", cost, n, subprocess_cost, pure_cost)
                pure_cost = pure_cost or cost


def verifications_section(seconds: float, workdir: Path) -> None:
    print("One signature verification      (columns: × the openssl subprocess, × gostcrypto)")
    for bits in (256, 512):
        key = GostPrivateKey.generate(bits=bits)
        public = key.public_key()
        signature = key.sign(TEXT)
        (workdir / "sig").write_bytes(signature)
        (workdir / "pub.der").write_bytes(public.spki_der())
        subprocess_cost, n = measure(
            openssl_run("dgst", "-engine", "gost", f"-md_gost12_{bits}", "-keyform", "DER",
                        "-verify", str(workdir / "pub.der"), "-signature", str(workdir / "sig")),
            seconds,
        )  # fmt: skip
        row(f"openssl dgst -verify GOST-{bits} (subprocess)", subprocess_cost, n)
        pure_cost = None
        for name in BACKENDS:
            chosen = load_backend(name)
            cost, n = measure(lambda b=chosen, p=public, s=signature: b.verify(p, TEXT, s), seconds)
            row(f"{name} GOST-{bits}", cost, n, subprocess_cost, pure_cost)
            pure_cost = pure_cost or cost
    print("A whole access-token check (signature and every claim)")
    grant = Grant("SCHOOL-DIARY", "1000300001", "openid fullname", "http://x/", None, 0.0)
    for algorithm, backends in (("RS256", ("openssl",)), ("GOST3410_2012_256", BACKENDS)):
        issuer = make_token_issuer(algorithm)
        token = issuer.access_token(grant, time.time(), Switches())
        verifier = TokenVerifier(
            [issuer.certificate], issuer=issuer.issuer, client_id="SCHOOL-DIARY"
        )
        for name in backends:
            use_backend(load_backend(name))
            label = f"{algorithm}" + (f" ({name})" if algorithm != "RS256" else "")
            row(label, *measure(lambda v=verifier, t=token: v.verify_access_token(t), seconds))


async def _latencies(
    session: aiohttp.ClientSession, url: str, count: int, status: int
) -> list[float]:
    """Milliseconds per request, one after another, each as a new visitor (no cookies)."""
    taken = []
    for _ in range(count):
        session.cookie_jar.clear()
        start = time.perf_counter()
        async with session.get(url, allow_redirects=False) as response:
            await response.read()
            assert response.status == status, (url, response.status)
        taken.append((time.perf_counter() - start) * 1000)
    return taken


async def login_section(requests: int, workdir: Path) -> None:
    print(f"Starting a login over /healthz: median of {requests} requests (a new visitor each)")
    key, cert = generate_gost_credentials("bench login").write(workdir, "login")
    _esia_key, esia_cert = generate_rsa_credentials("ESIA").write(workdir, "esia")
    environ = {
        **os.environ,
        "EDIARY_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'login.sqlite'}",
        "EDIARY_ESIA_CLIENT_ID": "SCHOOL-DIARY",
        "EDIARY_ESIA_SIGNER": "gost",
        "EDIARY_ESIA_KEY_FILE": str(key),
        "EDIARY_ESIA_CERT_FILE": str(cert),
        "EDIARY_ESIA_CERTIFICATES": f'["{esia_cert}"]',
    }
    settings = load_settings(None, environ)
    engine = create_engine(settings.database.url)
    await upgrade(engine)
    await engine.dispose()
    for name in BACKENDS:
        use_backend(load_backend(name))
        server = TestServer(create_app(settings))
        await server.start_server()
        try:
            async with aiohttp.ClientSession() as session:
                await _latencies(session, str(server.make_url("/healthz")), 20, 200)  # warm up
                health = await _latencies(session, str(server.make_url("/healthz")), requests, 200)
                login = await _latencies(
                    session, str(server.make_url("/auth/esia/login")), requests, 303
                )
        finally:
            await server.close()
        h, lg = statistics.median(health), statistics.median(login)
        print(
            f"  {name:<12} GET /healthz {h:7.2f} ms   GET /auth/esia/login {lg:7.2f} ms"
            f"   login costs {lg - h:+7.2f} ms more"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--requests", type=int, default=200, help="requests per endpoint")
    args = parser.parse_args()
    if not shutil.which("openssl"):
        raise SystemExit("bench_esia needs the openssl command and libengine-gost-openssl")
    native = load_backend("openssl")
    print(f"native backend: {native.description}")
    with tempfile.TemporaryDirectory() as workdir:
        signatures_section(args.seconds, Path(workdir))
        verifications_section(args.seconds, Path(workdir))
        asyncio.run(login_section(args.requests, Path(workdir)))


if __name__ == "__main__":
    main()
