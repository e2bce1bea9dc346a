"""The journal grid's table, header and rows, as HTML built in Python.

A class of 30 over a quarter of 70 lessons is 2,100 cells. Through the template each cell cost
a dozen expressions, each looked up and escaped: most of the page's time. Here a cell is one
string of ids (integers) and of the few values that need escaping (what is in the cell, an
error, a name); values that repeat (marks, work types, column labels) are escaped once. The
template keeps the page around the table: the form, its hidden fields and buttons, the errors.

The table, for a teacher who may write marks (a reader sees the cells' text, no inputs)::

    <tr><th class="name">Ученик</th><th class="lesson" id="l{lesson}">(link: date)</th>…
        [<th>Без урока</th>]<th>Средний</th><th>Итог</th></tr>
    <tr class="types"><th class="name">Вид работы</th><th><select name="wt_{lesson}">…</th>…
    <tr><th scope="row" class="name" id="p{pupil}">Фамилия Имя</th>
        <td><input name="c_{pupil}_{lesson}" value="5 н" aria-labelledby="p{pupil} l{lesson}">
            <input type="hidden" name="sc_{pupil}_{lesson}" value="5 н">
            <a href="/console/marks/{mark}" tabindex="-1" title="История отметки: …">5</a></td>…
        [<td>marks without a lesson</td>]<td class="avg">4,25</td>
        <td class="final"><input name="pm_{pupil}" …><input type="hidden" name="spm_{pupil}" …>
            <span class="suggested">(4)</span></td></tr>

Each input is named by its row's and its column's headers; the keyboard script finds cells by
their place in the table. Width, ``autocomplete`` and looks come from the form and the style
sheet, not from each of the thousands of cells.

One input may carry ``id="cell-{name}" autofocus``: the cell the page is about (the first one
saved, after a save; else the first one refused), so the page opens scrolled to it, with or
without the keyboard script (:func:`cell_anchor`).

What the page showed goes back with what was typed: a hidden ``s``-prefixed field
(:func:`shown_name`) beside each input holds the value as stored when the page was made, so
the save writes only the cells this teacher changed and can tell a cell someone else changed
meanwhile (a conflict). Empty cells, most of the grid, carry no hidden field: absent means
"shown empty". When the form comes back, the hidden fields hold what is stored *now*, and a
cell in ``conflicts`` is marked with the message naming both values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from markupsafe import Markup, escape

from diary_core.gradebook import GradebookRights, WorkTypeInfo
from diary_core.grading import suggested_period_mark
from diary_core.journal import Grid, GridLesson, GridRow, MarkEntry


def cell_name(pupil_id: int, lesson_id: int) -> str:
    return f"c_{pupil_id}_{lesson_id}"


def period_mark_name(pupil_id: int) -> str:
    return f"pm_{pupil_id}"


def shown_name(name: str) -> str:
    """The hidden field that carries what input ``name`` showed: ``c_1_2`` → ``sc_1_2``."""
    return "s" + name


def cell_anchor(name: str) -> str:
    """The id of input ``name`` when the page is about it (a fragment after a save)."""
    return "cell-" + name


def is_input_name(name: str) -> bool:
    """Whether ``name`` is a cell's or a period mark's input name (``c_1_2``, ``pm_1``)."""
    kind, _, rest = name.partition("_")
    if kind == "c":
        pupil, _, lesson = rest.partition("_")
        return pupil.isdigit() and lesson.isdigit()
    return kind == "pm" and rest.isdigit()


_VOWELS = set("аеёиоуыэюяaeiouy")


def _cut(word: str, least: int) -> str:
    """``word`` cut after its first ``least`` letters and the consonants that follow, before
    a vowel, with a full stop (``Самостоятельная`` → ``Самост.``); a word that would lose
    fewer than three letters stays whole."""
    end = least
    while end < len(word) and word[end].lower() not in _VOWELS and word[end] not in "ьъй":
        end += 1
    return word if end >= len(word) - 2 or not word.isalpha() else word[:end] + "."


def short_type_name(name: str) -> str:
    """A work type's name short enough for a narrow column and still readable, cut the way
    Russian journals abbreviate: the first word after its first syllables, the others to
    their first letters (``Самостоятельная работа`` → ``Самост. раб.``, ``Ответ на уроке`` →
    ``Ответ на ур.``); a name of up to ten letters stays whole. The full name goes in the
    column's title."""
    if len(name) <= 10:
        return name
    first, *rest = name.split()
    return " ".join([_cut(first, 5), *(_cut(word, 2) for word in rest)])


