"""The roster import (formats: README.md): the school's pupils by class, and their parents.

One row per pupil–parent pair; a pupil without parents has empty parent columns. Pupils and
parents are matched by SNILS, so importing the same file again changes nothing; a parent of
children in two schools is one person (parents belong to no school). Every row is checked
before anything is written, and a file with any error writes nothing.

Field conventions are those of :mod:`diary_core.accounts` and :mod:`diary_core.families`
(``_person``, ``enroll_pupil``, ``find_or_create_parent``, ``link_guardian``), done in bulk.

- :mod:`~diary_core.imports.roster.file`: reading and checking the file;
- :mod:`~diary_core.imports.roster.matching`: checking it against the database;
- :mod:`~diary_core.imports.roster.writing`: writing it, and the import as a whole.
"""

from diary_core.imports.roster.file import ROSTER_COLUMNS, ROSTER_TITLES, RosterFile, read_roster
from diary_core.imports.roster.writing import RosterReport, import_roster

__all__ = [
    "ROSTER_COLUMNS",
    "ROSTER_TITLES",
    "RosterFile",
    "RosterReport",
    "import_roster",
    "read_roster",
]
