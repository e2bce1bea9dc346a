"""The native GOST backend: OpenSSL's GOST engine, in-process, through the system's libcrypto.

Debian's ``libengine-gost-openssl`` installs the engine ``gost`` for OpenSSL 3 (its provider
``gostprov`` of that release has digests and ciphers but no signatures, so the engine it is).
The binding is ``cffi`` in ABI mode: nothing is compiled, the library is opened by name
(``libcrypto.so.3``) and the engine by id, exactly as ``openssl -engine gost`` does.

Why in-process: ESIA accepts only GOST client keys, so every sign-in signs two client_secrets and
may verify GOST tokens; the engine does one 256-bit signature in about 0.1 ms, where gostcrypto
takes about 30 ms and an ``openssl`` subprocess about 6 ms.

What is shared and what is not:
- the engine is loaded and made the default for GOST's digests and key methods once, under a
  lock; it only serves GOST's own algorithm ids, so nothing else in the process changes
  (``cryptography`` carries its own OpenSSL and is not touched at all);
- keys are turned into ``EVP_PKEY`` once (from the same DER the files hold) and kept on the key
  object; OpenSSL allows one ``EVP_PKEY`` to be used by several threads at once;
- every operation has its own ``EVP_MD_CTX``; cffi releases the GIL during the calls.
"""

from __future__ import annotations

import threading
from typing import Any

from cffi import FFI

from gosuslugi_adapter.gost import (
    GostBackendError,
    GostKeyError,
    GostPrivateKey,
    GostPublicKey,
)

_CDEF = """
typedef struct engine_st ENGINE;
typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_md_st EVP_MD;
typedef struct evp_md_ctx_st EVP_MD_CTX;
typedef struct evp_pkey_ctx_st EVP_PKEY_CTX;

unsigned long OpenSSL_version_num(void);
const char *OpenSSL_version(int type);
int OPENSSL_init_crypto(uint64_t opts, const void *settings);
void CRYPTO_free(void *ptr, const char *file, int line);

ENGINE *ENGINE_by_id(const char *id);
int ENGINE_init(ENGINE *e);
int ENGINE_finish(ENGINE *e);
int ENGINE_free(ENGINE *e);
int ENGINE_set_default(ENGINE *e, unsigned int flags);
const char *ENGINE_get_name(const ENGINE *e);
const EVP_MD *ENGINE_get_digest(ENGINE *e, int nid);

int OBJ_sn2nid(const char *s);

EVP_PKEY *d2i_AutoPrivateKey(EVP_PKEY **a, const unsigned char **pp, long length);
EVP_PKEY *d2i_PUBKEY(EVP_PKEY **a, const unsigned char **pp, long length);
int i2d_PUBKEY(const EVP_PKEY *a, unsigned char **pp);
void EVP_PKEY_free(EVP_PKEY *key);
int EVP_PKEY_get_bits(const EVP_PKEY *pkey);

EVP_MD_CTX *EVP_MD_CTX_new(void);
void EVP_MD_CTX_free(EVP_MD_CTX *ctx);
int EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size,
               const EVP_MD *type, ENGINE *impl);
int EVP_DigestSignInit(EVP_MD_CTX *ctx, EVP_PKEY_CTX **pctx, const EVP_MD *type, ENGINE *e,
                       EVP_PKEY *pkey);
int EVP_DigestSign(EVP_MD_CTX *ctx, unsigned char *sigret, size_t *siglen,
                   const unsigned char *tbs, size_t tbslen);
int EVP_DigestVerifyInit(EVP_MD_CTX *ctx, EVP_PKEY_CTX **pctx, const EVP_MD *type, ENGINE *e,
                         EVP_PKEY *pkey);
int EVP_DigestVerify(EVP_MD_CTX *ctx, const unsigned char *sigret, size_t siglen,
                     const unsigned char *tbs, size_t tbslen);

unsigned long ERR_get_error(void);
void ERR_error_string_n(unsigned long e, char *buf, size_t len);
void ERR_clear_error(void);
"""

_LIBRARY = "libcrypto.so.3"
_OPENSSL_INIT_ENGINE_DYNAMIC = 0x00000400
_ENGINE_METHOD_DIGESTS = 0x0008
_ENGINE_METHOD_PKEY_METHS = 0x0200
_ENGINE_METHOD_PKEY_ASN1_METHS = 0x0400
_DIGEST_NAMES = {256: b"md_gost12_256", 512: b"md_gost12_512"}
_OPENSSL_VERSION = 0
_HANDLE = "openssl"


