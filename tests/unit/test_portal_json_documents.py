"""The JSON documents' bytes (the JWS payload) are the standard library's compact UTF-8
JSON, whatever the values hold: the encoder is an implementation detail, the bytes are not."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from diary_core.progress.model import ProgressMark
from gateway.portal import documents

STRINGS = [
    "Смирнов",
    'кавычки " и \\ обратная черта',
    "перевод\nстроки\r\tи табуляция",
    "управляющие \x00\x01\x1f\x7f",
    "разделители \u2028\u2029 и </script>",
    "эмодзи 😀 и иероглиф 字",
    "",
]


def reference(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.mark.parametrize("text", STRINGS)
def test_dumps_is_the_standard_compact_utf8_json(text: str) -> None:
    doc = {
        "text": text,
        text: [1, -2, 0, 2**53, True, False, None, {"nested": text}],
        "average": "4.50",
    }
    assert documents.dumps(doc) == reference(doc)
    assert json.loads(documents.dumps(doc)) == doc


def test_a_mark_in_the_changes_feed_names_its_subject() -> None:
    mark = ProgressMark(7, date(2025, 10, 1), 4, "Математика", "Диктант", 2, "5", 5, True)
    doc = documents.mark_json(mark)
    assert list(doc) == ["id", "date", "subjectId", "subject", "workType", "weight", "value",
                         "numeric", "countsInAverage"]  # fmt: skip
    assert doc["date"] == "2025-10-01" and doc["countsInAverage"] is True
    assert documents.dumps(doc) == reference(doc)


def test_a_lone_surrogate_is_refused_not_written() -> None:
    with pytest.raises(TypeError):
        documents.dumps({"name": "Иванов\ud800"})


def test_timestamps_are_utc_seconds() -> None:
    moment = datetime(2025, 10, 15, 13, 0, 7, 999, tzinfo=UTC)
    assert documents.timestamp(moment) == "2025-10-15T13:00:07Z"
