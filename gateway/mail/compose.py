"""Mails in Russian: a text and an HTML part, the child each notification is about named,
and the headers of a well-behaved bulk sender (RFC 8058 one-click unsubscribe, RFC 3834
``Auto-Submitted``)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2

from config import MailSettings
from diary_core.russian import counted

TEMPLATES = Path(__file__).parent.parent / "templates" / "mail"
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)

#: A notification kind's title in a mail, by the kind or its first word.
TITLES: tuple[tuple[str, str], ...] = (
    ("mark", "Отметка"),  # new or corrected: the text says which
    ("marks", "Отметки"),
    ("message", "Новое сообщение"),
    ("meeting", "Родительское собрание"),
    ("announcement", "Объявление"),
    ("announcement_meeting", "Родительское собрание"),
    ("timetable", "Изменение расписания"),
)


def title_of(kind: str) -> str:
    """``mark`` → «Отметка», ``marks_digest`` → «Отметки», unknown → «Уведомление»."""
    exact = dict(TITLES)
    if kind in exact:
        return exact[kind]
    for prefix, title in sorted(TITLES, key=lambda t: -len(t[0])):
        if kind.startswith(prefix):
            return title
    return "Уведомление"


class _Lines(str):
    """A text whose line breaks an HTML template keeps (``<br>``), the rest escaped."""

    def __html__(self) -> str:
        return html.escape(self, quote=False).replace("\n", "<br>\n")


@dataclass(frozen=True)
class Item:
    """One notification in a mail; ``child``: whom it is about («Пётр Иванов, 7А»)."""

    kind: str
    text: str
    event_at: datetime
    child: str | None


@dataclass(frozen=True)
class Letter:
    """Everything one mail says, read from the outbox by the worker."""

    message_id: str
    address: str
    recipient: str
    items: tuple[Item, ...]
    digest: bool
    unsubscribe_token: str
    created_at: datetime


class _Policy(EmailPolicy):
    """The default e-mail policy, remembering how it folded a header it will see again.

    Python folds a header of encoded words (any Cyrillic) in milliseconds, and most headers
    repeat from mail to mail (From, each person's To, the MIME headers of the parts): they
    were most of the cost of a mail. Message-ID and Date never repeat and are not kept."""

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() in _UNIQUE:
            return super().fold_binary(name, value)
        key = (name, str(value), self.max_line_length, self.linesep, self.cte_type)
        folded = _FOLDED.get(key)
        if folded is None:
            if len(_FOLDED) >= _FOLDED_MAX:
                _FOLDED.clear()
            folded = _FOLDED[key] = self._fold_once(name, value)
        return folded

    def _fold_once(self, name: str, value: str) -> bytes:
        text = str(value)
        if name.lower() != "subject" or text.isascii():
            return super().fold_binary(name, value)
        # The modern folder drops the space it breaks a Cyrillic subject at («Родительское
        # собрание:Собрание 5А» on the reader's side): the classic encoder keeps the space
        # inside the encoded words.
        encoded = Header(text, "utf-8", header_name=name).encode(
            linesep=self.linesep, maxlinelen=self.max_line_length
        )
        return f"{name}: {encoded}{self.linesep}".encode("ascii")


_UNIQUE = frozenset({"message-id", "date"})
_FOLDED: dict[tuple[object, ...], bytes] = {}
_FOLDED_MAX = 10_000
POLICY = _Policy()
#: How mails go over SMTP: CRLF line ends; the parts are base64, so 7-bit clean everywhere.
WIRE = POLICY.clone(linesep="\r\n")


def to_bytes(message: EmailMessage) -> bytes:
    """The mail as sent: folded once, CRLF line ends."""
    return message.as_bytes(policy=WIRE)


def subject_of(letter: Letter, zone: ZoneInfo) -> str:
    if letter.digest:
        day = letter.created_at.astimezone(zone).strftime("%d.%m.%Y")
        notes = counted(len(letter.items), "уведомление", "уведомления", "уведомлений")
        return f"Электронный дневник за {day}: {notes}"
    item = letter.items[0]
    if item.kind.startswith("announcement"):
        # An announcement's text starts with its own title (gateway/mail/outbox.py).
        return f"{title_of(item.kind)}: {item.text.partition(chr(10))[0]}"
    return f"{title_of(item.kind)}: {item.child}" if item.child else title_of(item.kind)


def build(letter: Letter, mail: MailSettings, base_url: str, zone: ZoneInfo) -> EmailMessage:
    """The mail itself: headers, the text part, and the same in HTML."""
    base = base_url.rstrip("/")
    unsubscribe = f"{base}/mail/unsubscribe/{letter.unsubscribe_token}"
    subject = subject_of(letter, zone)
    items = [
        {
            "title": title_of(i.kind),
            "text": i.text,
            "child": i.child,
            "at": i.event_at.astimezone(zone).strftime("%d.%m %H:%M"),
        }
        for i in letter.items
    ]
    context = {
        "subject": subject,
        "recipient": letter.recipient,
        "digest": letter.digest,
        "items": items,
        "diary_url": f"{base}/diary",
        "account_url": f"{base}/account",
        "unsubscribe_url": unsubscribe,
    }
    msg = EmailMessage(policy=POLICY)
    msg["From"] = Address(display_name=mail.sender_name, addr_spec=mail.sender)
    msg["To"] = Address(display_name=letter.recipient, addr_spec=letter.address)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(letter.created_at)
    msg["Message-ID"] = letter.message_id
    msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(_env.get_template("notification.txt").render(context), cte="base64")
    # An announcement's text has paragraphs: in HTML its line breaks are kept as <br>.
    context["items"] = [{**item, "text": _Lines(item["text"] or "")} for item in items]
    html = _env.get_template("notification.html").render(context)
    msg.add_alternative(html, subtype="html", cte="base64")
    return msg
