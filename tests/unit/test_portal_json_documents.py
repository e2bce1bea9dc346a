"""The JSON documents' bytes (the JWS payload) are the standard library's compact UTF-8
JSON, whatever the values hold: the encoder is an implementation detail, the bytes are not."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from diary_core.progress import ProgressMark
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


def test_a_mark_reads_alike_with_and_without_its_subject() -> None:
    mark = ProgressMark(7, date(2025, 10, 1), 4, "Математика", "Диктант", 2, "5", 5, True)
    plain = documents.mark_json(mark)
    full = documents.mark_json(mark, with_subject=True)
    assert list(plain) == ["id", "date", "workType", "weight", "value", "numeric",
                           "countsInAverage"]  # fmt: skip
    assert full == {**plain, "subjectId": 4, "subject": "Математика"}
    assert list(full)[:4] == ["id", "date", "subjectId", "subject"]
    assert documents.dumps(plain) == reference(plain)


def test_a_lone_surrogate_is_refused_not_written() -> None:
    with pytest.raises(TypeError):
        documents.dumps({"name": "Иванов\ud800"})


def test_timestamps_are_utc_seconds() -> None:
    moment = datetime(2025, 10, 15, 13, 0, 7, 999, tzinfo=UTC)
    assert documents.timestamp(moment) == "2025-10-15T13:00:07Z"
