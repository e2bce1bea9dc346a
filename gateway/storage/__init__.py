"""What the gateway keeps in the database for itself, apart from the domain's tables: browser
sessions, ESIA logins in flight, sign-in events and throttle counters, and the state services
portal's clients, assertion ids, tokens, rate counters and signed documents; the mail
outbox and who wants which mail; the timetable subscriptions and their events' revisions.

Its tables have their own ``MetaData`` (:class:`GatewayBase`); the schema of both is migrated
by :mod:`gateway.storage.schema`. The asyncpg fast path for the portal's reads is
:mod:`gateway.storage.driver` (imported where it is used, not here).
"""

from gateway.storage.base import GatewayBase
from gateway.storage.calendar import CalendarEventVersion, CalendarFeed
from gateway.storage.mail import MailPreference, OutboxMail
from gateway.storage.portal import (
    PortalAssertion,
    PortalClient,
    PortalDocument,
    PortalRateCounter,
    PortalToken,
)
from gateway.storage.sessions import WebSession
from gateway.storage.signin import LoginTransaction, SignInCounter, SignInEvent

__all__ = [
    "CalendarEventVersion",
    "CalendarFeed",
    "GatewayBase",
    "LoginTransaction",
    "MailPreference",
    "OutboxMail",
    "PortalAssertion",
    "PortalClient",
    "PortalDocument",
    "PortalRateCounter",
    "PortalToken",
    "SignInCounter",
    "SignInEvent",
    "WebSession",
]
