"""SNILS: checksum, normal form, and clear refusals."""

from __future__ import annotations

import pytest

from diary_core.errors import InvalidInput
from diary_core.snils import checksum, is_valid_snils, make_snils, normalize_snils


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("112-233-445 95", "112-233-445 95"),
        ("11223344595", "112-233-445 95"),
        (" 112 233 445 95 ", "112-233-445 95"),
        ("087-654-303 00", "087-654-303 00"),  # checksum sum 101 → 00
    ],
)
def test_valid_snils_is_normalised(raw: str, normal: str) -> None:
    assert normalize_snils(raw) == normal


def test_checksum_rules() -> None:
    assert checksum("112233445") == 95  # sum 95 < 100
    assert checksum("087654303") == 0  # sum 101 → 00
    # sum > 101 is taken modulo 101: 9*9+8*8+...=285 → 285 % 101 = 83
    assert checksum("999999999") == (9 * 45) % 101


@pytest.mark.parametrize("raw", ["112-233-445 94", "11223344596", "087-654-303 01"])
def test_wrong_checksum_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match="контрольная сумма"):
        normalize_snils(raw)


@pytest.mark.parametrize("raw", ["", "123", "1122334459a", "112-233-445 955", "abc-def-ghi jk"])
def test_malformed_snils_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_snils(raw)
    assert not is_valid_snils(raw)


def test_old_numbers_without_checksum_are_accepted() -> None:
    """Numbers up to 001-001-998 were issued before the checksum rule."""
    assert normalize_snils("001-001-998 00") == "001-001-998 00"


def test_make_snils_makes_valid_numbers() -> None:
    for n in (112233445, 100000000, 999999999, 87654303):
        assert is_valid_snils(make_snils(n))
