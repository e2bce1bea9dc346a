"""The journal grid's table, written in Python instead of the template: every value escaped,
every input named by its row's and column's headers, what was typed kept, and the reader,
the locked period mark and the marks without a lesson shown as before."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

from diary_core.gradebook import GradebookRights, WorkTypeInfo
from diary_core.journal import Grid, GridLesson, GridPlace, GridRow, MarkEntry
from gateway.handlers.console.gradebook_table import (
    GridTable,
    column_labels,
    grid_table,
    short_type_name,
)

TYPES = [WorkTypeInfo(7, "Ответ на уроке", 1), WorkTypeInfo(8, "Контрольная <работа>", 3)]
PLACE = GridPlace(1, 10, "5А", 20, "Математика", ())


def mark(
    mark_id: int, value: str, lesson_id: int | None, work_type: str = "Ответ на уроке"
) -> MarkEntry:
    weight = 3 if work_type != "Ответ на уроке" else 1
    numeric = int(value) if value.isdigit() else None
    day = date(2025, 10, 13)
    return MarkEntry(mark_id, 20, day, value, numeric, weight, True, work_type, "", lesson_id, "")


def grid() -> Grid:
    lessons = [
        GridLesson(100, date(2025, 10, 13), 1, 'Дроби "<b>" & проценты', ""),
        GridLesson(101, date(2025, 10, 13), 2, "", ""),
        GridLesson(102, date(2025, 10, 14), 1, "Уравнения", ""),
    ]
    first = GridRow(1, "Иванов <script>Пётр", period_mark="5", period_mark_locked=True)
    first.cells[100] = [mark(500, "5", 100), mark(501, "4", 100)]
    first.attendance[102] = "н"
    second = GridRow(2, "Петрова Анна", period_mark=None)
    second.cells[101] = [mark(502, "3", 101, "Контрольная <работа>")]
    second.unplaced.append(mark(503, "4", None))
    return Grid(10, "5А", 20, "Математика", 3, "1 четверть", lessons, [first, second])


def table(
    write_marks: bool = True,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> GridTable:
    rights = GradebookRights(PLACE, write_marks, write_period_marks=write_marks)
    return grid_table(grid(), rights, TYPES, typed=typed or {}, errors=errors or {})


class Elements(HTMLParser):
    """Every start tag's attributes, in order, and the text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def inputs(self) -> dict[str, dict[str, str]]:
        return {a["name"]: a for tag, a in self.tags if tag == "input"}


def html_of(t: GridTable) -> str:
    return f"<table><thead>{t.head}</thead><tbody>{t.body}</tbody></table>"


def test_every_text_value_is_escaped() -> None:
    t = table(typed={"c_2_100": '"><script>'}, errors={"c_2_100": "строка <b>: ошибка"})
    html = html_of(t)
    assert "<script>" not in html and "<b>" not in html
    assert "Иванов &lt;script&gt;Пётр" in html
    assert "Дроби &#34;&lt;b&gt;&#34; &amp; проценты" in html
    assert 'value="&#34;&gt;&lt;script&gt;"' in html
    assert 'title="строка &lt;b&gt;: ошибка"' in html
    # the work-type options: a short name shown, the full one in the title, both escaped
    assert "Контр. &lt;работа&gt; (3)</option>" in html
    assert 'title="Контрольная &lt;работа&gt;, вес 3"' in html
    assert "История отметки: Контрольная &lt;работа&gt;, вес 3" in html
    parsed = Elements(html)  # and it parses back to exactly those texts
    assert 'Дроби "<b>" & проценты' in {a.get("title") for _, a in parsed.tags}
    assert parsed.inputs()["c_2_100"]["value"] == '"><script>'


def test_each_cell_is_named_by_its_row_and_column_headers() -> None:
    parsed = Elements(html_of(table()))
    ids = {a["id"]: tag for tag, a in parsed.tags if "id" in a}
    cells = {n: a for n, a in parsed.inputs().items() if n.startswith("c_")}
    assert len(cells) == 2 * 3
    for name, attrs in cells.items():
        _, pupil, lesson = name.split("_")
        assert attrs["aria-labelledby"] == f"p{pupil} l{lesson}"
        assert ids[f"p{pupil}"] == "th" and ids[f"l{lesson}"] == "th"


