"""``ediary esia-emulator``: the ESIA emulator as a stand-alone server (its contract:
docs/esia.md)."""

from __future__ import annotations

import argparse
import errno
import sys

from gateway.cli.common import port_problem, require_port
from gosuslugi_adapter.emulator import PersonsFileError, parse_client_spec, run_emulator
from gosuslugi_adapter.key_files import KeyLoadError

PORT_HINT = "ediary esia-emulator --port {port}"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``esia-emulator`` to the ``ediary`` command."""
    parser = subparsers.add_parser(
        "esia-emulator",
        help="запустить эмулятор тестовой среды ЕСИА (Госуслуг) на этой машине",
        description="Эмулятор ЕСИА (обоих поколений протокола) для входа и тестов без "
        "настоящих Госуслуг.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="адрес, на котором слушать (по умолчанию 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8090, help="порт, на котором слушать (по умолчанию 8090)"
    )
    parser.add_argument(
        "--persons",
        metavar="FILE",
        help="тестовые пользователи (JSON с полями ЕСИА); без него — встроенный набор",
    )
    parser.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="ID=CERT.pem[,REDIRECT_URI_PREFIX]",
        help="информационная система-клиент и её сертификат (можно указать несколько раз)",
    )
    parser.add_argument(
        "--token-cert-out",
        metavar="FILE",
        help="записать в FILE сертификат, которым проверяются маркеры эмулятора",
    )
    parser.add_argument(
        "--echo-nonce",
        nargs="?",
        const="yes",
        choices=("yes", "wrong"),
        metavar="wrong",
        help="возвращать nonce запроса авторизации в id_token; без этого флага его там нет, "
        "как и у настоящей ЕСИА, которая с ноября 2022 года не возвращает его надёжно. "
        "--echo-nonce=wrong возвращает другой nonce, чтобы проверить, что клиент его отвергает "
        '(то же, что переключатель {"wrong_nonce": true} на /emulator/switches)',
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the emulator; exit code 2 on a bad argument or file, 1 on a busy port."""
    require_port(args.host, args.port, PORT_HINT)
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
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise port_problem(args.host, args.port, exc, PORT_HINT) from None
        print(f"esia-emulator: {exc}", file=sys.stderr)
        return 2
    except (ValueError, KeyLoadError, PersonsFileError) as exc:
        print(f"esia-emulator: {exc}", file=sys.stderr)
        return 2
    return 0
