"""Announcements to a school or a class, with read receipts (docs/regulation.md, clauses 2.3 and
4.1).

- :mod:`~diary_core.announcements.audience`: who is in an audience (one rule, both sides);
- :mod:`~diary_core.announcements.publishing`: publishing one, the checks on its texts;
- :mod:`~diary_core.announcements.reading`: what a reader sees and opens;
- :mod:`~diary_core.announcements.managing`: the author's and the administration's side —
  the list, corrections, stopping, read receipts.

The package exports the use cases and views of these modules.
"""

from diary_core.announcements.audience import (
    AUDIENCES,
    audience_ids,
    family_ids,
    members_query,
    visible_query,
)
from diary_core.announcements.managing import (
    ClassChoice,
    Managed,
    Reader,
    Receipts,
    audience_classes,
    edit,
    expire,
    managed_announcement,
    managed_announcements,
    may_manage,
    may_see_receipts,
    read_receipts,
)
from diary_core.announcements.publishing import (
    KINDS,
    MAX_BODY,
    MAX_TITLE,
    SCHOOL_AUDIENCES,
    announce,
    clean_text,
    end_of_day,
    last_day_shown,
)
from diary_core.announcements.reading import (
    AnnouncementView,
    announcements_for,
    announcements_for_pupil,
    mark_read,
    open_announcement,
)

__all__ = [
    "AUDIENCES",
    "KINDS",
    "MAX_BODY",
    "MAX_TITLE",
    "SCHOOL_AUDIENCES",
    "AnnouncementView",
    "ClassChoice",
    "Managed",
    "Reader",
    "Receipts",
    "announce",
    "announcements_for",
    "announcements_for_pupil",
    "audience_classes",
    "audience_ids",
    "clean_text",
    "edit",
    "end_of_day",
    "expire",
    "family_ids",
    "last_day_shown",
    "managed_announcement",
    "managed_announcements",
    "mark_read",
    "may_manage",
    "may_see_receipts",
    "members_query",
    "open_announcement",
    "read_receipts",
    "visible_query",
]
