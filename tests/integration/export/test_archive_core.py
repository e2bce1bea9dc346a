"""The personal data archive at the core's level: the same archive whatever the batch size
(so it really is read and sent batch by batch), who may export whom, and an administrator's
export of a parent with children in two schools (only his own school's)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from diary_core import families, marks
from diary_core.errors import NotFound
from diary_core.personal_data import access, readers
from gateway.export.archive import JSON_NAME, write_archive
from tests.support.world import World

MOSCOW = ZoneInfo("Europe/Moscow")


async def _archive(
    world: World, actor_id: int | None, subject_id: int, batch: int
) -> tuple[dict[str, object], int]:
    ctx = await world.ctx(actor_id)
    scope = await access.open_export(ctx, subject_id)
    chunks: list[bytes] = []

    async def send(data: bytes) -> None:
        chunks.append(data)

    await write_archive(ctx, scope, send, MOSCOW, batch=batch)
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as zf:
        data = json.loads(zf.read(JSON_NAME))
    data.pop("exported_at")
    return data, len(chunks)


async def _marks(world: World, pupil_id: int, subject_id: int, n: int) -> None:
    ctx = await world.ctx()
    school = world.a if subject_id == world.math_a else world.b
    for day in range(n):
        await marks.record_mark(
            ctx,
            pupil_id=pupil_id,
            subject_id=subject_id,
            day=date(2025, 10, 6 + day),
            value=str(3 + day % 3),
            work_type_id=school.work_type_ids["Ответ на уроке"],
        )
    await world.session.commit()


async def test_the_archive_is_the_same_in_any_batch_size(world: World) -> None:
    await _marks(world, world.pupil_a1, world.math_a, 5)
    whole, few = await _archive(world, world.parent_a1, world.parent_a1, 500)
    paged, many = await _archive(world, world.parent_a1, world.parent_a1, 1)
    assert whole == paged
    assert len(whole["marks"]) == 5  # type: ignore[arg-type]
    assert many > few + 4  # each batch of one went out on its own


async def test_only_the_person_an_administrator_or_the_operator_exports(world: World) -> None:
    for stranger in (world.parent_a2, world.teacher_math, world.admin_b, world.pupil_b1_user):
        with pytest.raises(NotFound):
            await access.open_export(await world.ctx(stranger), world.parent_a1)
    with pytest.raises(NotFound):
        await access.open_export(await world.ctx(), 999_999)


async def test_an_administrator_exports_only_his_schools_pupils(world: World) -> None:
    """parent_a1 becomes also the parent of pupil_z1 (school B)."""
    await families.link_guardian(
        await world.ctx(), world.parent_a1, world.pupil_z1, source="roster", confirmed=True
    )
    await world.session.commit()
    await _marks(world, world.pupil_z1, world.math_b, 2)
    await _marks(world, world.pupil_a1, world.math_a, 1)
    own, _ = await _archive(world, world.parent_a1, world.parent_a1, 500)
    assert [p["pupil_id"] for p in own["pupils"]] == [world.pupil_a1, world.pupil_z1]  # type: ignore[attr-defined]
    assert len(own["marks"]) == 3  # type: ignore[arg-type]
    by_a, _ = await _archive(world, world.admin_a, world.parent_a1, 500)
    assert [p["pupil_id"] for p in by_a["pupils"]] == [world.pupil_a1]  # type: ignore[attr-defined]
    assert {m["pupil_id"] for m in by_a["marks"]} == {world.pupil_a1}  # type: ignore[attr-defined]
    assert {n["pupil_id"] for n in by_a["notifications"]} <= {world.pupil_a1}  # type: ignore[attr-defined]
    assert {link["pupil_id"] for link in by_a["links"]} == {world.pupil_a1}  # type: ignore[attr-defined]
    by_b, _ = await _archive(world, world.admin_b, world.parent_a1, 500)
    assert [p["pupil_id"] for p in by_b["pupils"]] == [world.pupil_z1]  # type: ignore[attr-defined]
    assert "Смирнов Артём" not in json.dumps(by_b, ensure_ascii=False)


async def test_who_looked_is_the_familys_question(world: World) -> None:
    for stranger in (world.parent_a2, world.teacher_math, world.admin_a):
        with pytest.raises(NotFound):
            await readers.pupil_readers(await world.ctx(stranger), world.pupil_a1)
    assert await readers.pupil_readers(await world.ctx(world.parent_a1), world.pupil_a1) == []
