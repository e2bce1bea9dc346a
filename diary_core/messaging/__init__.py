"""Conversations between staff, parents and pupils (docs/regulation.md, clauses 2.2, 3.2, 5.1 and
6.1).

- :mod:`~diary_core.messaging.conversations`: writing — opening a conversation, replying,
  asking a school's administration;
- :mod:`~diary_core.messaging.inbox`: reading — the list with unread counts, one thread;
- :mod:`~diary_core.messaging.replies`: reply tracking — waits, overdue threads, the
  administration's reply dashboard;
- :mod:`~diary_core.messaging.recipients`: what the forms offer — whom to write to, the
  pupils threads are about, the schools to ask.

The package exports the use cases and views of these modules.
"""

from diary_core.messaging.conversations import (
    MAX_BODY,
    MAX_RECIPIENTS,
    MAX_TOPIC,
    ask_administration,
    clean_body,
    clean_topic,
    reply,
    start_conversation,
)
from diary_core.messaging.inbox import (
    ConversationSummary,
    MessageView,
    Thread,
    list_conversations,
    read_conversation,
    unread_message_count,
)
from diary_core.messaging.recipients import (
    Recipient,
    SchoolChoice,
    message_recipients,
    pupil_labels,
    question_schools,
)
from diary_core.messaging.replies import (
    OVERDUE_AFTER,
    AwaitingThread,
    TeacherReplyLoad,
    awaiting_reply,
    is_overdue,
    reply_dashboard,
)

__all__ = [
    "MAX_BODY",
    "MAX_RECIPIENTS",
    "MAX_TOPIC",
    "OVERDUE_AFTER",
    "AwaitingThread",
    "ConversationSummary",
    "MessageView",
    "Recipient",
    "SchoolChoice",
    "TeacherReplyLoad",
    "Thread",
    "ask_administration",
    "awaiting_reply",
    "clean_body",
    "clean_topic",
    "is_overdue",
    "list_conversations",
    "message_recipients",
    "pupil_labels",
    "question_schools",
    "read_conversation",
    "reply",
    "reply_dashboard",
    "start_conversation",
    "unread_message_count",
]
