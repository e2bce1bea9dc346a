"""Guardianships waiting for the class teacher, and his decision (policy:
``CONFIRM_GUARDIANSHIP``, the class teacher of the pupil's class)."""

from __future__ import annotations

from diary_core import families
from diary_core.context import Ctx
from gateway.api import serialize
from gateway.api.bodies import DECISION
from gateway.api.spec import ApiCall, Endpoint, Json, array, path_id, ref


async def pending(call: ApiCall) -> Json:
    async def use_case(ctx: Ctx) -> Json:
        links = await families.pending_guardianships(ctx, call.params["class_id"])
        return [serialize.pending(link) for link in links]

    return await call.run(use_case)


async def decide(call: ApiCall) -> Json:
    async def use_case(ctx: Ctx) -> Json:
        link = await families.decide_guardianship(
            ctx, call.params["guardianship_id"], accept=call.body["accept"]
        )
        return serialize.guardianship(link)

    return await call.run(use_case)


ENDPOINTS = (
    Endpoint(
        "GET",
        "/classes/{class_id}/pending-guardianships",
        "listPendingGuardianships",
        "Связи «родитель — ребёнок», ожидающие решения классного руководителя",
        "Класс",
        pending,
        params=(path_id("class_id", "класс"),),
        response=array(ref("PendingGuardianship")),
    ),
    Endpoint(
        "POST",
        "/guardianships/{guardianship_id}/decision",
        "decideGuardianship",
        "Подтвердить или отклонить связь «родитель — ребёнок»",
        "Класс",
        decide,
        params=(path_id("guardianship_id", "связь родителя с ребёнком"),),
        body=DECISION,
        response=ref("Guardianship"),
        errors=(403, 404, 409),
    ),
)
