"""``ediary keys generate``: a signing key for the portal's documents and a self-signed
certificate (PEM): RSA for ``[feed] key_file``/``cert_file`` (enveloped XML-DSig and JWS), or
with ``--gost`` a GOST R 34.10-2012 key for ``[feed] smev3_key_file``/``smev3_cert_file`` (the
SMEV 3 profile). Production may use a certificate from a CA instead; a GOST key of a real
deployment usually stays in a certified provider (``[feed] smev3_sign_command``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.cli.common import settings_from
from gateway.portal.signing import self_signed_certificate
from gosuslugi_adapter.devkeys import generate_gost_credentials


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = subparsers.add_parser("keys", help="ключи подписи документов для портала")
    actions = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    gen = actions.add_parser("generate", help="создать ключ и самоподписанный сертификат")
    gen.add_argument("--out-dir", required=True, type=Path, help="каталог для ключа и сертификата")
    gen.add_argument("--kind", choices=("rsa",), default="rsa", help=argparse.SUPPRESS)
    gen.add_argument(
        "--gost",
        action="store_true",
        help="ключ ГОСТ Р 34.10-2012 для профиля СМЭВ 3 (feed-gost.key и feed-gost.crt) "
        "вместо RSA (feed.key и feed.crt)",
    )
    gen.add_argument(
        "--bits", type=int, choices=(256, 512), default=256, help="длина ключа ГОСТ, бит"
    )
    gen.add_argument("--days", type=int, default=730, help="срок действия сертификата, дней")
    gen.set_defaults(func=_generate)


def _generate(args: argparse.Namespace) -> int:
    issuer = settings_from(args).feed.issuer
    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    stem = "feed-gost" if args.gost else "feed"
    key_path, cert_path = out / f"{stem}.key", out / f"{stem}.crt"
    if key_path.exists() or cert_path.exists():
        raise SystemExit(f"ediary: {key_path} или {cert_path} уже существует; не перезаписываю")
    if args.gost:
        creds = generate_gost_credentials(issuer, days=args.days, bits=args.bits)
        key_pem, cert_pem = creds.key_pem, creds.cert_pem
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        cert_pem = self_signed_certificate(key, issuer, days=args.days).public_bytes(
            serialization.Encoding.PEM
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # the key: owner only
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_pem)
    cert_path.write_bytes(cert_pem)
    prefix = "smev3_" if args.gost else ""
    print(f'[feed]\n{prefix}key_file = "{key_path}"\n{prefix}cert_file = "{cert_path}"')
    return 0
