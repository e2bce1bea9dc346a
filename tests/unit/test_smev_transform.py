"""The SMEV 3 transform ``urn://smev-gov-ru/xmldsig/transform`` (gateway.portal.smev_transform).

- every published vector (tests/data/smev_transform, sources in its SOURCES.md) comes out byte
  for byte, whole or fed one byte at a time; two of them are also checked against the GOST R
  34.11-94 digests the reference implementation published;
- each rule on its own: what is dropped, prefix renaming and its scope, attribute order, empty
  elements, escaping as the reference's writer does it, CDATA, refusals, encodings;
- a ~20 MB document goes through with flat memory;
- the published signed SMEV messages (tests/data/smev_signed) verify with the byte orders
  docs/smev3.md states: DigestValue and SignatureValue exactly as OpenSSL produces them.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from lxml import etree  # type: ignore[import-untyped]

from gateway.portal.smev_transform import (
    SmevTransformError,
    escape_attribute,
    escape_text,
    smev_transform,
    smev_transform_stream,
)
from gosuslugi_adapter.gost import GostPublicKey, streebog

DATA = Path(__file__).resolve().parent.parent / "data"
VECTORS = DATA / "smev_transform"
SIGNED = DATA / "smev_signed"
DS = "{http://www.w3.org/2000/09/xmldsig#}"

VECTOR_NAMES = sorted(p.name.removesuffix(".in.xml") for p in VECTORS.glob("*.in.xml"))


def t(xml: str) -> str:
    return smev_transform(xml.encode("utf-8")).decode("utf-8")


def _gost94_available() -> bool:
    if shutil.which("openssl") is None:
        return False
    probe = subprocess.run(
        ["openssl", "dgst", "-engine", "gost", "-md_gost94", "-binary"],
        input=b"",
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0 and len(probe.stdout) == 32


def gost94(data: bytes) -> bytes:
    """GOST R 34.11-94 (CryptoPro parameters) as OpenSSL's GOST engine prints it."""
    return subprocess.run(
        ["openssl", "dgst", "-engine", "gost", "-md_gost94", "-binary"],
        input=data,
        capture_output=True,
        check=True,
    ).stdout


needs_gost94 = pytest.mark.skipif(
    not _gost94_available(), reason="OpenSSL's GOST engine (md_gost94) is not installed"
)


# -- the published vectors ------------------------------------------------------------------


def test_the_vectors_are_there() -> None:
    assert len(VECTOR_NAMES) >= 6
    for name in VECTOR_NAMES:
        assert (VECTORS / f"{name}.out.xml").is_file(), name
        assert name in (VECTORS / "SOURCES.md").read_text(encoding="utf-8"), name


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_vector(name: str) -> None:
    source = (VECTORS / f"{name}.in.xml").read_bytes()
    expected = (VECTORS / f"{name}.out.xml").read_bytes()
    assert smev_transform(source) == expected


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_vector_fed_one_byte_at_a_time(name: str) -> None:
    source = (VECTORS / f"{name}.in.xml").read_bytes()
    out: list[bytes] = []
    smev_transform_stream((source[i : i + 1] for i in range(len(source))), out.append)
    assert b"".join(out) == (VECTORS / f"{name}.out.xml").read_bytes()


@needs_gost94
@pytest.mark.parametrize(
    ("name", "published"),
    [
        ("mr_habr_request", "/jXl70XwnttJB5sSokwh8SaVHwo2gjgILSu0qBaLUAo="),
        ("mr_personal_signature", "oQj0a7j/Bw3XHLBhZ6CN0Dd6cNjP4DzyYnF8FwPsOo4="),
    ],
)
def test_digest_published_by_the_reference(name: str, published: str) -> None:
    output = smev_transform((VECTORS / f"{name}.in.xml").read_bytes())
    assert base64.b64encode(gost94(output)).decode() == published


# -- rule 1: what produces nothing ----------------------------------------------------------


def test_declaration_pi_comments_and_whitespace_only_text_are_dropped() -> None:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!-- c -->\n<?pi data?>\n'
        '<a:r xmlns:a="urn:a">\n\t<?pi?><!-- x -->\r\n  <a:v> keep  me </a:v>\n</a:r>\n'
        "<!-- after -->"
    )
    assert t(xml) == '<ns1:r xmlns:ns1="urn:a"><ns1:v> keep  me </ns1:v></ns1:r>'


