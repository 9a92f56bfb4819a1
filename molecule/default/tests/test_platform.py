"""What differs between the SBC platforms (Debian 12, Debian 13), proven on the lab SBC.

`make molecule-default` runs this scenario once per platform (mk/molecule.mk). Each check branches
on the SBC's release and fails on one it does not know: nothing here is skipped.
The TLS probes run on the SBC itself, with its own OpenSSL: OpenSSL 3.5 (Debian 13) offers
hybrid post-quantum groups by default (X25519MLKEM768 first), which the secp384r1 pin must refuse.
"""

import re

import pytest

SBC = "sbc.customer.example"
ECDHE_SUITE = "ECDHE-RSA-AES256-GCM-SHA384"

# VERSION_ID -> what the release ships (docs/kamailio.md, Supported platforms).
PLATFORMS = {
    "12": {"kamailio": "5.6.", "rtpengine": "10.5.", "openssl": "3.0.", "cryptography": "38.",
           "temp_key": "Server Temp Key", "sdes_flag": "SDES-no-",
           # OpenSSL 3.0's client: no hybrid groups.
           "other_groups": "X25519:prime256v1:secp521r1"},
    "13": {"kamailio": "6.0.", "rtpengine": "12.5.", "openssl": "3.5.", "cryptography": "43.",
           "temp_key": "Peer Temp Key", "sdes_flag": "SDES-only-",
           # OpenSSL 3.5's default client groups without secp384r1: hybrid ML-KEM first.
           "other_groups": "X25519MLKEM768:X25519:prime256v1:secp521r1"},
}


@pytest.fixture(scope="module")
def platform(sbc):
    version = sbc.check_output(". /etc/os-release && echo $ID-$VERSION_ID")
    distro, _, major = version.partition("-")
    assert distro == "debian" and major in PLATFORMS, "the lab SBC runs %s: a platform this scenario does not know" % (
        version)
    return PLATFORMS[major]


def s_client(host, *args):
    cmd = "env -u OPENSSL_CONF timeout 10 openssl s_client -connect %s:5061 -servername %s %s </dev/null 2>&1" % (
        SBC, SBC, " ".join(args))
    return host.run(cmd).stdout


def negotiated(out):
    m = re.search(r"Cipher is ([A-Z0-9-]+)", out)
    return m.group(1) if m and m.group(1) != "NONE" else None


def test_sbc_runs_the_release_of_its_platform(sbc, platform):
    assert sbc.check_output("kamailio -v | head -n1").startswith("version: kamailio " + platform["kamailio"])
    assert re.search(r"Version: " + re.escape(platform["rtpengine"]), sbc.check_output("rtpengine --version 2>&1"))
    assert sbc.check_output("openssl version").startswith("OpenSSL " + platform["openssl"])
    # The collection's modules (digicert_roots, tls_validate, org_ca) run with these on the SBC.
    crypto = sbc.check_output("python3 -c 'import cryptography; print(cryptography.__version__)'")
    assert crypto.startswith(platform["cryptography"]), crypto


def test_srtp_offer_flags_fit_the_platform_rtpengine(sbc, platform):  # R15
    routes = sbc.file("/etc/kamailio/byoc/byoc-routes.cfg").content_string
    flags = re.search(r'#!define BYOC_TO_GENESYS_FLAGS "([^"]*)"', routes).group(1).split()
    sdes = [f for f in flags if f.startswith("SDES-")]
    assert sdes and all(f.startswith(platform["sdes_flag"]) for f in sdes), flags
    if platform["sdes_flag"] == "SDES-only-":
        assert sdes == ["SDES-only-AES_CM_128_HMAC_SHA1_80"], flags
    else:  # 10.5 knows no SDES-only: every other suite of its catalogue is removed
        assert "SDES-no-AES_CM_128_HMAC_SHA1_80" not in sdes and len(sdes) == 11, flags


def test_the_platform_default_client_gets_secp384r1(sbc, platform):  # R3
    out = s_client(sbc, "-tls1_2")
    assert negotiated(out) == ECDHE_SUITE, out[-600:]
    assert "%s: ECDH, secp384r1" % platform["temp_key"] in out, out[-600:]


@pytest.mark.parametrize("protocol", ["-tls1_2", ""])
def test_the_platform_default_groups_without_secp384r1_are_refused(sbc, platform, protocol):  # R3, R1
    # ECDHE suites only: a policy suite with RSA key exchange would complete without any group.
    out = s_client(sbc, protocol, "-cipher", ECDHE_SUITE, "-groups", platform["other_groups"])
    assert negotiated(out) is None, out[-600:]
