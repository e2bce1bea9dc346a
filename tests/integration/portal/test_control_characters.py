"""Legacy data XML cannot carry, and exports that fail (issue 13, item 6), on both databases.

A pupil's name stored with U+0001 before the diary refused such characters: the XML export
leaves that pupil out, names him on stderr and still writes a whole, well-formed file
(exit status 3); the JSON forms carry him; the portal endpoint answers a problem naming the
character and the field, not 500. An export that fails midway leaves the target as it was
(or absent) and no temporary file behind."""

from __future__ import annotations

import asyncio
import errno
import json
from pathlib import Path
from typing import IO, Any

import pytest
from lxml import etree
from sqlalchemy import update

from diary_core.models import Pupil, User
from gateway.cli import feed
from gateway.portal.xml import NS, SAFE_PARSER, schema
from tests.integration.portal.conftest import Marks, Portal, pupil_snils
from tests.integration.portal.test_feed_export import env, run_cli, school_a_pupils
from tests.integration.portal.test_portal_progress import progress_path
from tests.support.world import World

__all__ = ["env"]  # the fixture, used by name

LEGACY_NAME = "Смир\x01нов"


async def store_legacy_name(world: World, pupil_id: int) -> int:
    """Write a bad name the way old data got in: straight into the table, past the core."""
    pupil = await world.session.get(Pupil, pupil_id)
    assert pupil is not None
    await world.session.execute(
        update(User).where(User.id == pupil.user_id).values(last_name=LEGACY_NAME)
    )
    await world.session.commit()
    return pupil.user_id


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """A folder of its own for the export (the test database may live in ``tmp_path``)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def names(folder: Path) -> list[str]:
    """What a folder holds: the export's target, and no temporary file left behind."""
    return sorted(p.name for p in folder.iterdir())


def export_args(out: Path, fmt: str = "xml") -> tuple[str, ...]:
    return ("feed", "export", "--school", "Школа А", "--format", fmt, "--out", str(out),
            "--from", "2025-09-01", "--to", "2025-10-15", "--workers", "1")  # fmt: skip


async def test_xml_export_skips_and_names_a_pupil_whose_name_xml_cannot_carry(
    env: None,
    world: World,
    marks: Marks,
    out_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await store_legacy_name(world, world.pupil_a1)
    bad_snils = await pupil_snils(world, world.pupil_a1)
    out = out_dir / "school-a.xml"
    code = await asyncio.to_thread(run_cli, *export_args(out))
    assert code == feed.EXIT_PUPILS_LEFT_OUT == 3
    root = etree.parse(str(out), SAFE_PARSER).getroot()  # well-formed, closed
    assert root.tag == f"{{{NS}}}Export"
    assert schema().validate(root), schema().error_log
    documents = root.findall(f"{{{NS}}}Progress")
    assert len(documents) == await school_a_pupils(world) - 1
    exported = {d.find(f"{{{NS}}}Pupil").get("snils") for d in documents}  # type: ignore[union-attr]
    assert bad_snils not in exported and len(exported) == len(documents)
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if f"обучающийся #{world.pupil_a1} " in x)
    assert "(Смир[U+0001]нов " in line and "U+0001" in line and "pupil.lastName" in line
    assert "\x01" not in err
    assert names(out_dir) == ["school-a.xml"]


async def test_jose_export_carries_the_legacy_name_escaped(
    env: None, world: World, marks: Marks, out_dir: Path
) -> None:
    await store_legacy_name(world, world.pupil_a1)
    out = out_dir / "school-a.jws"
    code = await asyncio.to_thread(run_cli, *export_args(out, "jose"))
    assert code == 0
    lines = out.read_text().splitlines()
    assert len(lines) == await school_a_pupils(world)


class FailingOut:
    """An output that fails with "no space left on device" after ``limit`` bytes."""

    def __init__(self, out: IO[bytes], limit: int) -> None:
        self.out, self.left = out, limit

    def write(self, data: bytes) -> int:
        if len(data) > self.left:
            self.out.write(data[: self.left])
            raise OSError(errno.ENOSPC, "No space left on device")
        self.left -= len(data)
        return self.out.write(data)


@pytest.fixture
def disk_fills_midway(monkeypatch: pytest.MonkeyPatch) -> None:
    """The export's output fails once the header and a little of the first batch are out."""
    real = feed.export

    async def export(sessions: Any, job: Any, out: IO[bytes], *args: Any) -> Any:
        return await real(sessions, job, FailingOut(out, 2000), *args)  # type: ignore[arg-type]

    monkeypatch.setattr(feed, "export", export)


async def test_export_failing_midway_leaves_the_previous_file_untouched(
    env: None, world: World, marks: Marks, out_dir: Path, disk_fills_midway: None
) -> None:
    out = out_dir / "school-a.xml"
    out.write_bytes(b"<previous export/>\n")
    with pytest.raises(Exception, match="No space left on device"):
        await asyncio.to_thread(run_cli, *export_args(out))
    assert out.read_bytes() == b"<previous export/>\n"
    assert names(out_dir) == ["school-a.xml"]


async def test_export_failing_midway_leaves_no_file(
    env: None, world: World, marks: Marks, out_dir: Path, disk_fills_midway: None
) -> None:
    out = out_dir / "school-a.xml"
    with pytest.raises(Exception, match="No space left on device"):
        await asyncio.to_thread(run_cli, *export_args(out))
    assert names(out_dir) == []


async def test_export_into_a_missing_folder_is_refused_before_any_work(
    env: None, world: World, out_dir: Path
) -> None:
    from diary_core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="не удаётся создать файл"):
        await asyncio.to_thread(run_cli, *export_args(out_dir / "missing" / "school-a.xml"))
    assert names(out_dir) == []


async def test_portal_answers_a_problem_for_a_legacy_name_in_xml_and_carries_it_in_json(
    portal: Portal, world: World, marks: Marks
) -> None:
    await store_legacy_name(world, world.pupil_a1)
    path = await progress_path(world, world.pupil_a1)
    xml = await portal.get(path, accept="application/xml")
    assert xml.status == 406, await xml.text()
    assert xml.content_type == "application/problem+json"
    problem = await xml.json(content_type=None)
    assert problem["code"] == "not_representable_as_xml"
    assert "U+0001" in problem["detail"] and "pupil.lastName" in problem["detail"]
    plain = await portal.get(path, accept="application/json")
    assert plain.status == 200
    assert json.loads(await plain.read())["pupil"]["lastName"] == LEGACY_NAME
    jose = await portal.get(path, accept="application/jose")
    assert jose.status == 200
    other = await portal.get(await progress_path(world, world.pupil_a2), accept="application/xml")
    assert other.status == 200
