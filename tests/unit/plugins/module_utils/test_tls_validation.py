"""tls_validation: option checks (clear errors for bad combinations) and trust anchors."""

import os

import pytest

from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy
from ansible_collections.byoc.secure_trunk.plugins.module_utils import tls_validation as tv
from ansible_collections.byoc.secure_trunk.plugins.module_utils import x509 as x509u
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import CertificateError, PolicyError
from support import pki


@pytest.fixture()
def root_file(tmp_path):
    path = tmp_path / "root.pem"
    path.write_bytes(pki.make_root("options root").pem)
    return str(path)


@pytest.mark.parametrize("options, error, words", [
    ({"host": "192.0.2.10"}, PolicyError, "host 192.0.2.10: is an IP address, and certificates are validated by "
     "name (R9); give the FQDN as host, and the address as connect_address"),
    ({"host": "2001:db8::1"}, PolicyError, "is an IP address"),
    ({}, PolicyError, "host: is missing"),
    ({"host": "a.example.test", "endpoints": [{"host": "b.example.test"}]}, PolicyError, "are mutually exclusive"),
    ({"endpoints": [{"host": "10.0.0.1"}]}, PolicyError, "endpoints[0].host 10.0.0.1: is an IP address"),
    ({"endpoints": [{"host": "a.example.test"}, {"host": "a.example.test", "port": 5061}]}, PolicyError,
     "list a.example.test:5061 twice"),
    ({"endpoints": [{"host": "a.example.test", "prot": 1}]}, PolicyError, "has unknown keys: prot"),
    ({"host": "a.example.test", "port": 70000}, PolicyError, "is not a TCP port"),
    ({"host": "a.example.test", "chain_file": "x.pem", "endpoints": None, "connect_address": "127.0.0.1"},
     PolicyError, "connect_address: has no meaning with chain_file"),
    ({"host": "a.example.test", "revocation": "maybe"}, PolicyError, "is not a revocation mode"),
    ({"host": "a.example.test", "cipher_policy": "byoc-2019", "cipher_suites": ["TLS_RSA_WITH_AES_256_CBC_SHA"]},
     PolicyError, "cipher_policy and cipher_suites: are mutually exclusive"),
    ({"host": "a.example.test", "cipher_policy": "byoc-1999"}, PolicyError, "is not defined"),
    ({"host": "a.example.test", "cipher_suites": ["ECDHE-RSA-AES256-GCM-SHA384"]}, PolicyError,
     "that is the OpenSSL name of TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
    ({"host": "a.example.test", "min_days_remaining": -1}, PolicyError, "is negative"),
    ({"host": "a.example.test", "timeout": 0}, PolicyError, "must be more than 0 seconds"),
    ({"host": "a.example.test", "ca_file": None}, PolicyError, "trust anchors: none given; give exactly one of"),
    ({"host": "a.example.test", "region": "euc2"}, PolicyError, "trust anchors: ca_file and region given"),
    ({"host": "a.example.test", "ca_store": "/etc/ssl/certs/ca-certificates.crt"}, PolicyError,
     "ca_store: is only used with public_cas"),
    ({"host": "a.example.test", "ca_file": "/nonexistent/ca.pem"}, CertificateError,
     "ca_file /nonexistent/ca.pem: cannot be read: No such file or directory"),
])
def test_bad_options(root_file, options, error, words):
    kwargs = {"ca_file": root_file}
    kwargs.update(options)
    if kwargs.get("chain_file") == "x.pem":
        kwargs["chain_file"] = root_file
    with pytest.raises(error) as info:
        tv.build_request(**kwargs)
    assert words in str(info.value)
    assert str(info.value).count(";") >= 1 or isinstance(info.value, CertificateError)


def test_chain_file_with_probe_policy_is_refused(root_file):
    with pytest.raises(PolicyError, match="probe_policy: needs a live peer"):
        tv.build_request(host="a.example.test", chain_file=root_file, probe_policy=True, ca_file=root_file)


def test_unreadable_chain_file(root_file, tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    with pytest.raises(CertificateError, match="chain_file .*bad.pem: is not a readable X.509 certificate"):
        tv.build_request(host="a.example.test", chain_file=str(bad), ca_file=root_file)


def test_endpoints_inherit_port_and_keep_order(root_file):
    request = tv.build_request(endpoints=[{"host": "lb01.voice.euc2.pure.cloud"},
                                          {"host": "lb02.voice.euc2.pure.cloud", "port": 5062,
                                           "connect_address": "127.0.0.2"}], port=5070, ca_file=root_file)
    assert [(e.host, e.port, e.connect_address) for e in request.endpoints] == [
        ("lb01.voice.euc2.pure.cloud", 5070, None), ("lb02.voice.euc2.pure.cloud", 5062, "127.0.0.2")]
    assert tv.build_request(host="x.example.test.", ca_file=root_file).endpoints[0].label == "x.example.test:5061"


@pytest.mark.parametrize("spec, count", [(None, 8), ("byoc-2025", 6), (["TLS_RSA_WITH_AES_256_CBC_SHA"], 1)])
def test_cipher_policy(root_file, spec, count):
    key = "cipher_suites" if isinstance(spec, list) else "cipher_policy"
    request = tv.build_request(host="a.example.test", ca_file=root_file, **{key: spec})
    assert len(request.suites) == count


@pytest.mark.parametrize("region, strict, roots", [
    ("euc2", False, ["DigiCert Global Root G2", "DigiCert Global Root G3"]),
    ("eu-central-2", True, ["DigiCert Global Root G2"]),
    ("euw1", False, ["DigiCert High Assurance EV Root CA", "DigiCert Global Root G2", "DigiCert Global Root G3"]),
])
def test_region_anchors_are_the_pinned_roots(region, strict, roots):
    trust = tv.load_trust(region=region, strict_roots=strict)
    assert [x509u.display_name(a.subject) for a in trust.anchors] == roots
    pins = {r.name: r.sha256 for r in policy.ROOTS.values()}
    assert [x509u.sha256_hex(x509u.der_bytes(a)) for a in trust.anchors] == [pins[n] for n in roots]


def test_unknown_region():
    with pytest.raises(PolicyError, match="is not a Genesys Cloud BYOC region"):
        tv.load_trust(region="mars1")


def test_public_cas_from_a_store(tmp_path):
    """Filtered by subject hash; the accepted roots the store lacks are reported."""
    ev = tv.load_trust(region="euw1", strict_roots=True).anchors[0]
    other = pki.make_root("not a public CA")
    store = tmp_path / "store.pem"
    store.write_bytes(x509u.pem_text(ev).encode() + other.pem)
    trust = tv.load_trust(public_cas=True, ca_store=str(store))
    assert [x509u.display_name(a.subject) for a in trust.anchors] == ["DigiCert High Assurance EV Root CA"]
    missing = trust.as_dict()["missing_public_cas"]
    assert "ISRG Root X1" in missing and "DigiCert High Assurance EV Root CA" not in missing
    assert len(missing) == len(policy.PUBLIC_CAS) - 1
    assert trust.warnings and "are not in %s" % store in trust.warnings[0]


def test_public_cas_store_without_any(tmp_path):
    store = tmp_path / "store.pem"
    store.write_bytes(pki.make_root("lonely root").pem)
    with pytest.raises(CertificateError, match="holds none of the public roots Genesys accepts"):
        tv.load_trust(public_cas=True, ca_store=str(store))


@pytest.mark.skipif(not os.path.exists(x509u.DEFAULT_CA_BUNDLES[0]), reason="needs the Debian CA bundle")
def test_public_cas_from_the_system_store():
    trust = tv.load_trust(public_cas=True)
    names = {x509u.display_name(a.subject) for a in trust.anchors}
    assert "ISRG Root X1" in names and "DigiCert Global Root G2" in names
