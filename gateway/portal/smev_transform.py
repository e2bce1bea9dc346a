"""The SMEV 3 XML-DSig transform ``urn://smev-gov-ru/xmldsig/transform``, streaming.

SMEV 3 signs a fragment through the Reference transforms Exclusive C14N and then this one; its
output is what the DigestValue is computed over. The algorithm is the one of ``SmevTransformSpi``,
the reference implementation in the SMEV 3 client library (Apache Santuario + Woodstox StAX), and
of the SMEV methodological recommendations; docs/smev3.md states it rule by rule with its sources.
In short:

1. the XML declaration, processing instructions and comments produce nothing;
2. a text node (or CDATA section) made only of characters up to U+0020 produces nothing; others
   are kept whole, their leading and trailing spaces included;
3. an element is always written as a start and an end tag, never as ``<a/>``;
4. namespace prefixes are renamed ``ns1``, ``ns2``… in order of first need, one counter for the
   whole document; an element declares, after its name, the prefix of its own namespace and then
   those of its attributes' namespaces (in the attributes' sorted order), each only if no
   ancestor in the *output* declares it; declarations end with the element, so a sibling
   declares again under the next number; declarations present in the input but not needed by an
   element's own name or attributes disappear;
5. attributes: qualified ones first, by namespace URI then local name, then unqualified ones by
   local name (comparison of UTF-16 code units, as Java's ``String.compareTo``);
6. escaping as Woodstox's writer does it (see :func:`escape_text` and :func:`escape_attribute`),
   CDATA sections are kept as CDATA sections;
7. elements without a namespace are refused (:class:`SmevTransformError` names the element), and
   so are a DOCTYPE and input that is not well-formed;
8. output: UTF-8, no XML declaration, no byte order mark.

The input is parsed by expat (the standard library's ``pyexpat``) event by event, never into a
tree: memory stays flat whatever the size. expat, rather than lxml, because it reports CDATA
section boundaries, which the reference keeps and lxml's event interfaces merge into the text.
Parsing is hardened: a DOCTYPE is refused outright, so no entity can be declared (no entity
expansion, no billion laughs) and nothing external (DTD, entity, network) is ever loaded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pyexpat import ExpatError, ParserCreate, errors

ALGORITHM = "urn://smev-gov-ru/xmldsig/transform"

#: Separates the namespace URI from the local name in expat's names. U+0001 cannot occur in an
#: XML 1.0 name or namespace URI (not even as a character reference), so the split is exact.
_SEP = "\x01"

#: Java's ``String.trim()`` strips every character up to U+0020; a text that is nothing else is
#: "whitespace" for the reference.
_JAVA_TRIMMED = "".join(chr(c) for c in range(0x21))

#: Woodstox writes a text of fewer than this many UTF-16 units through its ``String`` path, a
#: longer one through its ``char[]`` path in pieces of ``_TEXT_CHUNK`` units; the two escape
#: ``>`` under different conditions (BaseStreamWriter.MIN_ARRAYCOPY, DEFAULT_COPYBUFFER_LEN).
_SHORT_TEXT = 12
_TEXT_CHUNK = 512

#: Characters a text may need escaped: ``<``, ``&``, ``>``, CR and the C1 controls (U+007F to
#: U+009F, which Woodstox's text table marks for character references).
_TEXT_SPECIAL = re.compile("[<&>\r\x7f-\x9f]")
#: Characters above U+FFFF: two UTF-16 units each in Java's count.
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_TEXT_ESCAPES = {"<": "&lt;", "&": "&amp;", ">": "&gt;"}
_ATTR_SPECIAL = re.compile('[<&"\t\n\r]')
_ATTR_ESCAPES = {
    "<": "&lt;",
    "&": "&amp;",
    '"': "&quot;",
    "\t": "&#x9;",
    "\n": "&#xa;",
    "\r": "&#xd;",
}

#: Output is handed to the sink in pieces of about this many characters (UTF-8 encoded).
_FLUSH_BYTES = 64 * 1024
#: Input is given to expat in pieces of this many bytes.
_FEED_BYTES = 64 * 1024


class SmevTransformError(ValueError):
    """The input cannot be transformed: it is not well-formed XML, it has a DOCTYPE, or an
    element has no namespace. The message says which and where."""


def smev_transform(data: bytes) -> bytes:
    """The transform's output for the XML document ``data`` (bytes in any encoding expat
    reads: UTF-8, UTF-16, or one declared in the XML declaration)."""
    out: list[bytes] = []
    view = memoryview(data)
    smev_transform_stream(
        (view[i : i + _FEED_BYTES] for i in range(0, len(view), _FEED_BYTES)), out.append
    )
    return b"".join(out)


def smev_transform_stream(
    chunks: Iterable[bytes | memoryview], write: Callable[[bytes], object]
) -> None:
    """Transform the document read from ``chunks`` and hand the output to ``write`` piece by
    piece (e.g. a digest's ``update``). Neither the input nor the output is ever held whole."""
    _Transformer(write).run(chunks)


def _char_ref(ch: str) -> str:
    """Woodstox's character reference: ``&#x`` and the shortest lower-case hex."""
    return f"&#x{ord(ch):x};"


def escape_text(text: str) -> str:
    """Escape one text block (a text node between two markup events) as Woodstox's
    ``BufferingXmlWriter`` does when the reference writes it.

    Always: ``<`` → ``&lt;``, ``&`` → ``&amp;``, CR → ``&#xd;``, U+007F…U+009F → ``&#x…;``;
    tab and line feed stay. ``>`` → ``&gt;`` only where it could close ``]]>``:

    - a block shorter than 12 UTF-16 units: when it is the block's first character or follows
      ``]``;
    - a longer one (written in pieces of 512 units): when it is the first character of a piece,
      follows ``]``, or directly follows a character that was itself escaped.
    """
    if _TEXT_SPECIAL.search(text) is None:
        return text
    # Positions count UTF-16 units, as Java does: a character above U+FFFF counts two.
    astral = 0 if text.isascii() or not _ASTRAL.search(text) else len(_ASTRAL.findall(text))
    short = len(text) + astral < _SHORT_TEXT
    out: list[str] = []
    done = 0  # text[:done] is written
    last_escaped = -2  # index of the last character written as an entity or reference
    astral_before = scanned = 0  # characters above U+FFFF in text[:scanned]
    for match in _TEXT_SPECIAL.finditer(text):
        i = match.start()
        ch = text[i]
        if ch == ">":
            if short:
                needed = i == 0 or text[i - 1] == "]"
            else:
                if astral:
                    astral_before += len(_ASTRAL.findall(text, scanned, i))
                    scanned = i
                unit = i + astral_before
                needed = unit % _TEXT_CHUNK == 0 or last_escaped == i - 1 or text[i - 1] == "]"
            if not needed:
                continue
        out.append(text[done:i])
        out.append(_TEXT_ESCAPES.get(ch) or _char_ref(ch))
        done = i + 1
        last_escaped = i
    out.append(text[done:])
    return "".join(out)


def escape_attribute(value: str) -> str:
    """Escape an attribute value (or a namespace URI) as Woodstox does: ``<``, ``&``, ``"`` by
    entity, tab, line feed and CR by character reference; ``>`` and everything else stay."""
    return _ATTR_SPECIAL.sub(lambda m: _ATTR_ESCAPES[m.group()], value)


def _utf16_key(text: str) -> bytes:
    """A sort key that orders as Java's ``String.compareTo`` (UTF-16 code units)."""
    return text.encode("utf-16-be", "surrogatepass")


class _Transformer:
    def __init__(self, write: Callable[[bytes], object]) -> None:
        self._write = write
        self._out: list[str] = []
        self._out_size = 0
        self._text: list[str] = []
        self._counter = 0
        #: URI → prefix, for the declarations in scope in the output.
        self._prefixes: dict[str, str] = {}
        #: Per open element: its output name and the URIs it declared.
        self._open: list[tuple[str, list[str]]] = []

    def run(self, chunks: Iterable[bytes | memoryview]) -> None:
        parser = ParserCreate(namespace_separator=_SEP)
        parser.ordered_attributes = True
        parser.buffer_text = True
        parser.buffer_size = _FEED_BYTES
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text.append
        parser.StartCdataSectionHandler = self._start_cdata
        parser.EndCdataSectionHandler = self._end_cdata
        parser.CommentHandler = self._boundary
        parser.ProcessingInstructionHandler = self._boundary
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        try:
            for chunk in chunks:
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except ExpatError as exc:
            message = errors.messages.get(exc.code, str(exc))
            raise SmevTransformError(
                f"not well-formed XML at line {exc.lineno}, column {exc.offset + 1}: {message}"
            ) from None
        self._flush()

    # -- output ---------------------------------------------------------------------------

    def _emit(self, text: str) -> None:
        self._out.append(text)
        self._out_size += len(text)
        if self._out_size >= _FLUSH_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._out:
            self._write("".join(self._out).encode("utf-8"))
            self._out.clear()
            self._out_size = 0

    # -- text -----------------------------------------------------------------------------

    def _take_text(self) -> str | None:
        """The character data gathered since the last markup event, or None if it is only
        characters up to U+0020 (which the reference drops)."""
        pieces = self._text
        text = pieces[0] if len(pieces) == 1 else "".join(pieces)
        pieces.clear()
        if not text.strip(_JAVA_TRIMMED):
            return None
        return text

    def _flush_text(self) -> None:
        text = self._take_text()
        if text is not None:
            self._emit(escape_text(text))

    def _boundary(self, *_: object) -> None:
        """A comment or processing instruction: produces nothing, but ends a text block."""
        if self._text:
            self._flush_text()

    def _start_cdata(self) -> None:
        if self._text:
            self._flush_text()

    def _end_cdata(self) -> None:
        if self._text:
            text = self._take_text()
            if text is not None:
                self._emit(f"<![CDATA[{text}]]>")

    # -- elements -------------------------------------------------------------------------

    def _declare(self, uri: str, declared: list[str], decls: list[str]) -> str:
        """A new prefix for ``uri``, declared on the element being written."""
        self._counter += 1
        prefix = f"ns{self._counter}"
        self._prefixes[uri] = prefix
        declared.append(uri)
        decls.append(f' xmlns:{prefix}="{escape_attribute(uri)}"')
        return prefix

    def _start(self, name: str, attributes: list[str]) -> None:
        if self._text:
            self._flush_text()
        uri, sep, local = name.rpartition(_SEP)
        if not sep:
            raise SmevTransformError(
                f"element <{name}> has no namespace; the SMEV transform ({ALGORITHM}) "
                "supports only namespace-qualified elements"
            )
        prefixes = self._prefixes
        declared: list[str] = []
        decls: list[str] = []
        prefix = prefixes.get(uri) or self._declare(uri, declared, decls)
        qname = f"{prefix}:{local}"
        self._open.append((qname, declared))
        if not attributes:
            self._emit(f"<{qname}{''.join(decls)}>")
            return

        parsed = []
        for i in range(0, len(attributes), 2):
            a_uri, _, a_local = attributes[i].rpartition(_SEP)
            parsed.append((a_uri, a_local, attributes[i + 1]))
        if len(parsed) > 1:
            parsed.sort(key=lambda a: (not a[0], _utf16_key(a[0]), _utf16_key(a[1])))
        attrs: list[str] = []
        for a_uri, a_local, value in parsed:
            if a_uri:
                a_prefix = prefixes.get(a_uri) or self._declare(a_uri, declared, decls)
                attrs.append(f' {a_prefix}:{a_local}="{escape_attribute(value)}"')
            else:
                attrs.append(f' {a_local}="{escape_attribute(value)}"')
        self._emit(f"<{qname}{''.join(decls)}{''.join(attrs)}>")

    def _end(self, _name: str) -> None:
        if self._text:
            self._flush_text()
        qname, declared = self._open.pop()
        for uri in declared:
            del self._prefixes[uri]
        self._emit(f"</{qname}>")

    # -- refused --------------------------------------------------------------------------

    def _doctype(self, name: str, *_: object) -> None:
        raise SmevTransformError(
            f"the document has a DOCTYPE (<!DOCTYPE {name}>); DTDs and entities are refused"
        )

    def _entity(self, name: str, *_: object) -> None:
        raise SmevTransformError(f"the document declares an entity ({name}); entities are refused")
