"""The administrator's (deputy director's) console under ``/console/admin/``.

Staff accounts and credential slips, classes and subjects, the timetable editor and its
publishing, CSV imports, the reply-deadline dashboard, the audit log and period-mark
locking. Every page is the administration's only; every object is checked by the core.
"""

from __future__ import annotations

from aiohttp import web

from gateway.handlers.admin import (
    announcements,
    audit,
    classes,
    imports,
    periods,
    replies,
    staff,
    timetable,
)

PREFIX = "/console/admin"


def setup_admin_routes(app: web.Application) -> None:
    r = app.router
    r.add_get(f"{PREFIX}/staff", staff.staff_page, name="admin_staff")
    r.add_post(f"{PREFIX}/staff", staff.create_staff)
    r.add_post(f"{PREFIX}/staff/{{user_id:\\d+}}/credentials", staff.issue_credentials)
    r.add_get(f"{PREFIX}/staff/slip", staff.slip_page)
    r.add_post(f"{PREFIX}/staff/{{user_id:\\d+}}/disable", staff.disable)
    r.add_post(f"{PREFIX}/staff/{{user_id:\\d+}}/enable", staff.enable)
    r.add_get(f"{PREFIX}/classes", classes.classes_page, name="admin_classes")
    r.add_post(f"{PREFIX}/classes", classes.create_class)
    r.add_post(f"{PREFIX}/classes/{{class_id:\\d+}}/teacher", classes.set_class_teacher)
    r.add_post(f"{PREFIX}/classes/subjects", classes.create_subject)
    r.add_post(f"{PREFIX}/classes/assignments", classes.create_assignment)
    r.add_get(f"{PREFIX}/timetable", timetable.timetable_page, name="admin_timetable")
    r.add_post(f"{PREFIX}/timetable/classes/{{class_id:\\d+}}", timetable.save_timetable)
    r.add_post(f"{PREFIX}/timetable/versions/{{timetable_id:\\d+}}/publish", timetable.publish)
    r.add_get(f"{PREFIX}/import", imports.import_page, name="admin_import")
    r.add_post(f"{PREFIX}/import", imports.import_submit)
    r.add_get(f"{PREFIX}/replies", replies.replies_page, name="admin_replies")
    r.add_get(f"{PREFIX}/audit", audit.audit_page, name="admin_audit")
    r.add_get(f"{PREFIX}/periods", periods.periods_page, name="admin_periods")
    r.add_post(f"{PREFIX}/periods/{{period_id:\\d+}}/lock", periods.lock)
    r.add_post(f"{PREFIX}/periods/{{period_id:\\d+}}/dates", periods.change_dates)
    r.add_post(f"{PREFIX}/periods/marks/{{mark_id:\\d+}}/unlock", periods.unlock)
    announcements.setup(app)
