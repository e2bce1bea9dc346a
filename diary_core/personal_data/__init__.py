"""A person's own data on request (152-FZ, article 14) and who read a pupil's data.

The module moved into this package unchanged; it is split by concept in the next step.
"""

from diary_core.personal_data.access import *  # noqa: F403