def cell_text(marks: Iterable[MarkEntry], attendance: str | None) -> str:
    """What the teacher sees in a cell: its marks, then its attendance code (``5 4 н``)."""
    values = [m.value for m in marks]
    if attendance:
        values.append(attendance)
    return " ".join(values)


def column_labels(lessons: list[GridLesson]) -> dict[int, str]:
    """``12.10``, or ``12.10, 2-й урок`` when a day has two lessons of the subject."""
    per_day = Counter(lesson.date for lesson in lessons)
    return {
        lesson.id: (
            f"{lesson.date:%d.%m}, {lesson.lesson_number}-й урок"
            if per_day[lesson.date] > 1
            else f"{lesson.date:%d.%m}"
        )
        for lesson in lessons
    }


@dataclass(frozen=True)
class GridTable:
    head: Markup  # the header rows
    body: Markup  # a row per pupil


def grid_table(
    grid: Grid,
    rights: GradebookRights,
    work_types: list[WorkTypeInfo],
    *,
    typed: Mapping[str, str],
    errors: Mapping[str, str],
    conflicts: Mapping[str, str] | None = None,
    focus: str = "",
) -> GridTable:
    """The grid as stored, or, when the form comes back with ``errors`` or ``conflicts``
    (input name → message), with the cells in ``typed`` as typed. The input ``focus`` (after a
    save: the first cell saved), else the first cell in error, gets the page's anchor."""
    writer = _Writer(
        grid, rights, typed, {**(conflicts or {}), **errors}, set(conflicts or ()), focus
    )
    return GridTable(writer.head(work_types), writer.body())


