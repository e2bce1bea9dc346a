"""The weekly timetable of a class, its publishing, and per-date changes (docs/regulation.md,
clauses 4.1 and 6.2).

A class has weekly timetables, each valid from a date on; on a given day the one with the
latest ``valid_from`` not after it applies. Parents and pupils see only published timetables;
staff also see drafts. A published timetable is never edited in place: its correction is a
draft from its own date, invisible to families until it is published, and publishing it tells
the class's families which lessons changed. A change for one date (substitution,
cancellation, room change, moved lesson) notifies the pupils of the class and their
confirmed parents.

- :mod:`~diary_core.timetable.plans`: which plan applies on a day, bell times, the checks;
- :mod:`~diary_core.timetable.weekly`: saving and publishing weekly timetables;
- :mod:`~diary_core.timetable.differences`: what a publication changed, in words;
- :mod:`~diary_core.timetable.changes`: per-date changes and the change form's choices;
- :mod:`~diary_core.timetable.week`: a class's week as it will be.

The package exports the use cases and views of these modules.
"""

from diary_core.timetable.changes import (
    CHANGE_KINDS,
    ChangeInfo,
    ChangeOptions,
    ChangeRequest,
    Option,
    change_timetable,
    timetable_change_options,
)
from diary_core.timetable.differences import WeekPlan, describe_changes
from diary_core.timetable.plans import (
    MAX_LESSONS,
    MAX_ROOM,
    SCHOOL_DAYS,
    Slot,
    SlotInput,
    TimetableInfo,
)
from diary_core.timetable.week import Cell, Day, WeekTimetable, class_week, week_timetable
from diary_core.timetable.weekly import class_timetables, publish_timetable, set_weekly_timetable

__all__ = [
    "CHANGE_KINDS",
    "MAX_LESSONS",
    "MAX_ROOM",
    "SCHOOL_DAYS",
    "Cell",
    "ChangeInfo",
    "ChangeOptions",
    "ChangeRequest",
    "Day",
    "Option",
    "Slot",
    "SlotInput",
    "TimetableInfo",
    "WeekPlan",
    "WeekTimetable",
    "change_timetable",
    "class_timetables",
    "class_week",
    "describe_changes",
    "publish_timetable",
    "set_weekly_timetable",
    "timetable_change_options",
    "week_timetable",
]
