"""A person's own data on request (152-FZ, article 14) and who read a pupil's data
(docs/personal-data.md).

An export covers one account (the subject): its profile, roles, contacts, the ESIA link's
status (never its identifiers' secrets: the diary stores none, and no password hash or code
hash leaves here), its guardianship links, the messages it took part in, its notifications
and the announcements addressed to it; and for every pupil the account is or is the confirmed
parent of, the school records: marks with their corrections, attendance, period marks, the
class and the homework of the class's lessons. One concept per module:

- :mod:`~diary_core.personal_data.access` — whose data an export covers and who may have it
  (:func:`~diary_core.personal_data.access.open_export`, which also audits the export), and
  whom an administrator may choose;
- :mod:`~diary_core.personal_data.sections` — the export's body, section by section in
  bounded batches, as plain dicts (the gateway writes them out as JSON and HTML);
- :mod:`~diary_core.personal_data.person` — the person and family sections;
- :mod:`~diary_core.personal_data.records` — the pupils' school records sections;
- :mod:`~diary_core.personal_data.correspondence` — messages, notifications, announcements;
- :mod:`~diary_core.personal_data.rows` — reading rows in batches, writing names and dates;
- :mod:`~diary_core.personal_data.readers` — a family's "who looked at my child's data",
  from the audit log.
"""
