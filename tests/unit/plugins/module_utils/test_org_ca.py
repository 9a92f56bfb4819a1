"""Choosing and checking the organisation CA (R16): choice rule, CA checks, inputs, the API path end to end."""

import datetime

import pytest
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import open_url
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes

from ansible_collections.byoc.secure_trunk.plugins.module_utils import genesys_api, org_ca, x509
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import (
    CertificateError,
    FetchError,
    PolicyError,
)
from support import pki
from support.genesys_standin import GenesysStandIn, authority

URL = "https://api.example.test" + org_ca.CA_PATH
NOW = pki.now()
DAY = datetime.timedelta(days=1)

ROOT = pki.make_root("Org Edge CA")
LATER_ROOT = pki.make_root("Org Edge CA next", not_before=NOW - DAY, not_after=NOW + 7000 * DAY, fresh_key=True)
ISSUING = pki.make_intermediate(ROOT, "Org Edge issuing CA")
LEAF = pki.make_leaf(ISSUING, ["edge1.example.test"])
EXPIRED = pki.make_root("Old Org CA", not_before=NOW - 900 * DAY, not_after=NOW - DAY)
FUTURE = pki.make_root("Future Org CA", not_before=NOW + 10 * DAY, not_after=NOW + 900 * DAY)
NOT_CA = pki.make_intermediate(ROOT, "Not really a CA", ca=False)


