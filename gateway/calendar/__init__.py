"""Timetable subscriptions: a private iCalendar address per account (docs/calendar.md).

A parent's address serves the timetables of his confirmed children, a pupil's his own, a
teacher's the lessons he gives. The address's token is the credential: only its SHA-256 is
stored (:mod:`gateway.storage.calendar`), renewing it revokes the old one.
"""
