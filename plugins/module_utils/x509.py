# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificate parsing helpers over ``cryptography``, usable on a managed node.

Works with cryptography 38 (Debian 12's python3-cryptography): no API newer
than that is used, so modules built on this run on an SBC without pip.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from typing import Any, Iterable, List, Optional, Sequence, Tuple, Union

from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import CertificateError

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # reported by the module with missing_required_lib
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = exc

# cryptography's x509 objects, as the annotations name them. Any: cryptography is optional at import
# time (a module reports it missing), and its types are checked where they are made.
Certificate = Any  # x509.Certificate
Name = Any  # x509.Name
Crl = Any  # x509.CertificateRevocationList

_PEM_CERT_RE = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n.+?-----END CERTIFICATE-----", re.DOTALL
)


def sha256_hex(der: bytes) -> str:
    """SHA-256 of DER bytes as upper-case hex without colons (the pin format)."""
    return hashlib.sha256(der).hexdigest().upper()


def load_certificates(data: Union[str, bytes], label: str = "certificate data") -> List[Certificate]:
    """PEM (one or many certificates) or a single DER certificate -> list.

    ``label`` names the object in the error: a file path or a URL.
    """
    if isinstance(data, str):
        data = data.encode("ascii", "replace")
    blocks = _PEM_CERT_RE.findall(data)
    try:
        if blocks:
            return [x509.load_pem_x509_certificate(b) for b in blocks]
        if b"-----BEGIN" in data:
            raise ValueError("no complete CERTIFICATE block")
        if not data:
            raise ValueError("it is empty")
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise CertificateError(
            label,
            "is not a readable X.509 certificate (PEM or DER): %s" % exc,
            "supply the certificate itself, base64 PEM between BEGIN/END CERTIFICATE lines or binary DER",
        ) from None


