"""ESIA (Gosuslugi) adapter: client, signers, token checks and an emulator.

Knows nothing of the diary: it hands the gateway a neutral :class:`EsiaIdentity`. Imports only
the standard library, third-party libraries and ``config``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gosuslugi_adapter.client import (
        AuthorizationRequest,
        EsiaClient,
        EsiaProtocol,
        EsiaTokens,
        signed_text,
    )
    from gosuslugi_adapter.errors import (
        EsiaAccessDenied,
        EsiaAuthorizationError,
        EsiaError,
        EsiaProtocolError,
        EsiaRemoteError,
        EsiaStateMismatch,
        EsiaTokenError,
        SignerError,
    )
    from gosuslugi_adapter.id_tokens import (
        TokenConfigError,
        TokenRejected,
        TokenVerifier,
        VerifiedToken,
    )
    from gosuslugi_adapter.identity import EsiaChild, EsiaIdentity
    from gosuslugi_adapter.key_files import (
        Certificate,
        KeyLoadError,
        load_certificate,
        load_private_key,
    )
    from gosuslugi_adapter.signers import (
        CommandSigner,
        GostSigner,
        RsaSigner,
        SignatureForm,
        Signer,
        load_signer,
        signer_from_settings,
    )

#: Where each name of the package lives. They are imported on first use (PEP 562): a process
#: that only signs documents (gosuslugi_adapter.signers) does not load the ESIA client and
#: its HTTP stack.
_HOME = {
    "AuthorizationRequest": "client",
    "Certificate": "key_files",
    "CommandSigner": "signers",
    "EsiaAccessDenied": "errors",
    "EsiaAuthorizationError": "errors",
    "EsiaClient": "client",
    "EsiaError": "errors",
    "EsiaProtocol": "client",
    "EsiaProtocolError": "errors",
    "EsiaRemoteError": "errors",
    "EsiaStateMismatch": "errors",
    "EsiaTokenError": "errors",
    "EsiaTokens": "client",
    "GostSigner": "signers",
    "KeyLoadError": "key_files",
    "RsaSigner": "signers",
    "SignatureForm": "signers",
    "Signer": "signers",
    "SignerError": "errors",
    "TokenConfigError": "id_tokens",
    "TokenRejected": "id_tokens",
    "TokenVerifier": "id_tokens",
    "VerifiedToken": "id_tokens",
    "load_certificate": "key_files",
    "load_private_key": "key_files",
    "load_signer": "signers",
    "signed_text": "client",
    "signer_from_settings": "signers",
}


def __getattr__(name: str) -> object:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'gosuslugi_adapter' has no attribute {name!r}")
    return getattr(importlib.import_module(f"gosuslugi_adapter.{module}"), name)


__all__ = [
    "AuthorizationRequest",
    "Certificate",
    "CommandSigner",
    "EsiaAccessDenied",
    "EsiaAuthorizationError",
    "EsiaChild",
    "EsiaClient",
    "EsiaError",
    "EsiaIdentity",
    "EsiaProtocol",
    "EsiaProtocolError",
    "EsiaRemoteError",
    "EsiaStateMismatch",
    "EsiaTokenError",
    "EsiaTokens",
    "GostSigner",
    "KeyLoadError",
    "RsaSigner",
    "SignatureForm",
    "Signer",
    "SignerError",
    "TokenConfigError",
    "TokenRejected",
    "TokenVerifier",
    "VerifiedToken",
    "load_certificate",
    "load_private_key",
    "load_signer",
    "signed_text",
    "signer_from_settings",
]
