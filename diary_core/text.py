"""The one rule for which characters a text typed or imported into the diary may hold.

Everything the diary stores may end up in an XML document for the portal (XML 1.0), in a
JSON document, on a page or in a CSV export, so a text is refused at the door when it holds:

- a C0 control character (U+0000–U+001F) or DEL (U+007F), except, in multi-line texts
  only (message bodies, announcement texts, homework, comments), tab, line feed and a
  carriage return that starts a CRLF line break;
- a C1 control character (U+0080–U+009F);
- an unpaired surrogate (U+D800–U+DFFF: a Python string can hold one, UTF-8 cannot);
- U+FFFE or U+FFFF (not characters at all, and not XML ``Char``).

Single-line texts (names, logins, class and subject names, titles, topics …) take no tab,
line feed or carriage return either. :func:`clean_line` and :func:`clean_text` raise
:class:`~diary_core.errors.InvalidInput` naming the field and the character as ``U+XXXX``;
:func:`find_bad` is the check itself, for callers that collect errors (the CSV imports).
The use cases of the core call these on every text they accept, so every interface (web
forms, the JSON API, the imports, the command line) is held to the same rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from diary_core.errors import InvalidInput

#: Never allowed: C0 but tab/LF/CR, DEL, C1, surrogates, U+FFFE/U+FFFF.
_ALWAYS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
#: In a single-line text: those, and tab, line feed and carriage return too.
_SINGLE_LINE = re.compile(f"[{_ALWAYS}\t\n\r]")
#: In a multi-line text: those, and a carriage return not followed by a line feed.
_MULTI_LINE = re.compile(f"[{_ALWAYS}]|\r(?!\n)")


@dataclass(frozen=True)
class BadChar:
    """The first character of a text that the rule refuses: which one, and where (from 1)."""

    char: str
    position: int

    @property
    def code(self) -> str:
        return code_point(self.char)

    def reason(self) -> str:
        """In Russian, for a person: ``недопустимый символ U+0001 (позиция 4)``."""
        what = _NAMES.get(self.char, "недопустимый символ")
        return f"{what} {self.code} (позиция {self.position})"


_NAMES = {
    "\t": "табуляция (недопустима в однострочном поле)",
    "\n": "перевод строки (недопустим в однострочном поле)",
    "\r": "возврат каретки (недопустим в однострочном поле)",
}


def code_point(char: str) -> str:
    """``U+0001``: how a character is named in an error."""
    return f"U+{ord(char):04X}"


def find_bad(value: str, *, multiline: bool = False) -> BadChar | None:
    """The first character ``value`` may not hold, or None when it is clean."""
    match = (_MULTI_LINE if multiline else _SINGLE_LINE).search(value)
    if match is None:
        return None
    return BadChar(match.group()[0], match.start() + 1)


def shown(value: str) -> str:
    """``value`` safe to quote in an error message: every refused character (and any line
    break) written as ``[U+XXXX]`` instead of itself."""
    return _SINGLE_LINE.sub(lambda m: f"[{code_point(m.group())}]", value)


def _check(value: str, field: str, label: str | None, multiline: bool) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{label or field}: ожидается текст", field=field)
    bad = find_bad(value, multiline=multiline)
    if bad is not None:
        raise InvalidInput(f"{label or field}: {bad.reason()}", field=field)
    return value


def clean_line(value: str, field: str, label: str | None = None) -> str:
    """``value`` unchanged if it is an acceptable single-line text (a name, a title, a login
    …), else :class:`InvalidInput` for ``field``; ``label`` is the field's name for people
    (Russian), ``field`` the machine name the form or API knows it by."""
    return _check(value, field, label, multiline=False)


def clean_text(value: str, field: str, label: str | None = None) -> str:
    """``value`` unchanged if it is an acceptable multi-line text (tab, line feed and CRLF
    allowed), else :class:`InvalidInput` for ``field``."""
    return _check(value, field, label, multiline=True)
