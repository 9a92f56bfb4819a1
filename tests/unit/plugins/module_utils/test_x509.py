"""x509 helpers: the OpenSSL subject hash above all."""

import datetime
import glob
import subprocess

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from ansible_collections.byoc.secure_trunk.plugins.module_utils import x509
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import CertificateError

DEBIAN_ROOTS = sorted(glob.glob("/usr/share/ca-certificates/mozilla/*.crt"))


def openssl_subject_hash(path):
    out = subprocess.run(["openssl", "x509", "-in", str(path), "-noout", "-subject_hash"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def test_debian_bundle_is_there():
    assert len(DEBIAN_ROOTS) > 100


@pytest.mark.parametrize("path", DEBIAN_ROOTS, ids=lambda p: p.rsplit("/", 1)[-1])
def test_subject_hash_equals_openssl_for_every_debian_root(path):
    with open(path, "rb") as handle:
        cert = x509.load_certificates(handle.read(), path)[0]
    assert x509.subject_hash(cert) == openssl_subject_hash(path)


def _self_signed(name):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime(2026, 1, 1)
    return (cx509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))


NAMES = {
    "case-and-spaces": cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "  Lab   ROOT\tCA  "),
                                   cx509.NameAttribute(NameOID.ORGANIZATION_NAME, "ACME Corp")]),
    "bmp-string": cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "Zürich Root", _ASN1Type.BMPString)]),
    "t61-and-ia5": cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "T61 Name", _ASN1Type.T61String),
                               cx509.NameAttribute(NameOID.EMAIL_ADDRESS, "PKI@Example.COM")]),
    "utf8-non-ascii": cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "ÉCOLE Racine")]),
    "multi-valued-rdn": cx509.Name([cx509.RelativeDistinguishedName([
        cx509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Zeta"),
        cx509.NameAttribute(NameOID.COMMON_NAME, "Alpha")])]),
    "long-name": cx509.Name([cx509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "x" * 60)] * 4),
}


@pytest.mark.parametrize("label", list(NAMES))
def test_subject_hash_canonicalisation_matches_openssl(label, tmp_path):
    cert = _self_signed(NAMES[label])
    path = tmp_path / "c.pem"
    path.write_text(x509.pem_text(cert))
    assert x509.subject_hash(cert) == openssl_subject_hash(path)
    assert x509.subject_hash_of_pem(path.read_text()) == x509.subject_hash(cert)


def test_pem_and_der_load_the_same_certificate():
    with open(DEBIAN_ROOTS[0], "rb") as handle:
        pem = handle.read()
    cert = x509.load_certificates(pem)[0]
    again = x509.load_certificates(x509.der_bytes(cert))[0]
    assert again == cert
    assert len(x509.load_certificates(pem + pem)) == 2


@pytest.mark.parametrize("data, words", [
    (b"", "it is empty"),
    (b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n", "no complete CERTIFICATE block"),
    (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "is not a readable X.509"),
    (b"\x30\x03\x02\x01\x01", "is not a readable X.509"),
])
def test_garbled_input_names_the_object_and_the_fix(data, words):
    with pytest.raises(CertificateError) as err:
        x509.load_certificates(data, "/etc/kamailio/sbc.pem")
    text = str(err.value)
    assert text.startswith("/etc/kamailio/sbc.pem: ")
    assert words in text and "supply the certificate" in text


def test_summary_dates_are_utc():
    cert = _self_signed(NAMES["case-and-spaces"])
    info = x509.summary(cert)
    assert info["not_before"] == "2026-01-01T00:00:00Z" and info["not_after"] == "2026-01-02T00:00:00Z"
    assert x509.days_until(x509.not_after(cert), datetime.datetime(2025, 12, 1, tzinfo=datetime.timezone.utc)) == 32
