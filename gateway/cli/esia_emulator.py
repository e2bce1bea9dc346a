"""``ediary esia-emulator``: the ESIA emulator as a stand-alone server (DESIGN §4 contract)."""

from __future__ import annotations

import argparse
import sys

from gosuslugi_adapter.emulator import PersonsFileError, parse_client_spec, run_emulator
from gosuslugi_adapter.keys import KeyLoadError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``esia-emulator`` to the ``ediary`` command."""
    parser = subparsers.add_parser(
        "esia-emulator",
        help="run an ESIA test-stand emulator on loopback",
        description="Emulates ESIA (both protocol generations) for local logins and tests.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8090, help="port to listen on")
    parser.add_argument(
        "--persons",
        metavar="FILE",
        help="test persons (JSON, ESIA field names); built-in set if omitted",
    )
    parser.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="ID=CERT.pem[,REDIRECT_URI_PREFIX]",
        help="a relying party and its certificate (repeatable)",
    )
    parser.add_argument(
        "--token-cert-out",
        metavar="FILE",
        help="write the certificate that verifies the emulator's tokens",
    )
    parser.add_argument(
        "--echo-nonce",
        nargs="?",
        const="yes",
        choices=("yes", "wrong"),
        metavar="wrong",
        help="put the authorization request's nonce into id_tokens; without this flag they "
        "carry none, as production ESIA has not reliably echoed it since November 2022. "
        "--echo-nonce=wrong puts a different nonce there instead, to test that the relying "
        'party refuses it (the same as the switch {"wrong_nonce": true} on /emulator/switches)',
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the emulator; exit code 2 on a bad argument or file."""
    try:
        clients = [parse_client_spec(spec) for spec in args.client]
        run_emulator(
            host=args.host,
            port=args.port,
            clients=clients,
            persons_file=args.persons,
            token_cert_out=args.token_cert_out,
            echo_nonce=args.echo_nonce == "yes",
            wrong_nonce=args.echo_nonce == "wrong",
        )
    except (ValueError, KeyLoadError, PersonsFileError, OSError) as exc:
        print(f"esia-emulator: {exc}", file=sys.stderr)
        return 2
    return 0
