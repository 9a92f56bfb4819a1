"""The run-time peer-name check (RFC 6125 DNS names) that Kamailio imports on the SBC."""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.byoc.secure_trunk.plugins.module_utils.peer_names import match_dns, names_host

HOST = "lb02.voice.euc2.pure.cloud"


def _pem(cn, dns=(), ips=()):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)))
    if dns or ips:
        import ipaddress
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize("pattern, host, wildcard, expected", [
    ("lb02.voice.euc2.pure.cloud", HOST, True, True),
    ("LB02.Voice.EUC2.pure.cloud.", HOST, True, True),
    ("*.voice.euc2.pure.cloud", HOST, True, True),
    ("*.voice.euc2.pure.cloud", HOST, False, False),       # BYOC Premises: exact names only
    ("*.euc2.pure.cloud", HOST, True, False),              # one label only
    ("*.cloud", "pure.cloud", True, False),                # not for a bare suffix
    ("lb0*.voice.euc2.pure.cloud", HOST, True, False),     # no partial-label wildcard
    ("*.*.euc2.pure.cloud", HOST, True, False),
    ("*.voice.euc2.pure.cloud", "voice.euc2.pure.cloud", True, False),
    ("lb01.voice.euc2.pure.cloud", HOST, True, False),
    ("", HOST, True, False),
])
def test_dns_name_matching(pattern, host, wildcard, expected):
    assert match_dns(pattern, host, wildcard) is expected


def test_every_san_is_compared_not_only_the_first():
    pem = _pem("lb01", dns=["lb01.voice.euc2.pure.cloud", "lb03.voice.euc2.pure.cloud", HOST])
    assert names_host(pem, HOST)


def test_a_certificate_for_another_name_is_refused():
    assert not names_host(_pem("impostor.lab.invalid", dns=["impostor.lab.invalid"]), HOST)


def test_the_common_name_is_never_used():
    assert not names_host(_pem(HOST), HOST)
    assert not names_host(_pem(HOST, dns=["other.example.com"]), HOST)


def test_ip_addresses_never_match():
    assert not names_host(_pem("x", dns=["192.0.2.10"], ips=["192.0.2.10"]), "192.0.2.10")
