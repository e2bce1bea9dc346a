"""``ediary keys generate``: the feed's signing key and a self-signed certificate (PEM), for
``[feed] key_file`` and ``cert_file``. Production may use a certificate from a CA instead."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.cli.common import settings_from
from gateway.portal.signing import self_signed_certificate


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = subparsers.add_parser("keys", help="ключи подписи документов для портала")
    actions = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    gen = actions.add_parser("generate", help="создать ключ и самоподписанный сертификат")
    gen.add_argument("--out-dir", required=True, type=Path, help="каталог для feed.key и feed.crt")
    gen.add_argument("--kind", choices=("rsa",), default="rsa", help="вид ключа (пока только rsa)")
    gen.add_argument("--days", type=int, default=730, help="срок действия сертификата, дней")
    gen.set_defaults(func=_generate)


def _generate(args: argparse.Namespace) -> int:
    issuer = settings_from(args).feed.issuer
    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = out / "feed.key", out / "feed.crt"
    if key_path.exists() or cert_path.exists():
        raise SystemExit(f"ediary: {key_path} или {cert_path} уже существует; не перезаписываю")
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    cert = self_signed_certificate(key, issuer, days=args.days)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # the key: owner only
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    print(f'[feed]\nkey_file = "{key_path}"\ncert_file = "{cert_path}"')
    return 0
