"""SNILS, the personal insurance account number: checksum validation and normal form.

The checksum (the last two digits) is the sum of the first nine digits weighted 9…1.
A sum under 100 is the checksum itself; 100 and 101 give 00; a larger sum is taken modulo
101 and the same rule applied. Numbers up to 001-001-998 were issued without a checksum.
"""

from __future__ import annotations

import re

from diary_core.errors import InvalidInput

_SEPARATORS = re.compile(r"[\s\-]")
_NO_CHECKSUM_UP_TO = 1001998


def checksum(first_nine: str) -> int:
    total = sum(int(d) * w for d, w in zip(first_nine, range(9, 0, -1), strict=True))
    if total > 101:
        total %= 101
    return 0 if total in (100, 101) else total


def normalize_snils(raw: str) -> str:
    """Return ``NNN-NNN-NNN NN`` or raise :class:`InvalidInput` saying what is wrong."""
    digits = _SEPARATORS.sub("", raw or "")
    if not digits:
        raise InvalidInput("СНИЛС не указан", field="snils")
    if not digits.isdigit() or len(digits) != 11:
        raise InvalidInput(f"СНИЛС «{raw}» должен состоять из 11 цифр", field="snils")
    body, control = digits[:9], int(digits[9:])
    if int(body) > _NO_CHECKSUM_UP_TO and checksum(body) != control:
        raise InvalidInput(f"СНИЛС «{raw}»: неверная контрольная сумма", field="snils")
    return f"{body[:3]}-{body[3:6]}-{body[6:9]} {digits[9:]}"


def is_valid_snils(raw: str) -> bool:
    try:
        normalize_snils(raw)
    except InvalidInput:
        return False
    return True


def make_snils(first_nine: int) -> str:
    """A valid SNILS from a nine-digit number (for generated and test data)."""
    body = f"{first_nine:09d}"
    return normalize_snils(body + f"{checksum(body):02d}")