def test_cells_hold_what_is_stored_with_links_to_each_marks_history() -> None:
    parsed = Elements(html_of(table()))
    inputs = parsed.inputs()
    assert inputs["c_1_100"]["value"] == "5 4"
    assert inputs["c_1_102"]["value"] == "н"
    assert "value" not in inputs["c_2_100"]
    links = [a for tag, a in parsed.tags if tag == "a" and a["href"].startswith("/console/marks/")]
    assert [a["href"] for a in links] == [f"/console/marks/{i}" for i in (500, 501, 502, 503)]
    assert all(a.get("tabindex") == "-1" for a in links[:3])  # Tab goes from cell to cell


def test_the_form_coming_back_keeps_what_was_typed_and_marks_the_bad_cell() -> None:
    typed = {"c_1_100": "5 6", "c_2_102": "4", "pm_2": "5", "wt_101": "8"}
    errors = {"c_1_100": "строка Иванов Пётр, 13.10: неизвестная отметка «6»"}
    html = html_of(table(typed=typed, errors=errors))
    inputs = Elements(html).inputs()
    assert inputs["c_1_100"]["value"] == "5 6" and inputs["c_1_100"]["aria-invalid"] == "true"
    assert inputs["c_1_100"]["title"] == errors["c_1_100"]
    assert inputs["c_2_102"]["value"] == "4" and "aria-invalid" not in inputs["c_2_102"]
    assert inputs["pm_2"]["value"] == "5"
    assert '<td class="bad"><input name="c_1_100"' in html
    assert '<select name="wt_101" aria-label="Вид работы, 13.10, 2-й урок">' in html
    assert '<option value="8" selected>' in html.split('name="wt_101"')[1].split("</select>")[0]


def test_column_work_type_is_that_of_its_marks_else_the_lightest() -> None:
    html = html_of(table())
    selects = {
        part.split('"')[0]: part.split("</select>")[0] for part in html.split('name="wt_')[1:]
    }
    assert '<option value="7" selected>' in selects["100"]
    assert '<option value="8" selected>' in selects["101"]
    assert '<option value="7" selected>' in selects["102"]


def test_a_reader_sees_the_cells_text_and_no_inputs() -> None:
    t = table(write_marks=False)
    parsed = Elements(html_of(t))
    assert parsed.inputs() == {}
    assert 'name="wt_' not in str(t.head)
    assert "<td>5 4<a " in str(t.body)


def test_period_marks_locked_suggested_and_marks_without_a_lesson() -> None:
    t = table()
    body = str(t.body)
    assert "5 · закрыта" in body and 'name="pm_1"' not in body
    assert '<input name="pm_2" aria-label="Петрова Анна, итоговая отметка">' in body
    assert '<td class="avg">4,50</td>' in body  # (5 + 4) / 2
    assert '<td class="avg">3,25</td>' in body  # (3·3 + 4) / 4, the unplaced mark counts
    assert body.count('<span class="suggested" title="Отметка по среднему баллу">') == 2
    assert "(5)</span>" in body and "(3)</span>" in body
    assert "<th>Без урока</th>" in str(t.head)
    assert '<a href="/console/marks/503" title="13.10, Ответ на уроке">4</a>' in body


def test_columns_are_labelled_by_date_and_lesson_number_when_a_day_has_two() -> None:
    assert column_labels(grid().lessons) == {
        100: "13.10, 1-й урок",
        101: "13.10, 2-й урок",
        102: "14.10",
    }


def test_work_types_get_a_readable_short_name() -> None:
    assert [
        short_type_name(n)
        for n in (
            "Ответ на уроке",
            "Домашняя работа",
            "Самостоятельная работа",
            "Практическая работа",
            "Диктант",
            "Контрольная работа",
            "Изложение",
        )
    ] == [
        "Ответ на ур.",
        "Домашняя раб.",
        "Самост. раб.",
        "Практ. раб.",
        "Диктант",
        "Контр. раб.",
        "Изложение",
    ]
