"""Known-answer tests for GOST R 34.11-2012 (Streebog-256), from the standard's examples."""

from __future__ import annotations

from gosuslugi_adapter.gost import streebog256

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
