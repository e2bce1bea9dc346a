#!/bin/sh
# Check docs/examples/smev3/document.xml with openssl alone (and grep, cut, cmp).
# The one step openssl cannot do is the SMEV transform: payload.smev.xml is its output for the
# payload (cut it out as in step 1 and compare with your own SMEV transform of it).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
doc="$here/document.xml"
E="-engine gost"
# 1. SignedInfo, cut out as it stands: it is written in its Exclusive C14N form, so these are
#    the bytes that were signed (the payload likewise: '<p:Progress .*</p:Progress>').
grep -o '<ds:SignedInfo .*</ds:SignedInfo>' "$doc" | tr -d '\n' > signed-info.xml
# 2. DigestValue = Streebog-256 of the SMEV transform of the payload, as openssl prints it.
grep -o '<ds:DigestValue>[^<]*' "$doc" | cut -d'>' -f2 | openssl base64 -d -A > digest.bin
openssl dgst $E -md_gost12_256 -binary "$here/payload.smev.xml" 2>/dev/null > computed.bin
cmp digest.bin computed.bin
echo "DigestValue: OK"
# 3. SignatureValue = GOST R 34.10-2012 over SignedInfo, s||r as openssl writes it.
grep -o '<ds:SignatureValue>[^<]*' "$doc" | cut -d'>' -f2 | openssl base64 -d -A > signature.bin
openssl x509 $E -in "$here/certificate.pem" -pubkey -noout 2>/dev/null > public.pem
openssl dgst $E -md_gost12_256 -verify public.pem -signature signature.bin signed-info.xml 2>/dev/null
# 4. The certificate in KeyInfo is the one given beside the document.
grep -o '<ds:X509Certificate>[^<]*' "$doc" | cut -d'>' -f2 | openssl base64 -d -A > keyinfo.der
openssl x509 -in "$here/certificate.pem" -outform DER > given.der
cmp given.der keyinfo.der
echo "KeyInfo certificate: OK"
