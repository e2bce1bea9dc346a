"""Every route of the gateway, in one list: method, path, handler and name, top to bottom.

No other module adds a route (a test holds the application's router to exactly this list).
The JSON API's routes are made from its endpoint declarations (gateway/api/spec.py), one per
endpoint, the same declarations its OpenAPI document is built from.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from gateway.api import ENDPOINTS
from gateway.api.dispatch import route_handler
from gateway.api.spec import Endpoint
from gateway.calendar import handlers as calendar
from gateway.export import handlers as personal_data
from gateway.handlers import (
    account,
    announcements,
    diary,
    esia,
    health,
    messages,
    notifications,
    public,
    signin,
)
from gateway.handlers.admin import announcements as admin_announcements
from gateway.handlers.admin import audit, classes, imports, periods, replies, staff, timetable
from gateway.handlers.console import (
    class_announcements,
    class_teacher,
    class_timetable,
    gradebook,
    index,
    lesson_history,
)
from gateway.mail import demo as demo_mail
from gateway.mail import handlers as mail
from gateway.portal import handlers as portal
from gateway.portal.auth import TOKEN_PATH

STATIC_DIR = Path(__file__).parent / "static"


def _api(ep: Endpoint) -> web.RouteDef:
    """An API endpoint's route: its declared method only (a GET gets no implicit HEAD: the
    OpenAPI document lists none)."""
    if ep.method == "GET":
        return web.get(ep.full_path, route_handler(ep), allow_head=False)
    return web.route(ep.method, ep.full_path, route_handler(ep))


ROUTES: tuple[web.AbstractRouteDef, ...] = (
    # --- public pages, signing in and out, the account -------------------------------------
    web.get("/healthz", health.healthz, name="healthz"),
    web.get("/", public.home, name="home"),
    web.get("/help", public.help_page, name="help"),
    web.get("/login", signin.login_page, name="login"),
    web.post("/login", signin.login_submit),
    web.get("/logout", signin.logout_page, name="logout"),
    web.post("/logout", signin.logout_submit),
    web.get("/account", account.account_page, name="account"),
    web.get("/account/password", signin.password_page, name="password"),
    web.post("/account/password", signin.password_submit),
    web.post("/account/sessions/end-all", account.end_all_sessions),
    web.post("/account/calendar", calendar.issue_submit),
    web.post("/account/calendar/revoke", calendar.revoke_submit),
    web.get(calendar.FEED_PATH, calendar.calendar_feed, name="calendar_feed"),
    web.post("/account/personal-data", personal_data.export_own),
    web.get("/account/who-looked", personal_data.who_looked_page, name="who_looked"),
    web.post("/account/mail", account.mail_submit),
    web.get(mail.UNSUBSCRIBE_PREFIX + "{token}", mail.unsubscribe_page, name="mail_unsubscribe"),
    web.post(mail.UNSUBSCRIBE_PREFIX + "{token}", mail.unsubscribe_submit),
    web.get("/choose-role", signin.choose_role_page, name="choose_role"),
    web.post("/choose-role", signin.choose_role_submit),
    web.get("/diary", diary.diary_page, name="diary"),
    web.get("/auth/esia/login", esia.esia_login, name="esia_login"),
    web.get("/auth/esia/callback", esia.esia_callback, name="esia_callback"),
    web.get("/auth/esia/link", esia.link_page, name="esia_link"),
    web.post("/auth/esia/link", esia.link_submit),
    web.static("/static/", STATIC_DIR, name="static", append_version=True),
    # --- messages, the question to the administrator, announcements, notifications ----------
    web.get("/messages", messages.list_page, name="messages"),
    web.get("/messages/new", messages.new_page, name="message_new"),
    web.post("/messages/new", messages.new_submit),
    web.get("/messages/{conversation_id}", messages.thread_page, name="message_thread"),
    web.post("/messages/{conversation_id}", messages.reply_submit),
    web.get("/question", messages.question_page, name="question"),
    web.post("/question", messages.question_submit),
    web.get("/announcements", announcements.list_page, name="announcements"),
    web.post("/announcements/read-all", announcements.read_all),
    web.post("/announcements/{announcement_id}/read", announcements.read_one),
    web.get(r"/announcements/{announcement_id:\d+}", announcements.one_page),
    web.get("/notifications", notifications.list_page, name="notifications"),
    web.post("/notifications/read", notifications.mark_read),
    # --- the JSON API (/api/v1) --------------------------------------------------------------
    *(_api(ep) for ep in ENDPOINTS),
    # --- the administrator's console -------------------------------------------------------
    web.get("/console/admin/staff", staff.staff_page, name="admin_staff"),
    web.post("/console/admin/staff", staff.create_staff),
    web.post(r"/console/admin/staff/{user_id:\d+}/credentials", staff.issue_credentials),
    web.get("/console/admin/staff/slip", staff.slip_page),
    web.post(r"/console/admin/staff/{user_id:\d+}/disable", staff.disable),
    web.post(r"/console/admin/staff/{user_id:\d+}/enable", staff.enable),
    web.get("/console/admin/classes", classes.classes_page, name="admin_classes"),
    web.post("/console/admin/classes", classes.create_class),
    web.post(r"/console/admin/classes/{class_id:\d+}/teacher", classes.set_class_teacher),
    web.post("/console/admin/classes/subjects", classes.create_subject),
    web.post("/console/admin/classes/assignments", classes.create_assignment),
    web.get("/console/admin/timetable", timetable.timetable_page, name="admin_timetable"),
    web.post(r"/console/admin/timetable/classes/{class_id:\d+}", timetable.save_timetable),
    web.post(r"/console/admin/timetable/versions/{timetable_id:\d+}/publish", timetable.publish),
    web.get("/console/admin/import", imports.import_page, name="admin_import"),
    web.post("/console/admin/import", imports.import_submit),
    web.get("/console/admin/replies", replies.replies_page, name="admin_replies"),
    web.get("/console/admin/audit", audit.audit_page, name="admin_audit"),
    web.get("/console/admin/periods", periods.periods_page, name="admin_periods"),
    web.get("/console/admin/personal-data", personal_data.admin_page, name="admin_personal_data"),
    web.post("/console/admin/personal-data", personal_data.admin_export),
    web.post(r"/console/admin/periods/{period_id:\d+}/lock", periods.lock),
    web.post(r"/console/admin/periods/{period_id:\d+}/dates", periods.change_dates),
    web.post(r"/console/admin/periods/marks/{mark_id:\d+}/unlock", periods.unlock),
    web.get(
        "/console/admin/announcements",
        admin_announcements.list_page,
        name="admin_announcements",
    ),
    web.post("/console/admin/announcements", admin_announcements.create),
    web.get(r"/console/admin/announcements/{announcement_id:\d+}", admin_announcements.edit_page),
    web.post(r"/console/admin/announcements/{announcement_id:\d+}", admin_announcements.save),
    web.post(
        r"/console/admin/announcements/{announcement_id:\d+}/expire", admin_announcements.expire
    ),
    # --- the staff console: the teacher's journal, the class teacher's pages ----------------
    web.get("/console", index.index_page, name="console"),
    web.get("/console/gradebook", gradebook.grid_page, name="console_gradebook"),
    web.post("/console/gradebook", gradebook.grid_submit),
    web.post("/console/lessons", gradebook.lesson_create),
    web.get(r"/console/lessons/{lesson_id:\d+}", gradebook.lesson_page, name="console_lesson"),
    web.post(r"/console/lessons/{lesson_id:\d+}", gradebook.lesson_submit),
    web.get(
        r"/console/lessons/{lesson_id:\d+}/history",
        lesson_history.lesson_history_page,
        name="console_lesson_history",
    ),
    web.get(r"/console/marks/{mark_id:\d+}", gradebook.mark_page, name="console_mark"),
    web.get(r"/console/class/{class_id:\d+}", class_teacher.class_page, name="console_class"),
    web.get(r"/console/class/{class_id:\d+}/credentials", class_teacher.slips_gone),
    web.post(r"/console/class/{class_id:\d+}/credentials", class_teacher.issue_submit),
    web.post(
        r"/console/class/{class_id:\d+}/guardianships/{link_id:\d+}",
        class_teacher.guardianship_submit,
    ),
    web.get(r"/console/class/{class_id:\d+}/announcements", class_announcements.announcements_page),
    web.post(
        r"/console/class/{class_id:\d+}/announcements", class_announcements.announcement_submit
    ),
    web.get(r"/console/class/{class_id:\d+}/timetable", class_timetable.timetable_page),
    web.post(r"/console/class/{class_id:\d+}/timetable", class_timetable.timetable_submit),
    # --- the portal feed (docs/regulation.md, clauses 1.2 and 2.1): machine clients ---------
    web.post(TOKEN_PATH, portal.token, name="portal_token"),
    web.get("/portal/v1/pupils/{snils}/progress", portal.progress, name="portal_progress"),
    web.get("/portal/v1/guardians/{esia_oid}/pupils", portal.guardian, name="portal_guardian"),
    web.get("/portal/v1/changes", portal.changes, name="portal_changes"),
    web.get("/portal/v1/schema/progress.xsd", portal.schema, name="portal_schema"),
    web.get("/portal/v1/schema/progress-signature.xsd", portal.signature_schema),
    web.get("/.well-known/jwks.json", portal.jwks, name="portal_jwks"),
)


#: Added by ``ediary demo`` alone (:func:`gateway.mail.demo.add_demo_mail_routes`): the
#: mailbox of the demo's local SMTP sink.
DEMO_ROUTES: tuple[web.AbstractRouteDef, ...] = (
    web.get("/demo/mail", demo_mail.mailbox_page, name="demo_mail"),
    web.get("/demo/mail/{n}", demo_mail.mail_html),
)


def setup_routes(app: web.Application) -> None:
    """Add every route of :data:`ROUTES` to ``app``."""
    app.router.add_routes(ROUTES)
