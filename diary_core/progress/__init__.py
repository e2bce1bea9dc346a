"""A pupil's progress as the state services portal receives it
(docs/regulation.md, clauses 1.2 and 2.1).

Plain, frozen data, read with Core ``select()`` rows in a fixed number of statements whatever
the pupil's (or the batch's) size. One concept per module:

- :mod:`~diary_core.progress.model` — the records a progress document is made of, and the
  range the portal may ask for;
- :mod:`~diary_core.progress.statements` — the SQL they are read with, built once;
- :mod:`~diary_core.progress.reading` — reading a pupil's (or a batch's) rows, each read
  asking the policy (:func:`diary_core.policy.require_portal`) before it fetches a row;
- :mod:`~diary_core.progress.summary` — the records and per-subject averages from the rows;
- :mod:`~diary_core.progress.versions` — the fingerprint of a pupil's data, so a signed
  document is reused while it is unchanged;
- :mod:`~diary_core.progress.guardians` — the confirmed children of a parent by his ESIA oid;
- :mod:`~diary_core.progress.changes` — the change log after a cursor, deletions as
  tombstones;
- :mod:`~diary_core.progress.export` — what a school's bulk export reads besides progress.

Every read of a pupil's data takes the reading portal client
(:class:`diary_core.policy.PortalReader`): nothing reads a pupil's progress without it.
"""