class _Writer:
    """Writes one grid's table. Every value that is not an id goes through :meth:`_escape`
    (or markupsafe's ``escape``), which is why the result may be marked safe."""

    def __init__(
        self,
        grid: Grid,
        rights: GradebookRights,
        typed: Mapping[str, str],
        errors: Mapping[str, str],
        conflicts: set[str],
        focus: str = "",
    ) -> None:
        self.grid, self.typed, self.errors, self.conflicts = grid, typed, errors, conflicts
        #: the input that gets the anchor: the one asked for, else the first in error (found
        #: while writing, in the page's order); emptied once written
        self.focus = focus
        self.focus_first_error = not focus and bool(errors)
        self.write_marks = rights.write_marks
        self.write_period_marks = rights.write_period_marks
        self.labels = column_labels(grid.lessons)
        self.unplaced = any(row.unplaced for row in grid.rows)
        self._escaped: dict[str, str] = {}
        self._link_ends: dict[tuple[str, str, int], str] = {}

    # --- the header --------------------------------------------------------------------------

    def head(self, work_types: list[WorkTypeInfo]) -> Markup:
        html = ['<tr><th class="name">Ученик</th>']
        for lesson in self.grid.lessons:
            topic = self._escape(lesson.topic or "тема не указана")
            missing = "" if lesson.topic else ' <span class="bad" title="тема не указана">•</span>'
            html.append(
                f'<th class="lesson" id="l{lesson.id}"><a href="/console/lessons/{lesson.id}"'
                f' title="{topic}">{self._escape(self.labels[lesson.id])}</a>{missing}</th>'
            )
        html.append("<th>Без урока</th>" if self.unplaced else "")
        html.append('<th class="avg">Средний</th><th class="final">Итог</th></tr>')
        if self.write_marks and self.grid.lessons:
            html.append(self._types_row(work_types))
        return Markup("".join(html))  # noqa: S704 — see the class's docstring

    def _types_row(self, work_types: list[WorkTypeInfo]) -> str:
        """A work-type select per lesson column: the type of the column's new marks."""
        options = _type_options(work_types)
        titles = {str(w.id): self._escape(f"{w.name}, вес {w.weight}") for w in work_types}
        column_types = self._column_types(work_types)
        lightest = str(work_types[0].id) if work_types else "0"  # an answer in class
        html = ['<tr class="types"><th class="name">Вид работы</th>']
        for lesson in self.grid.lessons:
            name = f"wt_{lesson.id}"
            chosen = self.typed.get(name, column_types.get(lesson.id, lightest))
            label = self._escape(f"Вид работы, {self.labels[lesson.id]}")
            title = titles.get(chosen, "")
            html.append(
                f'<th title="{title}"><select name="{name}" aria-label="{label}">'
                f"{options.get(chosen, options[''])}</select></th>"
            )
        html.append("<th></th>" if self.unplaced else "")
        html.append('<th class="avg"></th><th class="final"></th></tr>')
        return "".join(html)

    def _column_types(self, work_types: list[WorkTypeInfo]) -> dict[int, str]:
        """Each column's work type, that of its first mark (top to bottom) of a known type;
        columns without marks are not in it."""
        by_name = {w.name: str(w.id) for w in work_types}
        found: dict[int, str] = {}
        for row in self.grid.rows:
            for lesson_id, marks in row.cells.items():
                if lesson_id not in found:
                    known = [by_name[m.work_type] for m in marks if m.work_type in by_name]
                    if known:
                        found[lesson_id] = known[0]
        return found

    # --- the rows ----------------------------------------------------------------------------

    def body(self) -> Markup:
        lessons = [(lesson.id, str(lesson.id)) for lesson in self.grid.lessons]
        return Markup("".join(self._row(row, lessons) for row in self.grid.rows))  # noqa: S704

    def _row(self, row: GridRow, lessons: list[tuple[int, str]]) -> str:
        """A pupil's row; ``lessons`` are the columns' ids as numbers and as text."""
        p, cells, attendance = str(row.pupil_id), row.cells, row.attendance
        as_stored = self.write_marks and not self.typed and not self.errors  # a GET's grid
        html = [f'<tr><th scope="row" class="name" id="p{p}">{escape(row.full_name)}</th>']
        for lid, lesson in lessons:
            name = f"c_{p}_{lesson}"  # cell_name(), the ids already text
            marks = cells.get(lid)
            if (
                marks is None
                and lid not in attendance
                and (as_stored or self._untouched(name))
                and name != self.focus
            ):
                # most cells: empty, as stored (what _cell writes for them, without the work)
                html.append(f'<td><input name="{name}" aria-labelledby="p{p} l{lesson}"></td>')
            else:
                html.append(self._cell(name, f"p{p} l{lesson}", marks or [], attendance.get(lid)))
        if self.unplaced:
            html.append(f"<td>{self._unplaced(row.unplaced)}</td>")
        average = row.average
        shown = "—" if average is None else str(average).replace(".", ",")
        html.append(
            f'<td class="avg">{shown}</td>{self._final(row, suggested_period_mark(average))}'
        )
        html.append("</tr>")
        return "".join(html)

    def _untouched(self, name: str) -> bool:
        return self.write_marks and name not in self.typed and name not in self.errors

    def _cell(self, name: str, labels: str, marks: list[MarkEntry], attendance: str | None) -> str:
        if len(marks) == 1 and not attendance:  # the usual cell: one mark
            stored = marks[0].value
        else:
            stored = cell_text(marks, attendance)
        text = self.typed.get(name, stored)
        history = "".join([f'<a href="/console/marks/{m.id}{self._link_end(m)}' for m in marks])
        if not self.write_marks:
            return f"<td>{self._escape(text)}{history}</td>"
        value = f' value="{self._escape(text)}"' if text else ""
        shown = (
            f'<input type="hidden" name="s{name}" value="{self._escape(stored)}">' if stored else ""
        )
        error = self.errors.get(name)
        anchor = self._anchor(name, error)
        if error is None:
            return (
                f'<td><input name="{name}"{value}{anchor} aria-labelledby="{labels}">'
                f"{shown}{history}</td>"
            )
        kind = "conflict" if name in self.conflicts else "bad"
        return (
            f'<td class="{kind}"><input name="{name}"{value}{anchor} aria-labelledby="{labels}"'
            f' aria-invalid="true" title="{escape(error)}">{shown}{history}</td>'
        )

    def _anchor(self, name: str, error: str | None) -> str:
        """`` id="cell-…" autofocus`` for the one input the page is about, else nothing."""
        if name == self.focus or (self.focus_first_error and error is not None):
            self.focus, self.focus_first_error = "", False
            return f' id="{cell_anchor(name)}" autofocus'
        return ""

    def _unplaced(self, marks: list[MarkEntry]) -> str:
        """Marks of the period that no lesson of the grid holds, each with its date."""
        return "".join(
            f'<a href="/console/marks/{m.id}" title="{m.date:%d.%m}, {self._escape(m.work_type)}">'
            f"{self._escape(m.value)}</a> "
            for m in marks
        )

    def _final(self, row: GridRow, suggested: int | None) -> str:
        """The period mark: closed, or an input for who may set it, or its text; then the
        mark the average suggests."""
        name = f"pm_{row.pupil_id}"
        error = self.errors.get(name)
        hint = (
            ""
            if suggested is None
            else f' <span class="suggested" title="Отметка по среднему баллу">({suggested})</span>'
        )
        if row.period_mark_locked:
            mark = (
                f'<span class="locked" title="Итоговая отметка закрыта администрацией">'
                f"{self._escape(row.period_mark or '')} · закрыта</span>"
            )
        elif self.write_period_marks:
            stored = row.period_mark or ""
            text = self.typed.get(name, stored)
            value = f' value="{escape(text)}"' if text else ""
            invalid = "" if error is None else f' aria-invalid="true" title="{escape(error)}"'
            shown = (
                f'<input type="hidden" name="s{name}" value="{self._escape(stored)}">'
                if stored
                else ""
            )
            mark = (
                f'<input name="{name}"{value}{self._anchor(name, error)}'
                f' aria-label="{escape(row.full_name)}, итоговая отметка"{invalid}>{shown}'
            )
        else:
            mark = self._escape(row.period_mark or "")
        kind = "" if error is None else " conflict" if name in self.conflicts else " bad"
        return f'<td class="final{kind}">{mark}{hint}</td>'

    # --- escaping, once per value ---------------------------------------------------------

    def _escape(self, text: str) -> str:
        escaped = self._escaped.get(text)
        if escaped is None:
            escaped = self._escaped[text] = str(escape(text))
        return escaped

    def _link_end(self, mark: MarkEntry) -> str:
        """A history link after its mark's id: the same for all marks of a value, work type
        and weight."""
        key = (mark.value, mark.work_type, mark.weight)
        end = self._link_ends.get(key)
        if end is None:
            title = self._escape(f"История отметки: {mark.work_type}, вес {mark.weight}")
            end = f'" tabindex="-1" title="{title}">{self._escape(mark.value)}</a>'
            self._link_ends[key] = end
        return end


def _type_options(work_types: list[WorkTypeInfo]) -> dict[str, str]:
    """The work-type ``<option>`` list once per possible selection (a handful), instead of
    writing it again for each of the grid's dozens of lesson columns; ``""``: none chosen."""

    def options(selected: str) -> str:
        return "".join(
            f'<option value="{w.id}"{" selected" if str(w.id) == selected else ""}>'
            f"{escape(short_type_name(w.name))} ({w.weight})</option>"
            for w in work_types
        )

    variants = {str(w.id): options(str(w.id)) for w in work_types}
    variants[""] = options("")
    return variants
