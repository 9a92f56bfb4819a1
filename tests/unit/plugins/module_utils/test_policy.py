"""The policy core: the corrected catalogue, roots, cipher policies, public CAs."""

import glob
import re
import ssl

import pytest

from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy, x509
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import PolicyError

DEBIAN_ROOTS = "/usr/share/ca-certificates/mozilla"
EXPECTED_IDS = ["use1", "use2", "usw2", "cac1", "sae1", "euw1", "euw2", "euc1", "euc2", "mec1",
                "apne1", "apne2", "apse2", "aps1", "apne3"]


def test_catalogue_has_the_fifteen_regions():
    assert sorted(policy.region_ids()) == sorted(EXPECTED_IDS)


@pytest.mark.parametrize("rid", EXPECTED_IDS)
def test_endpoints_follow_the_corrected_pattern(rid):
    region = policy.get_region(rid)
    domain = "use2.us-gov-pure.cloud" if rid == "use2" else rid + ".pure.cloud"
    assert region.endpoints == ["lb0%d.voice.%s" % (n, domain) for n in range(1, 5)]
    for fqdn in region.endpoints:
        # the source's typos: stray spaces, upper case, "voic.", other regions' ids
        assert fqdn == fqdn.strip().lower() and " " not in fqdn
        assert ".voice." in fqdn and ".voic." not in fqdn
        assert fqdn.split(".")[2] == rid


@pytest.mark.parametrize("name, rid", [
    ("euc2", "euc2"), ("EUC2", "euc2"), ("eu-central-2", "euc2"), (" ap-south-1 ", "aps1"),
    ("us-east-2", "use2"), ("ap-northeast-3", "apne3"),
])
def test_region_by_id_or_aws_name(name, rid):
    assert policy.get_region(name).id == rid


@pytest.mark.parametrize("bad", ["euw3", "", None, "eu-central-3"])
def test_unknown_region_lists_the_valid_ids(bad):
    with pytest.raises(PolicyError) as err:
        policy.get_region(bad)
    assert "is not a Genesys Cloud BYOC region" in str(err.value)
    for rid in EXPECTED_IDS:
        assert rid in str(err.value)


@pytest.mark.parametrize("rid, default, strict", [
    ("use1", ["ev", "g2", "g3"], ["ev"]),
    ("apne2", ["ev", "g2", "g3"], ["ev"]),
    ("euc2", ["g2", "g3"], ["g2"]),
    ("mec1", ["g2", "g3"], ["g2"]),
    ("apne3", ["g2", "g3"], ["g2"]),
])
def test_region_roots_default_to_migration_ready_and_strict_to_current(rid, default, strict):
    region = policy.get_region(rid)
    assert [r.key for r in region.roots()] == default
    assert [r.key for r in region.roots(strict=True)] == strict
    current = [r["key"] for r in region.as_dict()["roots"] if r["current"]]
    assert current == strict
    assert {k: region.as_dict()[k] for k in ("port", "tls_version", "ecdhe_group")} == {
        "port": 5061, "tls_version": "TLSv1.2", "ecdhe_group": "secp384r1"}


def test_ev_and_g2_region_lists_match_the_spec():
    ev = {r.id for r in policy.REGIONS.values() if r.root_family == "ev"}
    assert ev == {"use1", "use2", "usw2", "cac1", "sae1", "euw1", "euw2", "euc1", "apne1", "apne2", "apse2", "aps1"}


def test_resolve_regions_all_and_lists():
    assert len(policy.resolve_regions("all")) == 15
    assert [r.id for r in policy.resolve_regions(["euc2", "eu-central-2", "use1"])] == ["euc2", "use1"]
    keys = [r.key for r in policy.roots_for_regions(policy.resolve_regions(["euc2"]), strict=True)]
    assert keys == ["g2"]


