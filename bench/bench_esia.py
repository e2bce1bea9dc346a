"""Cost of one ESIA client_secret and of one token verification, side by side.

In-process RSA (CMS) and GOST (raw and CMS) signers against ``openssl smime -sign`` run as a
subprocess (what common ESIA clients do); token verifications per second for RS256 and GOST.
Prints figures; never asserts on time.  Run: ``python bench/bench_esia.py [--seconds N]``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from gosuslugi_adapter.devkeys import generate_gost_credentials, generate_rsa_credentials
from gosuslugi_adapter.emulator.app import make_token_issuer
from gosuslugi_adapter.emulator.core import Grant, Switches
from gosuslugi_adapter.keys import load_certificate, load_private_key
from gosuslugi_adapter.signers import GostSigner, RsaSigner, SignatureForm
from gosuslugi_adapter.tokens import TokenVerifier

TEXT = (
    b"SCHOOL-DIARYopenid fullname birthdate snils kid_fullname kid_birthdate kid_snils"
    b"2026.01.15 10:00:00 +0300b3f0c7f6-8a2e-4d1f-9d3c-2f1e0a9b7c6d"
    b"http://127.0.0.1:8080/auth/esia/callback"
)


def measure(action: Callable[[], object], seconds: float) -> tuple[float, int]:
    """Seconds per operation (mean) over at least ``seconds`` of wall time."""
    action()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds or count < 3:
        action()
        count += 1
    return elapsed / count, count


def row(name: str, per_op: float, count: int, baseline: float | None = None) -> None:
    ratio = f"{baseline / per_op:8.1f}×" if baseline else " " * 9
    print(f"  {name:<44} {1 / per_op:10.1f} ops/s {per_op * 1000:9.3f} ms/op {ratio}  (n={count})")


def openssl_smime(key: Path, cert: Path) -> Callable[[], object]:
    argv = [
        "openssl",
        "smime",
        "-sign",
        "-binary",
        "-noattr",
        "-outform",
        "DER",
        "-signer",
        str(cert),
        "-inkey",
        str(key),
    ]
    return lambda: subprocess.run(argv, input=TEXT, capture_output=True, check=True)


def secrets_section(seconds: float, workdir: Path) -> None:
    rsa, gost = generate_rsa_credentials("bench"), generate_gost_credentials("bench")
    rsa_signer = RsaSigner(load_private_key(rsa.key_pem), load_certificate(rsa.cert_pem))
    gost_signer = GostSigner(load_private_key(gost.key_pem), load_certificate(gost.cert_pem))
    key, cert = rsa.write(workdir, "rsa")
    print("One client_secret:")
    smime = None
    if shutil.which("openssl"):
        smime, n = measure(openssl_smime(key, cert), seconds)
        row("openssl smime -sign (RSA, subprocess)", smime, n)
    for name, action in (
        ("in-process RSA-SHA256 CMS (v1)", lambda: rsa_signer.sign_now(TEXT, SignatureForm.CMS)),
        ("in-process RSA-SHA256 raw", lambda: rsa_signer.sign_now(TEXT, SignatureForm.RAW)),
        (
            "in-process GOST 2012-256 raw (v2/v3)",
            lambda: gost_signer.sign_now(TEXT, SignatureForm.RAW),
        ),
        (
            "in-process GOST 2012-256 CMS (v1)",
            lambda: gost_signer.sign_now(TEXT, SignatureForm.CMS),
        ),
    ):
        per_op, n = measure(action, seconds)
        row(name, per_op, n, smime)
    if smime:
        print("  (last column: how many times faster than the openssl subprocess)")


def tokens_section(seconds: float) -> None:
    print("Token verification (all checks):")
    grant = Grant("SCHOOL-DIARY", "1000300001", "openid fullname", "http://x/", None, 0.0)
    for algorithm in ("RS256", "GOST3410_2012_256"):
        issuer = make_token_issuer(algorithm)
        token = issuer.access_token(grant, time.time(), Switches())
        verifier = TokenVerifier(
            [issuer.certificate], issuer=issuer.issuer, client_id="SCHOOL-DIARY"
        )
        per_op, n = measure(lambda v=verifier, t=token: v.verify_access_token(t), seconds)
        row(f"access token {algorithm}", per_op, n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        secrets_section(args.seconds, Path(workdir))
    tokens_section(args.seconds)


if __name__ == "__main__":
    main()
