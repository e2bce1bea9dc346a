"""Control characters and characters XML cannot carry in import files (issue 13, item 6): a
roster or marks file holding one is refused as a whole, each bad cell named by its line and
column with the character as U+XXXX; a mark's comment (multi-line) may hold tab and line
breaks, a name may not."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from diary_core.imports import ImportFailed
from diary_core.models import Mark, User
from tests.integration.imports.test_marks_import import counts as marks_counts
from tests.integration.imports.test_marks_import import import_as_admin as import_marks_as_admin
from tests.integration.imports.test_marks_import import marks_file, snils_of
from tests.integration.imports.test_roster_import import (
    KID_1,
    KID_2,
    counts,
    import_as_admin,
    mother,
    roster,
    row,
)
from tests.support.world import World


async def refused(world: World, data: bytes | str) -> list[tuple[int, str | None, str]]:
    before = await counts(world.session)
    with pytest.raises(ImportFailed) as caught:
        await import_as_admin(world, data)
    await world.session.rollback()
    assert await counts(world.session) == before, "a refused file must write nothing"
    return [(e.line, e.column, e.reason) for e in caught.value.errors]


async def test_roster_with_u0001_and_u0008_in_names_is_refused_by_line_and_column(
    world: World,
) -> None:
    data = roster(
        row(snils=KID_1, parent=mother()),
        row(last="Ор\x01лов", first="Мак\x08сим", snils=KID_2),
    )
    errors = await refused(world, data)
    assert [(line, column) for line, column, _ in errors] == [
        (3, "pupil_last_name"),
        (3, "pupil_first_name"),
    ]
    assert "U+0001" in errors[0][2] and "«Ор[U+0001]лов»" in errors[0][2]
    assert "U+0008" in errors[1][2] and "«Мак[U+0008]сим»" in errors[1][2]
    assert all("\x01" not in reason and "\x08" not in reason for *_, reason in errors)


@pytest.mark.parametrize(
    "bad", ["\x00", "\x1f", "\x7f", "\x85", "\x9f", "\ufffe", "\uffff", "\t", "\r", "\u000b"]
)
async def test_every_refused_character_in_a_name_is_named(world: World, bad: str) -> None:
    errors = await refused(world, roster(row(middle=f'"Иван{bad}ович"')))
    assert [(line, column) for line, column, _ in errors] == [(2, "pupil_middle_name")]
    assert f"U+{ord(bad):04X}" in errors[0][2]


async def test_a_line_break_inside_a_quoted_name_is_refused(world: World) -> None:
    errors = await refused(world, roster(row(last='"Ор\nлов"')))
    assert [(line, column) for line, column, _ in errors] == [(2, "pupil_last_name")]
    assert "U+000A" in errors[0][2]


async def test_utf8_excel_file_with_a_control_character_is_refused(world: World) -> None:
    """Excel's "CSV UTF-8": a BOM, ``;`` and CRLF line ends (CRLF itself is fine)."""
    text = roster(row(), row(last="Иванов\x01", snils=KID_2)).replace(",", ";")
    data = "\ufeff".encode() + text.replace("\n", "\r\n").encode()
    errors = await refused(world, data)
    assert [(line, column) for line, column, _ in errors] == [(3, "pupil_last_name")]
    assert "U+0001" in errors[0][2]


async def test_windows_1251_file_with_a_control_character_is_refused(world: World) -> None:
    """A file in Windows-1251 (Excel's «CSV» on a Russian Windows) is read like UTF-8 and
    held to the same rule: the control character is named by line and column, nothing is
    written."""
    data = roster(row(last="Ор\x01лов"), row(snils=KID_2)).encode("cp1251")
    errors = await refused(world, data)
    assert [(line, column) for line, column, _ in errors] == [(2, "pupil_last_name")]
    assert "U+0001" in errors[0][2]


async def test_clean_file_is_imported_after_the_refusal(world: World) -> None:
    await refused(world, roster(row(last="Ор\x01лов")))
    report = await import_as_admin(world, roster(row(parent=mother())))
    assert report.pupils.created == 1
    names = set(await world.session.scalars(select(User.last_name)))
    assert "Орлов" in names and not any("\x01" in n for n in names)


async def test_marks_comment_takes_tab_and_line_breaks_but_no_control_character(
    world: World,
) -> None:
    a1 = await snils_of(world, world.pupil_a1_user)
    before = await marks_counts(world.session)
    bad = marks_file(f'5А,Математика,{a1},2025-10-01,5,Ответ на уроке,,"хорошо\x07"')
    with pytest.raises(ImportFailed) as caught:
        await import_marks_as_admin(world, bad)
    await world.session.rollback()
    assert [(e.line, e.column) for e in caught.value.errors] == [(2, "comment")]
    assert "U+0007" in caught.value.errors[0].reason
    assert await marks_counts(world.session) == before
    bad_subject = marks_file(f"5А,Матем\tатика,{a1},2025-10-01,5,Ответ на уроке,,")
    with pytest.raises(ImportFailed) as caught:
        await import_marks_as_admin(world, bad_subject)
    await world.session.rollback()
    assert [(e.line, e.column) for e in caught.value.errors] == [(2, "subject")]
    good = marks_file(f'5А,Математика,{a1},2025-10-01,5,Ответ на уроке,,"устно:\tхорошо\r\nдалее"')
    report = await import_marks_as_admin(world, good)
    assert report.marks.created == 1
    comment = await world.session.scalar(
        select(Mark.comment).where(Mark.pupil_id == world.pupil_a1)
    )
    assert comment is not None and "\t" in comment and "\n" in comment
