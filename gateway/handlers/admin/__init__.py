"""The administrator's (deputy director's) console under ``/console/admin/``.

Staff accounts and credential slips, classes and subjects, the timetable editor and its
publishing, CSV imports, the reply-deadline dashboard, the audit log and period-mark
locking. Every page is the administration's only; every object is checked by the core.
"""
