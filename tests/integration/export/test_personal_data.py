"""A person's data on request (docs/personal-data.md): the archive a family downloads from
/account and an administrator makes for a written request (one ZIP: JSON valid against the
published schema, and a printable HTML page), and the family's page of who read their child's
data.

Two families of the test world are used: parent_a1 with pupil_a1 (5А) and parent_a2 with
pupil_a2 (5А, same class). The clock stands on Wednesday 15.10.2025, 10:00 UTC.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import attendance, audit, lessons, marks, messaging
from diary_core.clock import FixedClock
from diary_core.models import AuditEvent, ExternalIdentity, User
from gateway.export.archive import HTML_NAME, JSON_NAME, SCHEMA_PATH
from gateway.storage import SignInEvent, WebSession
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

MON = date(2025, 10, 13)
PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$U0VDUkVULUhBU0g$c2VjcmV0LWhhc2gtdmFsdWU"
ESIA_OID = "1000299353"
OTHER_COMMENT = "ЧУЖАЯ-ОТМЕТКА-КУЗНЕЦОВОЙ"
OTHER_MESSAGE = "ЧУЖОЕ-СООБЩЕНИЕ-КУЗНЕЦОВОЙ"
OWN_MESSAGE = "Здравствуйте! Артём болел в понедельник."
ROOT = str(Path(__file__).resolve().parents[3])
PORTAL = "Единый портал госуслуг (тест)"


@dataclass
class Site:
    base: str
    world: World
    engine: AsyncEngine
    clock: FixedClock
    mark_id: int

    async def browser(self, user_id: int) -> Browser:
        b = Browser()
        await sign_in_as(b, self.engine, user_id, self.clock.now())
        return b


@pytest.fixture
async def site(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[Site]:
    w = world
    teacher = await w.ctx(w.teacher_math)
    lesson = await lessons.record_lesson(
        teacher,
        class_id=w.class_5a,
        subject_id=w.math_a,
        day=MON,
        lesson_number=1,
        topic="Дроби",
        homework="№ 125, 127",
    )
    mark = await marks.record_mark(
        teacher,
        pupil_id=w.pupil_a1,
        subject_id=w.math_a,
        day=MON,
        value="4",
        work_type_id=w.a.work_type_ids["Ответ на уроке"],
        lesson_id=lesson.id,
    )
    await marks.correct_mark(teacher, mark.id, value="5", reason="пересчёт баллов")
    await marks.record_mark(
        teacher,
        pupil_id=w.pupil_a2,
        subject_id=w.math_a,
        day=MON,
        value="3",
        work_type_id=w.a.work_type_ids["Ответ на уроке"],
        comment=OTHER_COMMENT,
        lesson_id=lesson.id,
    )
    await attendance.set_attendance(teacher, pupil_id=w.pupil_a1, lesson_id=lesson.id, kind="н")
    await messaging.start_conversation(
        await w.ctx(w.parent_a1), [w.teacher_math], "Пропуск", OWN_MESSAGE, pupil_id=w.pupil_a1
    )
    await messaging.start_conversation(
        await w.ctx(w.parent_a2), [w.teacher_math], "Оценка", OTHER_MESSAGE, pupil_id=w.pupil_a2
    )
    # secrets the archive must never carry
    await w.session.execute(
        update(User)
        .where(User.id == w.parent_a1)
        .values(login="smirnova", password_hash=PASSWORD_HASH)
    )
    w.session.add(
        ExternalIdentity(
            user_id=w.parent_a1, provider="esia", subject=ESIA_OID, linked_at=clock.now()
        )
    )
    w.session.add(
        SignInEvent(
            at=clock.now() - timedelta(days=1),
            login="smirnova",
            user_id=w.parent_a1,
            ip="10.1.2.3",
            user_agent="Firefox",
            method="password",
            success=True,
        )
    )
    # who read pupil_a1's data
    now = clock.now()
    await marks.get_mark(teacher, mark.id)  # a teacher's read: audited as pupil.marks.read
    await audit.record_portal(
        w.session, PORTAL, "portal.progress.read", now - timedelta(days=3),
        school_id=w.a.id, pupil_id=w.pupil_a1,
    )  # fmt: skip
    admin = await w.actor(w.admin_a)
    audit.record(  # older than 90 days: left out
        w.session, admin, "pupil.marks.read", now - timedelta(days=91),
        school_id=w.a.id, pupil_id=w.pupil_a1, object_type="pupil", object_id=w.pupil_a1,
    )  # fmt: skip
    audit.record(  # the parent's own read: left out
        w.session, await w.actor(w.parent_a1), "conversation.read", now - timedelta(days=1),
        school_id=w.a.id, pupil_id=w.pupil_a1, object_type="conversation", object_id=1,
    )  # fmt: skip
    audit.record(  # another child's reader: not on pupil_a1's page
        w.session, await w.actor(w.ct_5b), "pupil.attendance.read", now - timedelta(days=2),
        school_id=w.a.id, pupil_id=w.pupil_b1, object_type="pupil", object_id=w.pupil_b1,
    )  # fmt: skip
    await w.session.commit()
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield Site(url, w, engine, clock, mark.id)


def _validate(data: dict[str, object]) -> None:
    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(data)


def _open(body: bytes) -> tuple[dict[str, object], str, str]:
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        assert sorted(zf.namelist()) == sorted([JSON_NAME, HTML_NAME])
        raw = zf.read(JSON_NAME).decode("utf-8")
        page = zf.read(HTML_NAME).decode("utf-8")
    return json.loads(raw), raw, page


async def _secrets(site: Site) -> list[str]:
    async with site.engine.connect() as conn:
        rows = (await conn.execute(select(WebSession.id_hash, WebSession.csrf_token))).all()
    return [PASSWORD_HASH, ESIA_OID, *(v for r in rows for v in r)]


async def _download(site: Site, user_id: int) -> bytes:
    b = await site.browser(user_id)
    try:
        token = await b.csrf(site.base + "/account")
        resp = await b.post(site.base + "/account/personal-data", {"csrf_token": token})
        assert resp.status == 200, await resp.text()
        assert resp.headers["Content-Type"] == "application/zip"
        assert resp.headers.get("Transfer-Encoding") == "chunked"
        assert "attachment" in resp.headers["Content-Disposition"]
        return await resp.read()
    finally:
        await b.close()


async def test_the_parent_downloads_the_familys_data(site: Site) -> None:
    w = site.world
    data, raw, page = _open(await _download(site, w.parent_a1))
    _validate(data)
    assert data["person"]["id"] == w.parent_a1  # type: ignore[index]
    assert data["person"]["esia"] == {  # type: ignore[index]
        "linked": True,
        "linked_at": site.clock.now().isoformat(),
    }
    assert [p["pupil_id"] for p in data["pupils"]] == [w.pupil_a1]  # type: ignore[attr-defined]
    (mark,) = data["marks"]  # type: ignore[misc]
    assert mark["value"] == "5" and mark["pupil_id"] == w.pupil_a1
    assert [h["action"] for h in mark["history"]] == ["create", "update"]
    assert mark["history"][1]["reason"] == "пересчёт баллов"
    assert mark["history"][1]["old"]["value"] == "4"
    assert [a["kind"] for a in data["attendance"]] == ["н"]  # type: ignore[attr-defined]
    assert [h["homework"] for h in data["homework"]] == ["№ 125, 127"]  # type: ignore[attr-defined]
    assert [m["body"] for m in data["messages"]] == [OWN_MESSAGE]  # type: ignore[attr-defined]
    assert [s["ip"] for s in data["sign_ins"]] == ["10.1.2.3"]  # type: ignore[attr-defined]
    assert len(data["sessions"]) == 1  # type: ignore[arg-type]
    assert {link["relation"] for link in data["links"]} == {"child"}  # type: ignore[attr-defined]
    # nothing of the other family, no secrets
    for text in (raw, page):
        assert OTHER_COMMENT not in text and OTHER_MESSAGE not in text
        assert "Кузнецова" not in text
        for secret in await _secrets(site):
            assert secret not in text
        assert "password" not in text.replace('"method": "password"', "")
    # the printable page, in Russian
    assert "Персональные данные: Смирнова Елена Петровна" in page
    assert "пересчёт баллов" in page and "№ 125, 127" in page
    # audited: what, for whom, by whom
    async with site.engine.connect() as conn:
        events = (
            await conn.execute(
                select(AuditEvent.actor_id, AuditEvent.object_id, AuditEvent.details).where(
                    AuditEvent.action == "personal_data.export"
                )
            )
        ).all()
    assert [(e.actor_id, e.object_id) for e in events] == [(w.parent_a1, str(w.parent_a1))]
    assert events[0].details == {"pupils": [w.pupil_a1], "requested_by": "self"}


async def test_the_pupil_downloads_only_his_own_data(site: Site) -> None:
    w = site.world
    data, raw, _ = _open(await _download(site, w.pupil_a1_user))
    _validate(data)
    assert [p["pupil_id"] for p in data["pupils"]] == [w.pupil_a1]  # type: ignore[attr-defined]
    assert data["messages"] == []  # the parent's conversation is not the pupil's
    assert OTHER_COMMENT not in raw
    assert {link["relation"] for link in data["links"]} == {"parent"}  # type: ignore[attr-defined]


async def test_the_export_needs_the_csrf_token(site: Site) -> None:
    b = await site.browser(site.world.parent_a1)
    try:
        resp = await b.post(site.base + "/account/personal-data", {})
        assert resp.status == 403
    finally:
        await b.close()


async def test_the_administrator_exports_for_a_written_request(site: Site) -> None:
    w = site.world
    b = await site.browser(w.admin_a)
    try:
        found = await b.get(site.base + "/console/admin/personal-data?q=Смирн")
        assert found.status == 200
        text = await found.text()
        assert "Смирнова Елена Петровна" in text and "Смирнов Артём" in text
        token = await b.csrf(site.base + "/console/admin/personal-data?q=Смирн")
        resp = await b.post(
            site.base + "/console/admin/personal-data",
            {"csrf_token": token, "user_id": str(w.parent_a1)},
        )
        assert resp.status == 200, await resp.text()
        data, raw, _ = _open(await resp.read())
        _validate(data)
        assert data["person"]["id"] == w.parent_a1  # type: ignore[index]
        assert data["requested_by"] == {"kind": "administrator", "user_id": w.admin_a}
        assert OTHER_COMMENT not in raw and PASSWORD_HASH not in raw
        bad = await b.post(
            site.base + "/console/admin/personal-data", {"csrf_token": token, "user_id": "abc"}
        )
        assert bad.status == 400 and "числом" in await bad.text()
    finally:
        await b.close()
    other = await site.browser(w.admin_b)  # another school's administrator: not found
    try:
        token = await other.csrf(site.base + "/account")
        resp = await other.post(
            site.base + "/console/admin/personal-data",
            {"csrf_token": token, "user_id": str(w.parent_a1)},
        )
        assert resp.status == 404
    finally:
        await other.close()
    async with site.engine.connect() as conn:
        events = (
            await conn.execute(
                select(AuditEvent.actor_id, AuditEvent.object_id).where(
                    AuditEvent.action == "personal_data.export"
                )
            )
        ).all()
    assert [(e.actor_id, e.object_id) for e in events] == [(w.admin_a, str(w.parent_a1))]


async def test_the_cli_exports_and_is_audited(site: Site, db_url: str, tmp_path: Path) -> None:
    w = site.world
    out = tmp_path / "request.zip"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIARY_")}
    env["EDIARY_DATABASE_URL"] = db_url
    env["PYTHONPATH"] = ROOT
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli.main", "personal-data", "export",
        "--user", str(w.parent_a1), "-o", str(out),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    stdout, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    assert "Архив записан" in stdout.decode()
    data, _raw, _ = _open(out.read_bytes())
    _validate(data)
    assert data["requested_by"] == {"kind": "system", "user_id": None}
    assert [p["pupil_id"] for p in data["pupils"]] == [w.pupil_a1]  # type: ignore[attr-defined]
    async with site.engine.connect() as conn:
        kinds = (
            await conn.execute(
                select(AuditEvent.actor_kind, AuditEvent.object_id).where(
                    AuditEvent.action == "personal_data.export"
                )
            )
        ).all()
    assert [(k.actor_kind, k.object_id) for k in kinds] == [("system", str(w.parent_a1))]


async def test_who_looked_lists_staff_and_portal_reads(site: Site) -> None:
    w = site.world
    b = await site.browser(w.parent_a1)
    try:
        resp = await b.get(site.base + "/account/who-looked")
        assert resp.status == 200
        page = (await resp.text()).split("<h1>Кто смотрел данные</h1>")[1]
        assert "Числова Мария" in page and "учитель" in page  # the teacher's read
        assert "15.10.2025" in page
        assert PORTAL in page and "12.10.2025" in page  # the portal's read, 3 days ago
        assert "Завучева" not in page  # older than 90 days
        assert "Смирнова Елена" not in page  # the parent's own read
        assert "Буквина" not in page  # another child's reader
        other = await b.get(site.base + f"/account/who-looked?pupil={w.pupil_b1}")
        assert other.status == 404
    finally:
        await b.close()
    pupil = await site.browser(w.pupil_a1_user)
    try:
        page = await (await pupil.get(site.base + "/account/who-looked")).text()
        assert "Числова Мария" in page and PORTAL in page
    finally:
        await pupil.close()
    teacher = await site.browser(w.teacher_math)
    try:
        resp = await teacher.get(site.base + f"/account/who-looked?pupil={w.pupil_a1}")
        assert resp.status == 404
    finally:
        await teacher.close()