def test_comments_and_pis_split_text_into_blocks_judged_alone() -> None:
    # The reference sees two text events here: "  " (dropped) and "y" (kept), not "  y".
    assert t('<a:x xmlns:a="u">  <!--c-->y</a:x>') == '<ns1:x xmlns:ns1="u">y</ns1:x>'
    assert t('<a:x xmlns:a="u">y<?p?>  </a:x>') == '<ns1:x xmlns:ns1="u">y</ns1:x>'


def test_whitespace_means_what_java_trim_strips() -> None:
    # U+00A0 is not stripped by String.trim(), so a text of it is kept.
    assert t('<a:x xmlns:a="u">\u00a0</a:x>') == '<ns1:x xmlns:ns1="u">\u00a0</ns1:x>'
    assert t('<a:x xmlns:a="u"> &#13;&#9; </a:x>') == '<ns1:x xmlns:ns1="u"></ns1:x>'


# -- rule 3: empty elements -----------------------------------------------------------------


def test_empty_elements_get_an_end_tag() -> None:
    assert t('<a:x xmlns:a="u"><a:e/><a:f></a:f><a:g>\n</a:g></a:x>') == (
        '<ns1:x xmlns:ns1="u"><ns1:e></ns1:e><ns1:f></ns1:f><ns1:g></ns1:g></ns1:x>'
    )


# -- rule 4: prefixes -----------------------------------------------------------------------


def test_prefixes_renamed_in_order_of_appearance_with_one_counter_for_the_document() -> None:
    # The input of Danbka/smev-transform's test: elementFour..Six are siblings of elementTwo,
    # whose declaration of ns2 ended with it; the counter goes on (ns6, ns7, ns8).
    xml = (
        '<elementOne xmlns="http://test/1" xmlns:qwe="http://test/2" xmlns:asd="http://test/3">'
        '<qwe:elementTwo><asd:elementThree xmlns:wer="http://test/a" xmlns:zxc="http://test/0" '
        'wer:attZ="zzz" attB="bbb" attA="aaa" zxc:attC="ccc" asd:attD="ddd" asd:attE="eee" '
        'qwe:attF="fff"/></qwe:elementTwo><qwe:elementFour>0</qwe:elementFour>'
        "<qwe:elementFive/><qwe:elementSix>   </qwe:elementSix></elementOne>"
    )
    assert t(xml) == (
        '<ns1:elementOne xmlns:ns1="http://test/1"><ns2:elementTwo xmlns:ns2="http://test/2">'
        '<ns3:elementThree xmlns:ns3="http://test/3" xmlns:ns4="http://test/0" '
        'xmlns:ns5="http://test/a" ns4:attC="ccc" ns2:attF="fff" ns3:attD="ddd" ns3:attE="eee" '
        'ns5:attZ="zzz" attA="aaa" attB="bbb"></ns3:elementThree></ns2:elementTwo>'
        '<ns6:elementFour xmlns:ns6="http://test/2">0</ns6:elementFour>'
        '<ns7:elementFive xmlns:ns7="http://test/2"></ns7:elementFive>'
        '<ns8:elementSix xmlns:ns8="http://test/2"></ns8:elementSix></ns1:elementOne>'
    )


def test_declarations_in_scope_are_reused_whatever_the_input_prefix() -> None:
    xml = '<p:a xmlns:p="urn:1"><q:b xmlns:q="urn:1"><c xmlns="urn:1"/></q:b></p:a>'
    assert t(xml) == '<ns1:a xmlns:ns1="urn:1"><ns1:b><ns1:c></ns1:c></ns1:b></ns1:a>'


def test_unused_declarations_disappear() -> None:
    xml = '<p:a xmlns:p="urn:1" xmlns:unused="urn:2" xmlns="urn:3"><p:b/></p:a>'
    assert t(xml) == '<ns1:a xmlns:ns1="urn:1"><ns1:b></ns1:b></ns1:a>'


def test_element_namespace_first_then_attribute_namespaces_in_sorted_order() -> None:
    xml = '<p:a xmlns:p="urn:e" xmlns:z="urn:z" xmlns:b="urn:b" z:k="1" b:k="2" p:k="3" k="4"/>'
    assert t(xml) == (
        '<ns1:a xmlns:ns1="urn:e" xmlns:ns2="urn:b" xmlns:ns3="urn:z" '
        'ns2:k="2" ns1:k="3" ns3:k="1" k="4"></ns1:a>'
    )


