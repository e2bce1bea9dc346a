"""Reads for the administrator's (deputy director's) console that the use-case modules lack.

Each entry point asks the access policy first (``MANAGE_SCHOOL``, ``READ_AUDIT``,
``READ_REPLY_DASHBOARD``, ``LOCK_PERIOD_MARKS`` or ``PUBLISH_TIMETABLE``) and reads with
Core ``select()`` rows; another school's objects are "not found".
"""

from diary_core.admin_views.audit_search import (
    AuditFilters,
    AuditPage,
    FilterOptions,
    audit_filter_options,
    audit_log,
)
from diary_core.admin_views.classes import Structure, school_structure
from diary_core.admin_views.periods import PeriodsOverview, class_period_marks, periods_overview
from diary_core.admin_views.replies import TeacherBoard, reply_board
from diary_core.admin_views.staff import StaffMember, staff_list
from diary_core.admin_views.timetable import Editor, timetable_editor

__all__ = [
    "AuditFilters",
    "AuditPage",
    "Editor",
    "FilterOptions",
    "PeriodsOverview",
    "StaffMember",
    "Structure",
    "TeacherBoard",
    "audit_filter_options",
    "audit_log",
    "class_period_marks",
    "periods_overview",
    "reply_board",
    "school_structure",
    "staff_list",
    "timetable_editor",
]
