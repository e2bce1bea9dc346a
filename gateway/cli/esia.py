"""``ediary esia check``: is sign-in through ESIA ready on this machine?

It answers what a parent's first failed sign-in would otherwise reveal: which GOST backend
the process uses (OpenSSL's engine in-process, or the slow pure-Python fallback), whether the
configured key signs and its certificate verifies that signature in the form ESIA expects for
the configured protocol, and whether ESIA's token certificates load. Exit status 0 when all is
well, 1 when something would stop sign-in (and says what).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from config import Settings
from gateway.cli.common import settings_from
from gosuslugi_adapter.cms import CmsError, verify_detached
from gosuslugi_adapter.errors import SignerError
from gosuslugi_adapter.gost import GostBackend, backend
from gosuslugi_adapter.id_tokens import TokenConfigError, TokenVerifier
from gosuslugi_adapter.signers import SignatureForm, Signer, signer_from_settings

SAMPLE = b"ediary esia check: a client_secret's text"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    esia = sub.add_parser("esia", help="вход через Госуслуги (ЕСИА): проверка готовности")
    actions = esia.add_subparsers(dest="esia_command", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="показать, какой криптобэкенд ГОСТ работает, и проверить ключ, сертификат "
        "и сертификаты ЕСИА из настроек [esia]",
    )
    check.set_defaults(func=_check)


def describe_backend(chosen: GostBackend) -> str:
    """One line naming the GOST backend, for ``esia check`` and the service's start-up log."""
    if chosen.name == "openssl":
        return f"ГОСТ: OpenSSL в процессе ({chosen.description})"
    return (
        f"ГОСТ: {chosen.description} — медленный запасной вариант; "
        "установите libengine-gost-openssl (см. docs/esia.md)"
    )


def _check(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    print(describe_backend(backend()))
    if not settings.esia.client_id:
        print("ЕСИА: вход через Госуслуги не настроен (esia.client_id пуст)")
        return 0
    try:
        signer = signer_from_settings(settings.esia)
        verifier = TokenVerifier.from_settings(settings.esia)
        _report_signer(settings, signer)
    except (SignerError, TokenConfigError) as exc:
        print(f"ЕСИА: не готово: {exc}", file=sys.stderr)
        return 1
    print(f"ЕСИА: сертификатов ЕСИА для проверки токенов: {len(settings.esia.certificates)}")
    print(f"ЕСИА: издатель токенов {verifier.issuer!r}, client_id {verifier.client_id!r}")
    print("ЕСИА: готово")
    return 0


def _report_signer(settings: Settings, signer: Signer) -> None:
    esia = settings.esia
    form = SignatureForm.CMS if esia.protocol == "v1" else SignatureForm.RAW
    print(f"ЕСИА: {esia.base_url}, протокол {esia.protocol}, подпись {esia.signer} ({form.value})")
    subject = signer.certificate.parsed.subject.human_friendly
    print(f"ЕСИА: сертификат клиента: {subject}")
    print(f"ЕСИА: client_certificate_hash {signer.certificate_hash}")
    start = time.perf_counter()
    signature = asyncio.run(signer.sign(SAMPLE, form))
    elapsed = (time.perf_counter() - start) * 1000
    if form is SignatureForm.CMS:
        try:
            verify_detached(signature, SAMPLE, signer.certificate)
        except CmsError as exc:
            raise SignerError(f"the test CMS signature does not verify: {exc}") from None
    elif not signer.certificate.public_key.verify(SAMPLE, signature):
        raise SignerError("the test signature does not verify against the certificate")
    print(f"ЕСИА: пробная подпись проверена по сертификату ({elapsed:.1f} мс)")