def test_attribute_namespace_declared_on_a_parent_is_not_declared_again() -> None:
    xml = '<p:a xmlns:p="urn:e" xmlns:x="urn:x" x:k="1"><p:b x:k="2"/></p:a>'
    assert t(xml) == (
        '<ns1:a xmlns:ns1="urn:e" xmlns:ns2="urn:x" ns2:k="1"><ns1:b ns2:k="2"></ns1:b></ns1:a>'
    )


# -- rule 5: attribute order ----------------------------------------------------------------


def test_attributes_qualified_by_uri_then_local_name_unqualified_last_by_name() -> None:
    xml = '<p:a xmlns:p="urn:p" xmlns:m="urn:m" zeta="1" alpha="2" p:b="3" m:z="4" m:a="5"/>'
    assert t(xml) == (
        '<ns1:a xmlns:ns1="urn:p" xmlns:ns2="urn:m" ns2:a="5" ns2:z="4" ns1:b="3" '
        'alpha="2" zeta="1"></ns1:a>'
    )


def test_namespace_uris_compare_as_utf16_code_units_like_java() -> None:
    # U+10000 is D800 DC00 in UTF-16, below U+FF21: Java sorts it first, code points would not.
    xml = '<p:a xmlns:p="u" xmlns:x="urn:\uff21" xmlns:y="urn:\U00010000" x:k="1" y:k="2"/>'
    assert t(xml) == (
        '<ns1:a xmlns:ns1="u" xmlns:ns2="urn:\U00010000" xmlns:ns3="urn:\uff21" '
        'ns2:k="2" ns3:k="1"></ns1:a>'
    )


# -- rule 6: escaping -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("plain text", "plain text"),
        ("a<b&c>d", "a&lt;b&amp;c>d"),  # short: '>' stays unless first or after ']'
        (">x", "&gt;x"),
        ("x]>", "x]&gt;"),
        ("&>", "&amp;>"),  # short: after an escape '>' stays
        ("x&>long text", "x&amp;&gt;long text"),  # 12 units: after an escape '>' is escaped
        ("a>b long text", "a>b long text"),
        ("\t\n", "\t\n"),
        ("\r", "&#xd;"),
        ("\x85\x7f", "&#x85;&#x7f;"),
        ("'\"", "'\""),
    ],
)
def test_text_escaping(text: str, written: str) -> None:
    assert escape_text(text) == written


def test_text_escaping_restarts_at_every_512_units_of_a_long_text() -> None:
    assert escape_text("x" * 512 + ">") == "x" * 512 + "&gt;"
    assert escape_text("x" * 511 + ">") == "x" * 511 + ">"
    # a supplementary character counts two units, as in Java
    assert escape_text("\U0001f600" + "x" * 510 + ">") == "\U0001f600" + "x" * 510 + "&gt;"


def test_text_escaping_through_the_document() -> None:
    # 16 characters, so the long form: '>' first is escaped, '>' after a space is not.
    xml = '<a:x xmlns:a="u">&gt;1 &lt; 2 &amp;&amp; 3 &gt; 2&#13;</a:x>'
    assert t(xml) == '<ns1:x xmlns:ns1="u">&gt;1 &lt; 2 &amp;&amp; 3 > 2&#xd;</ns1:x>'


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('a"b', "a&quot;b"),
        ("<&>", "&lt;&amp;>"),
        ("\t\n\r", "&#x9;&#xa;&#xd;"),
        ("'\x85", "'\x85"),
    ],
)
def test_attribute_escaping(value: str, written: str) -> None:
    assert escape_attribute(value) == written


def test_attribute_values_through_the_document() -> None:
    # A literal tab or newline in an attribute is normalised to a space by the parser; as a
    # character reference it survives and is written as one.
    xml = '<a:x xmlns:a="u" v="1\t2&#9;3&#10;&quot;&lt;>"/>'
    assert t(xml) == '<ns1:x xmlns:ns1="u" v="1 2&#x9;3&#xa;&quot;&lt;>"></ns1:x>'


def test_cdata_sections_are_kept_and_split_the_text() -> None:
    xml = '<a:x xmlns:a="u">x><![CDATA[<b> & ]]>>z<![CDATA[  ]]></a:x>'
    assert t(xml) == '<ns1:x xmlns:ns1="u">x><![CDATA[<b> & ]]>&gt;z</ns1:x>'


