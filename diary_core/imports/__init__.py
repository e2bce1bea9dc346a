"""Bulk imports of school data from CSV files (formats: README.md): the roster and the marks.

Both are all or nothing: every row is checked first and a file with any error is refused as
a whole (:class:`ImportFailed` lists each error with its line and column); importing the same
file again changes nothing.
"""

from diary_core.imports.common import Counts, ProgressFn
from diary_core.imports.csvfile import ImportFailed, RowError
from diary_core.imports.marks import MarksReport, import_marks
from diary_core.imports.marks_file import MARKS_COLUMNS, MARKS_TITLES
from diary_core.imports.roster import ROSTER_COLUMNS, ROSTER_TITLES, RosterReport, import_roster

__all__ = [
    "MARKS_COLUMNS",
    "MARKS_TITLES",
    "ROSTER_COLUMNS",
    "ROSTER_TITLES",
    "Counts",
    "ImportFailed",
    "MarksReport",
    "ProgressFn",
    "RosterReport",
    "RowError",
    "import_marks",
    "import_roster",
]
