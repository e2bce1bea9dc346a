"""Known-answer tests for GOST R 34.11-2012 (Streebog-256 and -512), on both GOST backends.

The messages and digests are the standard's own examples, as RFC 6986 §10 reprints them
(M1: the digits, M2: the line of «Слово о полку Игореве» in Windows-1251).
"""

from __future__ import annotations

import pytest

from gosuslugi_adapter.gost import GostBackend, streebog, streebog256, streebog512

pytestmark = pytest.mark.usefixtures("gost_backend")

M1 = b"012345678901234567890123456789012345678901234567890123456789012"
M2 = "Се ветри, Стрибожи внуци, веютъ с моря стрелами на храбрыя плъкы Игоревы".encode("cp1251")


def test_streebog256_of_m1_matches_the_standard() -> None:
    expected = "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"
    assert streebog256(M1).hex() == expected


def test_streebog256_of_m2_matches_the_standard() -> None:
    expected = "9dd2fe4e90409e5da87f53976d7405b0c0cac628fc669a741d50063c557e8f50"
    assert streebog256(M2).hex() == expected


def test_streebog256_of_empty_input() -> None:
    expected = "3f539a213e97c802cc229d474c6aa32a825a360b2a933a949fd925208d9ce1bb"
    assert streebog256(b"").hex() == expected


def test_streebog512_of_m1_matches_the_standard() -> None:
    expected = (
        "1b54d01a4af5b9d5cc3d86d68d285462b19abc2475222f35c085122be4ba1ffa"
        "00ad30f8767b3a82384c6574f024c311e2a481332b08ef7f41797891c1646f48"
    )
    assert streebog512(M1).hex() == expected


def test_streebog512_of_m2_matches_the_standard() -> None:
    expected = (
        "1e88e62226bfca6f9994f1f2d51569e0daf8475a3b0fe61a5300eee46d961376"
        "035fe83549ada2b8620fcd7c496ce5b33f0cb9dddc2b6460143b03dabac9fb28"
    )
    assert streebog512(M2).hex() == expected


def test_streebog512_of_empty_input() -> None:
    expected = (
        "8e945da209aa869f0455928529bcae4679e9873ab707b55315f56ceb98bef0a7"
        "362f715528356ee83cda5f2aac4c6ad2ba3a715c1bcd81cb8e9f90bf4c1c1a8a"
    )
    assert streebog512(b"").hex() == expected


def test_the_digests_come_from_the_backend_under_test(gost_backend: GostBackend) -> None:
    from gosuslugi_adapter.gost import backend

    assert backend() is gost_backend
    assert streebog(M2, 512) == gost_backend.digest(M2, 512)


def test_other_digest_sizes_are_refused(gost_backend: GostBackend) -> None:
    with pytest.raises(ValueError, match="256 or 512"):
        gost_backend.digest(M1, 384)