def test_non_bmp_text_is_written_as_utf8() -> None:
    assert t('<a:x xmlns:a="u">😀 Ё</a:x>').encode() == (
        '<ns1:x xmlns:ns1="u">😀 Ё</ns1:x>'.encode()
    )


# -- rule 7: refusals -----------------------------------------------------------------------


def test_element_without_namespace_is_refused_by_name() -> None:
    with pytest.raises(SmevTransformError, match=r"element <root> has no namespace"):
        t("<root/>")
    with pytest.raises(SmevTransformError, match=r"element <child> has no namespace"):
        t('<a:r xmlns:a="u"><child xmlns=""/></a:r>')


def test_doctype_and_entities_are_refused() -> None:
    laughs = '<!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><a:r xmlns:a="u">&b;</a:r>'
    with pytest.raises(SmevTransformError, match="DOCTYPE"):
        t(laughs)
    with pytest.raises(SmevTransformError, match="DOCTYPE"):
        t('<!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd"><a:r xmlns:a="u"/>')


def test_malformed_xml_is_refused_with_its_position() -> None:
    with pytest.raises(SmevTransformError, match=r"line 1, column \d+"):
        t('<a:r xmlns:a="u"><a:b></a:r>')
    with pytest.raises(SmevTransformError, match="not well-formed"):
        t('<a:r xmlns:a="u">&undefined;</a:r>')
    with pytest.raises(SmevTransformError, match="not well-formed"):
        t("<x:r/>")  # unbound prefix


# -- rule 8: output encoding ----------------------------------------------------------------


def test_output_is_utf8_without_declaration_whatever_the_input_encoding() -> None:
    expected = '<ns1:x xmlns:ns1="u">Привет</ns1:x>'.encode()
    cp1251 = '<?xml version="1.0" encoding="windows-1251"?><a:x xmlns:a="u">Привет</a:x>'
    assert smev_transform(cp1251.encode("cp1251")) == expected
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><a:x xmlns:a="u">Привет</a:x>'
    assert smev_transform(utf16.encode("utf-16")) == expected
    assert smev_transform(b"\xef\xbb\xbf" + '<a:x xmlns:a="u">Привет</a:x>'.encode()) == expected


# -- streaming ------------------------------------------------------------------------------

TEXT = "Журнал успеваемости: оценки за четверть, " * 12 + "&amp; > итоговые"
ITEM_IN = f'  <p:item xmlns:q="urn:unused" n="123">{TEXT}</p:item><!-- c -->\n'.encode()
ITEM_OUT = f'<ns1:item n="123">{TEXT}</ns1:item>'.encode()
ITEMS = 20 * 1024 * 1024 // len(ITEM_IN)


