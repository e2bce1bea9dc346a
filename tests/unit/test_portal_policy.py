"""The portal client's reach: the schools it was registered for, or all of them."""

from __future__ import annotations

from diary_core.policy import PortalReader, PupilPlace, portal_may_read

PUPIL_IN_1 = PupilPlace(pupil_id=10, school_id=1, class_id=5)
PUPIL_IN_2 = PupilPlace(pupil_id=11, school_id=2, class_id=7)


def test_client_for_every_school_reads_any_pupil() -> None:
    client = PortalReader("portal", schools=None)
    assert portal_may_read(client, PUPIL_IN_1)
    assert portal_may_read(client, PUPIL_IN_2)


def test_client_for_one_school_reads_only_that_schools_pupils() -> None:
    client = PortalReader("portal", schools=frozenset({1}))
    assert portal_may_read(client, PUPIL_IN_1)
    assert not portal_may_read(client, PUPIL_IN_2)


def test_client_with_no_schools_reads_nobody() -> None:
    client = PortalReader("portal", schools=frozenset())
    assert not portal_may_read(client, PUPIL_IN_1)
    assert not portal_may_read(client, PUPIL_IN_2)