def _ca_without_key_cert_sign():
    key = pki.make_key(role="no-kcs")
    name = cx509.Name([cx509.NameAttribute(cx509.oid.NameOID.COMMON_NAME, "CA that may not sign")])
    builder = (cx509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(7).not_valid_before(NOW - DAY).not_valid_after(NOW + 365 * DAY)
               .add_extension(cx509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(cx509.KeyUsage(digital_signature=True, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False, key_agreement=False,
                                             key_cert_sign=False, crl_sign=True, encipher_only=False,
                                             decipher_only=False), critical=True))
    return builder.sign(key, hashes.SHA256())


NO_KCS = _ca_without_key_cert_sign()


# ------------------------------------------------------------------ CA checks


@pytest.mark.parametrize("cert, words", [
    (ROOT.cert, None),
    (ISSUING.cert, None),
    (LEAF.cert, "is not a CA certificate (basicConstraints CA:TRUE is false)"),
    (NOT_CA.cert, "is not a CA certificate"),
    (NO_KCS, "may not sign certificates (keyUsage keyCertSign is off)"),
    (EXPIRED.cert, "expired on"),
    (FUTURE.cert, "is not valid before"),
], ids=["root", "issuing", "leaf", "ca-false", "no-keycertsign", "expired", "not-yet-valid"])
def test_check_ca_certificate(cert, words):
    if words is None:
        org_ca.check_ca_certificate(cert, "label")
        return
    with pytest.raises(CertificateError) as caught:
        org_ca.check_ca_certificate(cert, "label")
    assert words in str(caught.value) and caught.value.fix
    assert caught.value.obj.startswith("label (CN=")


@pytest.mark.parametrize("data, count", [
    (ROOT.pem, 1),
    (ROOT.der, 1),
    (pki.chain_pem(ISSUING, ROOT), 2),
], ids=["pem", "der", "pem-two"])
def test_from_bytes_reads_pem_and_der(data, count):
    found = org_ca.from_bytes(data, "/tmp/ca.crt", "src")
    assert len(found.certs) == count and found.source == "src" and found.authority is None
    assert x509.load_certificates(found.pem)[0].subject == found.cert.subject


@pytest.mark.parametrize("data, error, words", [
    (b"garbage", CertificateError, "is not a readable X.509 certificate"),
    (b"", CertificateError, "is not a readable X.509 certificate"),
    (pki.chain_pem(LEAF, ISSUING), CertificateError, "is not a CA certificate"),
], ids=["garbage", "empty", "leaf-in-bundle"])
def test_from_bytes_refuses(data, error, words):
    with pytest.raises(error, match=words):
        org_ca.from_bytes(data, "content", "content")


def test_pem_and_describe_are_stable():
    found = org_ca.from_bytes(ROOT.pem, "content", "content")
    again = org_ca.from_bytes(ROOT.der, "content", "content")
    assert found.pem == again.pem  # PEM or DER in, the same bytes out (idempotent writes)
    assert found.pem.startswith(b"# Genesys Cloud organisation certificate authority: Org Edge CA\n")
    info = found.describe()
    assert info["sha256"] == x509.sha256_hex(ROOT.der) and info["source"] == "content"
    assert set(info) >= {"subject", "issuer", "sha256", "subject_hash", "not_before", "not_after", "days_left",
                         "certificates", "authority"}


# ------------------------------------------------------------------ the choice rule


def ent(issued=ROOT, **kwargs):
    return authority(issued, **kwargs)


@pytest.mark.parametrize("entities, name, chosen", [
    ([ent(name="A")], None, "A"),
    ([ent(type="REMOTE", name="R"), ent(name="M")], None, "M"),
    ([ent(services=["PROVISION"], name="P"), ent(services=["PROVISION", "SIP"], name="M")], None, "M"),
    ([ent(state="deleted", name="D"), ent(state="inactive", name="I"), ent(name="M")], None, "M"),
    ([ent(state=None, name="no-state")], None, "no-state"),
    ([ent(type="managed", services=["sip"], name="lower")], None, "lower"),
    ([ent(name="A"), ent(LATER_ROOT, name="B")], None, "B"),
    ([ent(name="A"), ent(LATER_ROOT, name="B")], "a", "A"),
    ([ent(certificate="-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----\n", name="bad"),
      ent(name="good")], None, "good"),
    ([ent(EXPIRED, name="old"), ent(name="current")], None, "current"),
], ids=["one", "skip-remote", "needs-sip", "skip-deleted-inactive", "state-absent", "any-case", "ends-last",
        "by-name", "skip-malformed", "skip-expired"])
def test_choose(entities, name, chosen):
    entity, certs, warnings = org_ca.choose(entities, URL, name)
    assert entity["name"] == chosen
    assert certs and x509.load_certificates(entity["certificate"])[0].subject == certs[0].subject
    # one warning per usable authority passed over or broken one skipped; none when there was no choice
    assert len(warnings) == len(org_ca.candidates(entities, name)) - 1


def test_choose_warns_about_what_it_passed_over():
    _unused, _unused, warnings = org_ca.choose([ent(name="A"), ent(LATER_ROOT, name="B")], URL)
    assert any("several managed SIP certificate authorities" in w and "'A'" in w for w in warnings)
    _unused, _unused, warnings = org_ca.choose([ent(EXPIRED, name="old"), ent(name="current")], URL)
    assert any("expired on" in w and "skipped it" in w for w in warnings)


@pytest.mark.parametrize("entities, name, error, words", [
    ([], None, FetchError, "the organisation has no certificate authorities"),
    ([ent(type="REMOTE", name="R")], None, FetchError, "none of the organisation's certificate authorities"),
    ([ent(services=["PROVISION_PHONE"], name="P")], None, FetchError, "found: P (type MANAGED, services "),
    ([ent(state="deleted", name="D")], None, FetchError, "state deleted"),
    ([ent(name="A")], "B", FetchError, "check authority_name"),
    ([ent(certificate="not a certificate", name="bad")], None, CertificateError, "is not a readable X.509"),
    ([ent(LEAF, name="leaf")], None, CertificateError, "is not a CA certificate"),
    ([ent(EXPIRED, name="old")], None, CertificateError, "expired on"),
], ids=["empty", "only-remote", "no-sip", "only-deleted", "name-not-found", "malformed", "leaf", "expired"])
def test_choose_refuses(entities, name, error, words):
    with pytest.raises(error) as caught:
        org_ca.choose(entities, URL, name)
    assert words in str(caught.value) and caught.value.fix


def test_malformed_error_names_the_authority_and_the_url():
    with pytest.raises(CertificateError) as caught:
        org_ca.choose([ent(certificate="nope", name="Broken CA", id="id-1")], URL)
    assert caught.value.obj == "certificate authority 'Broken CA' (id id-1) from %s" % URL


# ------------------------------------------------------------------ inputs


@pytest.mark.parametrize("region, api, login, expected", [
    ("euc1", None, None, ("https://api.mypurecloud.de", "https://login.mypurecloud.de")),
    ("eu-central-1", None, None, ("https://api.mypurecloud.de", "https://login.mypurecloud.de")),
    ("use1", None, None, ("https://api.mypurecloud.com", "https://login.mypurecloud.com")),
    ("use2", None, None, ("https://api.use2.us-gov-pure.cloud", "https://login.use2.us-gov-pure.cloud")),
    ("euc2", None, None, ("https://api.euc2.pure.cloud", "https://login.euc2.pure.cloud")),
    (None, "https://api.mirror.test/", None, ("https://api.mirror.test", "https://login.mirror.test")),
    (None, "https://127.0.0.1:8443", "https://127.0.0.1:8443/", ("https://127.0.0.1:8443", "https://127.0.0.1:8443")),
    ("euc1", "https://proxy.test", None, ("https://proxy.test", "https://login.mypurecloud.de")),
], ids=["id", "aws-name", "use1", "us-gov", "g2-region", "derive-login", "both", "api-only-with-region"])
def test_endpoints(region, api, login, expected):
    assert org_ca.endpoints(region, api, login) == expected


@pytest.mark.parametrize("region, api, login, words", [
    (None, None, None, "region: is not set"),
    ("mars1", None, None, "is not a Genesys Cloud BYOC region"),
    (None, "http://api.mirror.test", None, "is not an https:// URL"),
    (None, "https://mirror.test", None, "cannot be derived"),
    ("euc1", None, "ftp://login.test", "is not an https:// URL"),
], ids=["nothing", "unknown-region", "plain-http", "underivable-login", "bad-login"])
def test_endpoints_refuse(region, api, login, words):
    with pytest.raises(PolicyError) as caught:
        org_ca.endpoints(region, api, login)
    assert words in str(caught.value) and caught.value.fix


@pytest.mark.parametrize("client_id, secret, words", [
    (None, "s", "client_id: not set"),
    ("i", "", "client_secret: not set"),
    ("", None, "client_id and client_secret: not set"),
])
def test_require_credentials(client_id, secret, words):
    with pytest.raises(PolicyError) as caught:
        org_ca.require_credentials(client_id, secret)
    assert words in str(caught.value) and "GENESYSCLOUD_OAUTHCLIENT_SECRET" in caught.value.fix


def test_require_credentials_passes_values_through():
    assert org_ca.require_credentials("i", "s") == ("i", "s")


# ------------------------------------------------------------------ the API path end to end


def test_from_api_pages_through_the_standin_and_picks_the_managed_sip_authority(tmp_path):
    remote = pki.make_root("Customer phone CA", fresh_key=True)
    authorities = [authority(remote, type="REMOTE", services=["PROVISION_PHONE"]),
                   authority(EXPIRED, state="deleted"), authority(ROOT, name="Org Edge CA")]
    with GenesysStandIn(tmp_path, authorities, page_size=1) as api:
        opener = genesys_api.open_url_adapter(open_url, (UrlsConnectionError,), follow_redirects="none",
                                              ca_path=api.ca_file)
        client = genesys_api.GenesysClient(api.base_url, api.base_url, api.client_id, api.client_secret, opener,
                                           sleep=lambda s: None)
        found = org_ca.from_api(client)
    assert found.pages == 3 and found.source == "api" and found.label == api.base_url + org_ca.CA_PATH
    assert found.authority["name"] == "Org Edge CA" and found.authority["type"] == "MANAGED"
    assert found.describe()["sha256"] == x509.sha256_hex(ROOT.der)


@pytest.mark.parametrize("days, warned", [(10, True), (29, True), (31, False), (3000, False)])
def test_an_authority_close_to_its_end_is_installed_with_a_warning(days, warned):
    soon = pki.make_root("Ending Org CA", not_before=NOW - 100 * DAY, not_after=NOW + days * DAY + DAY / 2,
                         fresh_key=True)
    found = org_ca.from_bytes(soon.pem, "content", "content")
    assert bool(found.warnings) is warned
    if warned:
        assert "expires in %d days" % days in found.warnings[0]


def test_the_pem_comment_stays_one_line():
    found = org_ca.OrgCA([ROOT.cert], "api", URL, {"name": "evil\n-----BEGIN CERTIFICATE-----\nname"})
    lines = found.pem.decode().splitlines()
    assert lines[0].startswith("# ") and lines[1].startswith("# SHA-256 ")
    assert [n for n, line in enumerate(lines) if line.startswith("-----BEGIN")] == [2]
    assert len(x509.load_certificates(found.pem)) == 1