@pytest.mark.parametrize("root", list(policy.ROOTS.values()), ids=lambda r: r.key)
def test_root_pins_match_debian_ca_certificates(root):
    with open("%s/%s.crt" % (DEBIAN_ROOTS, root.local_stem), "rb") as handle:
        cert = x509.load_certificates(handle.read())[0]
    assert x509.sha256_hex(x509.der_bytes(cert)) == root.sha256
    assert x509.subject_hash(cert) == root.subject_hash
    assert x509.display_name(cert.subject) == root.name


@pytest.mark.parametrize("name", list(policy.CIPHER_POLICIES))
def test_cipher_policies_are_real_openssl_suites_with_forward_secret_gcm_first(name):
    suites = policy.policy_suites(name)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for suite in suites:
        ctx.set_ciphers(suite.openssl)  # raises if OpenSSL does not know the name
        (info,) = [c for c in ctx.get_ciphers() if c["protocol"] != "TLSv1.3"]
        assert info["id"] & 0xFFFF == suite.code, suite.iana
        assert info["kea"] == ("kx-ecdhe" if suite.kx == "ECDHE" else "kx-rsa"), suite.iana
        assert info["auth"] == "auth-rsa", "every BYOC suite is RSA-authenticated (R2)"
    assert suites[0].iana == "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
    kx = [s.kx for s in suites]
    assert kx == sorted(kx, key=lambda k: k != "ECDHE"), "forward-secret suites must come first"


def test_default_policy_is_the_spec_eight_and_2025_drops_the_retired_cbc_sha2_suites():
    assert set(policy.get_cipher_policy().suites) == {
        "TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}
    retired = set(policy.get_cipher_policy("byoc-2019").suites) - set(policy.get_cipher_policy("byoc-2025").suites)
    assert retired == {"TLS_RSA_WITH_AES_256_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"}


@pytest.mark.parametrize("spec, expected", [
    (None, "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-SHA384:"
           "ECDHE-RSA-AES256-SHA:AES256-GCM-SHA384:AES128-GCM-SHA256:AES256-SHA256:AES256-SHA"),
    ("byoc-2025", "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-SHA:"
                  "AES256-GCM-SHA384:AES128-GCM-SHA256:AES256-SHA"),
    (["TLS_RSA_WITH_AES_256_CBC_SHA", "tls_ecdhe_rsa_with_aes_128_gcm_sha256"],
     "ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA"),
])
def test_openssl_cipher_string(spec, expected):
    assert policy.openssl_cipher_string(spec) == expected


@pytest.mark.parametrize("spec, words", [
    (["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"], "is not a BYOC policy suite"),
    (["ECDHE-RSA-AES256-GCM-SHA384"], "OpenSSL name of TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
    ([], "the list is empty"),
    ("byoc-1999", "is not defined"),
])
def test_non_policy_suites_are_refused(spec, words):
    with pytest.raises(PolicyError) as err:
        policy.openssl_cipher_string(spec)
    assert words in str(err.value)


def test_public_ca_hashes_are_well_formed_and_corrected():
    for ca in policy.PUBLIC_CAS:
        assert re.fullmatch(r"[0-9a-f]{8}", ca.subject_hash), ca
    corrected = {ca.name: ca.subject_hash for ca in policy.PUBLIC_CAS if ca.source_hash}
    assert corrected["GlobalSign Root E46"] == "feffd413"
    assert corrected["GlobalSign Root CA - R3"] == "062cdee6"
    assert len(policy.PUBLIC_CAS) >= 70


def _machine_roots():
    paths = glob.glob(DEBIAN_ROOTS + "/*.crt")
    try:
        import certifi
        paths.append(certifi.where())
    except ImportError:
        pass
    certs = []
    for path in paths:
        with open(path, "rb") as handle:
            certs.extend(x509.load_certificates(handle.read(), path))
    return certs


def test_public_ca_hashes_equal_those_computed_from_the_machines_certificates():
    certs = _machine_roots()
    checked = 0
    for ca in policy.PUBLIC_CAS:
        found = {x509.subject_hash(c) for c in certs if x509.matches_ca_name(c, ca.name)}
        if found:
            assert found == {ca.subject_hash}, ca.name
            checked += 1
    assert checked >= 45, "Debian's bundle should hold most of the listed roots"
