"""Every route of the gateway, in one list."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from gateway.api import setup_api_routes
from gateway.handlers import account, diary, esia, health, messages, public, signin
from gateway.handlers.admin import setup_admin_routes
from gateway.handlers.console import setup_console_routes
from gateway.mail.handlers import setup_mail_routes


def setup_routes(app: web.Application, static_dir: Path) -> None:
    app.router.add_get("/healthz", health.healthz, name="healthz")
    app.router.add_get("/", public.home, name="home")
    app.router.add_get("/help", public.help_page, name="help")
    app.router.add_get("/login", signin.login_page, name="login")
    app.router.add_post("/login", signin.login_submit)
    app.router.add_get("/logout", signin.logout_page, name="logout")
    app.router.add_post("/logout", signin.logout_submit)
    app.router.add_get("/account", account.account_page, name="account")
    app.router.add_get("/account/password", signin.password_page, name="password")
    app.router.add_post("/account/password", signin.password_submit)
    app.router.add_post("/account/sessions/end-all", account.end_all_sessions)
    app.router.add_get("/choose-role", signin.choose_role_page, name="choose_role")
    app.router.add_post("/choose-role", signin.choose_role_submit)
    app.router.add_get("/diary", diary.diary_page, name="diary")
    app.router.add_get("/auth/esia/login", esia.esia_login, name="esia_login")
    app.router.add_get("/auth/esia/callback", esia.esia_callback, name="esia_callback")
    app.router.add_get("/auth/esia/link", esia.link_page, name="esia_link")
    app.router.add_post("/auth/esia/link", esia.link_submit)
    app.router.add_static("/static/", static_dir, name="static", append_version=True)
    messages.setup_communication_routes(app)
    setup_api_routes(app)
    setup_admin_routes(app)
    setup_console_routes(app)
    setup_mail_routes(app)
