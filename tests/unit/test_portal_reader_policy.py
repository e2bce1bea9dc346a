"""The policy's answer to a portal reader: the scope its request holds first (Forbidden, which
says nothing about any pupil), then the pupil's school (NotFound, as for a missing pupil)."""

from __future__ import annotations

import pytest

from diary_core.errors import Forbidden, NotFound
from diary_core.policy import PortalReader, PortalScope, PupilPlace, require_portal

PUPIL_IN_1 = PupilPlace(pupil_id=10, school_id=1, class_id=5)
PUPIL_IN_2 = PupilPlace(pupil_id=11, school_id=2, class_id=7)
PROGRESS = frozenset({PortalScope.READ_PROGRESS})


def read_progress(reader: PortalReader, pupil: PupilPlace | None) -> None:
    require_portal(reader, PortalScope.READ_PROGRESS, pupil)


def test_reader_of_the_pupils_school_with_the_scope_may_read() -> None:
    read_progress(PortalReader("p", frozenset({1}), PROGRESS), PUPIL_IN_1)
    read_progress(PortalReader("p", None, PROGRESS), PUPIL_IN_2)


def test_reader_of_another_school_is_answered_not_found() -> None:
    with pytest.raises(NotFound):
        read_progress(PortalReader("p", frozenset({1}), PROGRESS), PUPIL_IN_2)
    with pytest.raises(NotFound):
        read_progress(PortalReader("p", frozenset(), PROGRESS), PUPIL_IN_1)


@pytest.mark.parametrize("pupil", [PUPIL_IN_1, PUPIL_IN_2, None])
def test_reader_without_the_scope_is_forbidden_whoever_the_pupil(pupil: PupilPlace | None) -> None:
    reader = PortalReader("p", frozenset({1}), frozenset({PortalScope.READ_CHANGES}))
    with pytest.raises(Forbidden):
        read_progress(reader, pupil)


def test_a_reader_holds_no_scope_unless_given_one() -> None:
    with pytest.raises(Forbidden):
        read_progress(PortalReader("p"), PUPIL_IN_1)


def test_the_operators_export_reads_one_schools_progress_only() -> None:
    reader = PortalReader.school_export(1)
    read_progress(reader, PUPIL_IN_1)
    with pytest.raises(NotFound):
        read_progress(reader, PUPIL_IN_2)
    with pytest.raises(Forbidden):
        require_portal(reader, PortalScope.READ_CHANGES)
