"""The JSON schemas of the API's request bodies (published in the OpenAPI document as each
operation's ``requestBody``, and enforced from there: :mod:`gateway.api.validation`)."""

from __future__ import annotations

from diary_core.grading import ATTENDANCE_KINDS
from diary_core.messaging import MAX_BODY, MAX_RECIPIENTS, MAX_TOPIC
from gateway.api.schemas import MARK_VALUE
from gateway.api.spec import BOOL, DATE, ID, Schema, array, nullable, obj

LESSON_NUMBER: Schema = {"type": "integer", "minimum": 1, "maximum": 12}

NEW_MARK = obj(
    {
        "pupil_id": ID,
        "subject_id": ID,
        "date": DATE,
        "value": MARK_VALUE,
        "work_type_id": ID,
    },
    {
        "weight": {"type": ["integer", "null"], "minimum": 1, "maximum": 10},
        "counts": BOOL,
        "comment": {"type": "string", "maxLength": 500},
        "lesson_id": nullable(ID),
    },
)

MARK_CORRECTION = {
    **obj(
        {},
        {
            "value": MARK_VALUE,
            "weight": {"type": "integer", "minimum": 1, "maximum": 10},
            "counts": BOOL,
            "comment": {"type": "string", "maxLength": 500},
            "reason": {"type": "string", "maxLength": 500},
        },
    ),
    "minProperties": 1,
}

ATTENDANCE_INPUT = obj(
    {
        "pupil_id": ID,
        "lesson_id": ID,
        "kind": {
            "type": ["string", "null"],
            "enum": [*ATTENDANCE_KINDS, None],
            "description": "н absent, б ill, оп late; null clears the record",
        },
    }
)

NEW_LESSON = obj(
    {"class_id": ID, "subject_id": ID, "date": DATE, "lesson_number": LESSON_NUMBER},
    {
        "topic": {"type": "string", "maxLength": 2000},
        "homework": {"type": "string", "maxLength": 2000},
    },
)

NEW_CONVERSATION = obj(
    {
        "recipient_ids": array(ID, minItems=1, maxItems=MAX_RECIPIENTS),
        "topic": {"type": "string", "minLength": 1, "maxLength": MAX_TOPIC},
        "body": {"type": "string", "minLength": 1, "maxLength": MAX_BODY},
    },
    {"pupil_id": nullable(ID)},
)

NEW_MESSAGE = obj({"body": {"type": "string", "minLength": 1, "maxLength": MAX_BODY}})

NOTIFICATIONS_READ = obj({"ids": array(ID, maxItems=500)})

DECISION = obj({"accept": {"type": "boolean", "description": "true confirms, false rejects"}})