def _big_input() -> Iterator[bytes]:
    yield b'<?xml version="1.0"?>\n<p:r xmlns:p="urn:big">\n'
    block = ITEM_IN * 64  # about 64 KB
    for _ in range(ITEMS // 64):
        yield block
    yield b"</p:r>\n"


def _big_output_digest() -> bytes:
    digest = hashlib.sha256(b'<ns1:r xmlns:ns1="urn:big">')
    block = ITEM_OUT * 64
    for _ in range(ITEMS // 64):
        digest.update(block)
    digest.update(b"</ns1:r>")
    return digest.digest()


def test_a_20_mb_document_streams_with_flat_memory() -> None:
    """Python-side memory (tracemalloc) stays far below the input's size: holding the input,
    the output or any Python tree of it would take more than 20 MB."""
    digest = hashlib.sha256()
    written = 0

    def sink(piece: bytes) -> None:
        nonlocal written
        written += len(piece)
        digest.update(piece)

    assert ITEMS // 64 * 64 * len(ITEM_IN) > 19 * 1024 * 1024
    tracemalloc.start()
    try:
        smev_transform_stream(_big_input(), sink)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024 * 1024, f"peak {peak} bytes"
    assert written == len(b'<ns1:r xmlns:ns1="urn:big"></ns1:r>') + ITEMS // 64 * 64 * len(ITEM_OUT)
    assert digest.digest() == _big_output_digest()


# -- the published signed messages: byte orders ---------------------------------------------


def _signed_element(doc: etree._Element, ident: str) -> etree._Element:
    (element,) = doc.xpath("//*[@Id=$id]", id=ident)
    return element


def _reference_output(doc: etree._Element) -> bytes:
    """Exclusive C14N, then the SMEV transform: the Reference's two transforms."""
    uri = doc.find(f".//{DS}Reference").get("URI")
    c14n = etree.tostring(
        _signed_element(doc, uri.removeprefix("#")), method="c14n", exclusive=True
    )
    return smev_transform(c14n)


@needs_gost94
def test_methodological_recommendations_sample_digest() -> None:
    """The signed SendRequestRequest of the SMEV 3 methodological recommendations (GOST 2001):
    its DigestValue is GOST R 34.11-94 of our output, in OpenSSL's byte order."""
    doc = etree.parse(str(SIGNED / "mr_send_request_gost2001.xml")).getroot()
    published = base64.b64decode(doc.findtext(f".//{DS}DigestValue"))
    digest = gost94(_reference_output(doc))
    assert digest == published
    assert digest[::-1] != published


@needs_gost94
def test_methodological_recommendations_sample_signature_in_openssl_layout(
    tmp_path: Path,
) -> None:
    """Its SignatureValue verifies as it stands with OpenSSL (s || r, big-endian), once the
    SignedInfo is taken without the indentation added to the sample after signing."""
    doc = etree.parse(
        str(SIGNED / "mr_send_request_gost2001.xml"),
        etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True),
    ).getroot()
    signed_info = etree.tostring(doc.find(f".//{DS}SignedInfo"), method="c14n", exclusive=True)
    signature = base64.b64decode(doc.findtext(f".//{DS}SignatureValue"))
    cert = base64.b64decode(doc.findtext(f".//{DS}X509Certificate"))
    (tmp_path / "cert.der").write_bytes(cert)
    pem = subprocess.run(
        [
            "openssl",
            "x509",
            "-engine",
            "gost",
            "-inform",
            "der",
            "-in",
            str(tmp_path / "cert.der"),
            "-pubkey",
            "-noout",
        ],
        capture_output=True,
        check=True,
    ).stdout
    (tmp_path / "pub.pem").write_bytes(pem)
    (tmp_path / "si.bin").write_bytes(signed_info)

    def verifies(value: bytes) -> bool:
        (tmp_path / "sig.bin").write_bytes(value)
        result = subprocess.run(
            [
                "openssl",
                "dgst",
                "-engine",
                "gost",
                "-md_gost94",
                "-verify",
                str(tmp_path / "pub.pem"),
                "-signature",
                str(tmp_path / "sig.bin"),
                str(tmp_path / "si.bin"),
            ],
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    assert verifies(signature)
    assert not verifies(signature[::-1])
    assert not verifies(signature[32:] + signature[:32])


def test_cryptopro_gost2012_digest_is_streebog_in_openssl_order() -> None:
    """An AckRequest signed with CryptoPro (GOST R 34.10-2012/256): its DigestValue is
    Streebog-256 of our output exactly as OpenSSL prints it, not reversed."""
    doc = etree.parse(str(SIGNED / "mylab_ack_request_gost2012.xml")).getroot()
    published = base64.b64decode(doc.findtext(f".//{DS}DigestValue"))
    digest = streebog(_reference_output(doc), 256)
    assert digest == published
    assert digest[::-1] != published


def test_smev_gost2012_signature_verifies_as_it_stands() -> None:
    """A SMEV 3 test-environment GetRequestResponse signed by SMEV (CryptoPro, GOST R
    34.10-2012/256): the SignatureValue verifies over Streebog-256 of the SignedInfo exactly as
    OpenSSL lays a signature out (s || r), not reversed and not r || s."""
    doc = etree.parse(str(SIGNED / "gisogd_get_request_response_gost2012.xml")).getroot()
    signed_info = etree.tostring(doc.find(f".//{DS}SignedInfo"), method="c14n", exclusive=True)
    signature = base64.b64decode(doc.findtext(f".//{DS}SignatureValue"))
    cert = asn1_x509.Certificate.load(base64.b64decode(doc.findtext(f".//{DS}X509Certificate")))
    key = GostPublicKey.from_spki_der(cert["tbs_certificate"]["subject_public_key_info"].dump())
    assert key.bits == 256
    assert key.verify(signed_info, signature)
    assert not key.verify(signed_info, signature[::-1])
    assert not key.verify(signed_info, signature[32:] + signature[:32])
    # Its DigestValue cannot be recomputed from this copy: the signed Request held the MTOM
    # attachment's content where the copy has an xop:Include (see SOURCES.md); the transform
    # runs on it all the same.
    assert len(streebog(_reference_output(doc), 256)) == 32
