"""ESIA (Gosuslugi) adapter: client, signers, token checks and an emulator.

Knows nothing of the diary: it hands the gateway a neutral :class:`EsiaIdentity`. Imports only
the standard library, third-party libraries and ``config``.
"""

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