class NativeGost:
    """GOST R 34.10-2012 / 34.11-2012 by OpenSSL's GOST engine."""

    name = "openssl"

    def __init__(self, ffi: FFI, lib: Any, engine: Any) -> None:
        self._ffi, self._lib, self._engine = ffi, lib, engine
        self._digests = {bits: self._digest_method(name) for bits, name in _DIGEST_NAMES.items()}
        version = ffi.string(lib.OpenSSL_version(_OPENSSL_VERSION)).decode()
        engine_name = ffi.string(lib.ENGINE_get_name(engine)).decode()
        self.description = f"{version}, engine gost ({engine_name})"

    def _digest_method(self, name: bytes) -> Any:
        method = self._lib.ENGINE_get_digest(self._engine, self._lib.OBJ_sn2nid(name))
        if method == self._ffi.NULL:
            raise GostBackendError(f"the gost engine has no digest {name.decode()}")
        return method

    def _error(self, what: str) -> GostBackendError:
        """The OpenSSL error queue as one message; the queue is left empty."""
        code = self._lib.ERR_get_error()
        buffer = self._ffi.new("char[256]")
        self._lib.ERR_error_string_n(code, buffer, 256)
        self._lib.ERR_clear_error()
        return GostBackendError(f"{what}: {self._ffi.string(buffer).decode(errors='replace')}")

    def digest(self, data: bytes, bits: int) -> bytes:
        method = self._digests.get(bits)
        if method is None:
            raise GostKeyError(f"Streebog is 256 or 512 bits, not {bits}")
        out = self._ffi.new("unsigned char[64]")
        size = self._ffi.new("unsigned int *")
        if self._lib.EVP_Digest(data, len(data), out, size, method, self._ffi.NULL) != 1:
            raise self._error("Streebog digest failed")
        return bytes(self._ffi.buffer(out, size[0]))

    def _pkey(self, key: GostPrivateKey | GostPublicKey) -> Any:
        """The key as an EVP_PKEY, parsed once from its DER and kept on the key object."""
        handle = key.handles.get(_HANDLE)
        if handle is None:
            if isinstance(key, GostPrivateKey):
                handle = self._parse(self._lib.d2i_AutoPrivateKey, key.pkcs8_der())
            else:
                handle = self._parse(self._lib.d2i_PUBKEY, key.spki_der())
            key.handles[_HANDLE] = handle
        return handle

    def _parse(self, parse: Any, der: bytes) -> Any:
        pointer = self._ffi.new("const unsigned char **", self._ffi.from_buffer(der))
        raw = parse(self._ffi.NULL, pointer, len(der))
        if raw == self._ffi.NULL:
            raise self._error("OpenSSL could not load the GOST key")
        return self._ffi.gc(raw, self._lib.EVP_PKEY_free)

    def sign(self, key: GostPrivateKey, data: bytes) -> bytes:
        ctx = self._ffi.gc(self._lib.EVP_MD_CTX_new(), self._lib.EVP_MD_CTX_free)
        method, pkey = self._digests[key.bits], self._pkey(key)
        if self._lib.EVP_DigestSignInit(ctx, self._ffi.NULL, method, self._ffi.NULL, pkey) != 1:
            raise self._error("GOST signing could not start")
        length = self._ffi.new("size_t *", key.signature_size)
        signature = self._ffi.new("unsigned char[]", key.signature_size)
        if self._lib.EVP_DigestSign(ctx, signature, length, data, len(data)) != 1:
            raise self._error("GOST signing failed")
        return bytes(self._ffi.buffer(signature, length[0]))

    def verify(self, key: GostPublicKey, data: bytes, signature: bytes) -> bool:
        if len(signature) != 2 * key.size:
            return False
        ctx = self._ffi.gc(self._lib.EVP_MD_CTX_new(), self._lib.EVP_MD_CTX_free)
        method = self._digests[key.bits]
        pkey = self._pkey(key)
        if self._lib.EVP_DigestVerifyInit(ctx, self._ffi.NULL, method, self._ffi.NULL, pkey) != 1:
            raise self._error("GOST verification could not start")
        ok = bool(self._lib.EVP_DigestVerify(ctx, signature, len(signature), data, len(data)) == 1)
        self._lib.ERR_clear_error()  # a bad signature leaves a reason on this thread's queue
        return ok

    def public_key(self, key: GostPrivateKey) -> GostPublicKey:
        out = self._ffi.new("unsigned char **")
        length = self._lib.i2d_PUBKEY(self._pkey(key), out)
        if length <= 0:
            raise self._error("OpenSSL could not derive the GOST public key")
        try:
            der = bytes(self._ffi.buffer(out[0], length))
        finally:
            self._lib.CRYPTO_free(out[0], b"gost_native", 0)
        return GostPublicKey.from_spki_der(der)


_loaded: NativeGost | None = None
_loading = threading.Lock()


def load(library: str = _LIBRARY) -> NativeGost:
    """Open libcrypto and the gost engine (once per process); :class:`GostBackendError` naming
    what is missing when either cannot be had."""
    global _loaded
    with _loading:
        if _loaded is None:
            _loaded = _open(library)
        return _loaded


def _open(library: str) -> NativeGost:
    ffi = FFI()
    ffi.cdef(_CDEF)
    try:
        lib = ffi.dlopen(library)
    except OSError as exc:
        raise GostBackendError(f"cannot open {library}: {exc}") from None
    if lib.OpenSSL_version_num() < 0x30000000:
        raise GostBackendError(f"{library} is older than OpenSSL 3")
    lib.OPENSSL_init_crypto(_OPENSSL_INIT_ENGINE_DYNAMIC, ffi.NULL)
    engine = lib.ENGINE_by_id(b"gost")
    if engine == ffi.NULL:
        lib.ERR_clear_error()
        raise GostBackendError("OpenSSL has no engine 'gost' (package libengine-gost-openssl)")
    if lib.ENGINE_init(engine) != 1:
        lib.ENGINE_free(engine)
        lib.ERR_clear_error()
        raise GostBackendError("OpenSSL's engine 'gost' did not initialise")
    methods = _ENGINE_METHOD_DIGESTS | _ENGINE_METHOD_PKEY_METHS | _ENGINE_METHOD_PKEY_ASN1_METHS
    if lib.ENGINE_set_default(engine, methods) != 1:
        lib.ERR_clear_error()
        raise GostBackendError("OpenSSL's engine 'gost' could not serve GOST keys")
    return NativeGost(ffi, lib, engine)