def der_bytes(cert: Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def pem_text(cert: Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def not_after(cert: Certificate) -> datetime.datetime:
    """notAfter as an aware UTC datetime (cryptography 38 has no *_utc)."""
    value = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


def not_before(cert: Certificate) -> datetime.datetime:
    value = getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


def name_values(name: Name, oid: Any) -> List[str]:
    return [str(a.value) for a in name.get_attributes_for_oid(oid)]


def display_name(name: Name) -> str:
    """The name a person knows a CA by: CN, else OU, else O."""
    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME, NameOID.ORGANIZATION_NAME):
        values = name_values(name, oid)
        if values:
            return values[0]
    return name.rfc4514_string()


def cn_of(cert: Certificate) -> str:
    """``CN=...`` (or the RFC 4514 name when there is no CN) to name a certificate in messages."""
    cns = name_values(cert.subject, NameOID.COMMON_NAME)
    return "CN=%s" % cns[0] if cns else cert.subject.rfc4514_string() or "(empty subject)"


def issuer_cn(cert: Certificate) -> str:
    cns = name_values(cert.issuer, NameOID.COMMON_NAME)
    return "CN=%s" % cns[0] if cns else cert.issuer.rfc4514_string()


def summary(cert: Certificate) -> dict:
    """What a person needs to recognise a certificate."""
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "sha256": sha256_hex(der_bytes(cert)),
        "subject_hash": subject_hash(cert),
        "serial": "%X" % cert.serial_number,
        "not_before": not_before(cert).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "not_after": not_after(cert).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


# ------------------------------------------------------- OpenSSL subject hash
# OpenSSL's X509_NAME_hash: SHA-1 over the "canonical" DER of the name (each
# string value re-encoded as UTF8String, case folded, white space collapsed;
# the outer SEQUENCE left off), first four bytes read little-endian.
# cryptography exposes neither the canonical form nor the original string
# tags, so the name's DER is walked here.

_TAG_SEQUENCE, _TAG_SET, _TAG_UTF8 = 0x30, 0x31, 0x0C
# String types OpenSSL canonicalises (ASN1_MASK_CANON), with their decoding.
_CANON_STRING_TAGS = {
    0x0C: "utf-8",  # UTF8String
    0x13: "latin-1",  # PrintableString
    0x14: "latin-1",  # T61String (OpenSSL treats it as one byte per char)
    0x16: "latin-1",  # IA5String
    0x1A: "latin-1",  # VisibleString
    0x1C: "utf-32-be",  # UniversalString
    0x1E: "utf-16-be",  # BMPString
}
_ASCII_SPACE = b" \t\n\x0b\x0c\r"


def _read_tlv(data: bytes, pos: int) -> Tuple[int, bytes, int]:
    """One DER element at ``pos`` -> (tag, content, position after it)."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    return tag, data[pos:pos + length], pos + length


def _encode_tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def _elements(content: bytes) -> Iterable[Tuple[int, bytes, bytes]]:
    pos = 0
    while pos < len(content):
        start = pos
        tag, value, pos = _read_tlv(content, pos)
        yield tag, value, content[start:pos]


def _canon_string(value: bytes) -> bytes:
    text = value.strip(_ASCII_SPACE)
    out = bytearray()
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in _ASCII_SPACE:
            out.append(0x20)
            while i < len(text) and text[i] in _ASCII_SPACE:
                i += 1
            continue
        out.append(ch + 32 if 0x41 <= ch <= 0x5A else ch)  # ASCII lower-case only
        i += 1
    return bytes(out)


def _canon_attribute(atv: bytes) -> bytes:
    (oid_tag, oid, _unused), (vtag, value, raw) = list(_elements(atv))[:2]
    if vtag in _CANON_STRING_TAGS:
        utf8 = value.decode(_CANON_STRING_TAGS[vtag]).encode("utf-8")
        raw = _encode_tlv(_TAG_UTF8, _canon_string(utf8))
    return _encode_tlv(_TAG_SEQUENCE, _encode_tlv(oid_tag, oid) + raw)


def canonical_name_der(name_der: bytes) -> bytes:
    tag, rdns, _unused = _read_tlv(name_der, 0)
    if tag != _TAG_SEQUENCE:
        raise ValueError("a Name must be a DER SEQUENCE")
    out = b""
    for _tag, rdn, _raw in _elements(rdns):
        # DER orders SET OF members by their encoding.
        members = sorted(_canon_attribute(atv) for _atv_tag, atv, _atv_raw in _elements(rdn))
        out += _encode_tlv(_TAG_SET, b"".join(members))
    return out


def name_hash(name: Name) -> str:
    """OpenSSL subject-name hash of an ``x509.Name`` (8 lower-case hex digits)."""
    digest = hashlib.sha1(canonical_name_der(name.public_bytes())).digest()
    return "%08x" % int.from_bytes(digest[:4], "little")


def subject_hash(cert: Certificate) -> str:
    """Equals ``openssl x509 -subject_hash`` for the certificate."""
    return name_hash(cert.subject)


def subject_hash_of_pem(data: Any) -> str:
    certs = load_certificates(data, "certificate")
    return subject_hash(certs[0])


# ------------------------------------------------------------ CA stores

DEFAULT_CA_BUNDLES: Sequence[str] = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu
    "/etc/pki/tls/certs/ca-bundle.crt",  # RHEL family
)


def read_bundle(path: str) -> List["x509.Certificate"]:
    with open(path, "rb") as handle:
        return load_certificates(handle.read(), path)


def matches_ca_name(cert: Certificate, ca_name: str) -> bool:
    """A listed CA name is the certificate's CN or one of its OUs."""
    names = name_values(cert.subject, NameOID.COMMON_NAME) + name_values(
        cert.subject, NameOID.ORGANIZATIONAL_UNIT_NAME
    )
    return ca_name in names


def find_by_hash(certs: Iterable, wanted_hash: str) -> List:
    return [c for c in certs if subject_hash(c) == wanted_hash]


def days_until(moment: datetime.datetime, now: Optional[datetime.datetime] = None) -> int:
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return (moment - now).days
