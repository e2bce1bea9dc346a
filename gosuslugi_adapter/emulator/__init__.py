"""An ESIA emulator that plays the ESIA test stand on loopback.

Both generations (``/aas/oauth2/ac`` + ``/te``; ``/aas/oauth2/v2/ac`` + ``/v3/te``); every
client_secret verified for real against the certificate registered for the ``client_id`` (CMS
RSA/GOST for v1; raw GOST — or raw RSA, emulator only — for v2/v3); ``client_certificate_hash``,
the timestamp (±5 min) and the redirect_uri checked; codes single-use and valid 240 s; tokens in
ESIA's claim layout, RS256 by default or GOST3410_2012_256; ``/rs/prns/{oid}``, ``/ctts``,
``/kids``; ``/idp/ext/Logout``; a Russian page to pick the test person (``<form method="post">``
with a field ``oid``). Refusals carry ESIA's codes (007002, 007003, 007004, 007006, 007011,
007014, 007015, 007023, 007053).

Command line (docs/esia.md)::

    ediary esia-emulator --host 127.0.0.1 --port 8090 --persons persons.json \\
        --client ID=CERT.pem[,REDIRECT_URI_PREFIX] [--token-cert-out FILE] \\
        [--echo-nonce | --echo-nonce=wrong]

Like production ESIA (since November 2022), id_tokens carry no ``nonce`` by default;
``--echo-nonce`` (in process: ``running_emulator(..., echo_nonce=True)`` or
``emulator.echo_nonce = True``) echoes the authorization request's nonce, and
``--echo-nonce=wrong`` (the switch ``wrong_nonce``) puts a different one there.

In process (``ediary demo``, tests)::

    from gosuslugi_adapter.emulator import RegisteredClient, running_emulator
    from gosuslugi_adapter.devkeys import generate_rsa_credentials
    from gosuslugi_adapter.key_files import load_certificate

    creds = generate_rsa_credentials("demo")          # throwaway client key + certificate
    client = RegisteredClient("DEMO", load_certificate(creds.cert_pem), "http://127.0.0.1:8080/")
    async with running_emulator([client], port=8090) as esia:
        esia.base_url                 # "http://127.0.0.1:8090"
        esia.token_certificate_pem    # give it to the gateway as esia.certificates
        esia.emulator.switches.expired_token = True   # misbehave

Or mount ``make_emulator_app(clients, persons)`` (a ``web.Application``) on your own runner;
``app[EMULATOR]`` is the :class:`Emulator` state. Over HTTP, ``GET``/``POST
/emulator/switches`` reads and sets the switches as JSON (``bad_token_signature``,
``wrong_issuer``, ``expired_token``, ``wrong_state`` (token response), ``wrong_callback_state``
(authorization redirect), ``wrong_nonce`` (id_token), ``error_redirect`` (an ESIA code, e.g.
``"ESIA-007004"``), or ``{"reset": true}``); ``GET /emulator/token-certificate.pem`` serves the
token certificate.
"""

from gosuslugi_adapter.emulator.app import (
    RunningEmulator,
    make_emulator_app,
    make_token_issuer,
    parse_client_spec,
    run_emulator,
    running_emulator,
)
from gosuslugi_adapter.emulator.core import Emulator, RegisteredClient, Rejection, Switches
from gosuslugi_adapter.emulator.handlers import EMULATOR
from gosuslugi_adapter.emulator.persons import (
    Person,
    PersonsFileError,
    builtin_persons,
    load_persons,
)

__all__ = [
    "EMULATOR",
    "Emulator",
    "Person",
    "PersonsFileError",
    "RegisteredClient",
    "Rejection",
    "RunningEmulator",
    "Switches",
    "builtin_persons",
    "load_persons",
    "make_emulator_app",
    "make_token_issuer",
    "parse_client_spec",
    "run_emulator",
    "running_emulator",
]
