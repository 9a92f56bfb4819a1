"""tls_probe.py: handshakes against loopback peers with chosen protocols, suites and groups."""

import socket
import ssl

import pytest

from ansible_collections.byoc.secure_trunk.plugins.module_utils import tls_probe as probe
from support import pki, servers
from support.peers import HOST, Lab

POLICY = servers.POLICY_CIPHERS


def probe_certs(pem):
    from ansible_collections.byoc.secure_trunk.plugins.module_utils.x509 import load_certificates
    return load_certificates(pem)


# Probing TLS 1.0/1.1 is the point; Python warns that the versions are deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with Lab(tmp_path_factory.mktemp("probe-lab")) as the_lab:
        the_lab.good = the_lab.serve(the_lab.leaf([HOST]))
        the_lab.open = the_lab.serve(the_lab.leaf([HOST]), min_version=ssl.TLSVersion.TLSv1,
                                     max_version=ssl.TLSVersion.TLSv1_3, ciphers="ALL", group=None)
        yield the_lab


def _target(port, timeout=5.0):
    return probe.Endpoint(HOST, port, address="127.0.0.1", timeout=timeout)


@pytest.mark.parametrize("peer, kwargs, ok, protocol, cipher", [
    ("good", {"ciphers": POLICY, "group": "secp384r1"}, True, "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384"),
    ("good", {"ciphers": "AES256-SHA"}, True, "TLSv1.2", "AES256-SHA"),
    ("good", {"ciphers": POLICY, "group": "P-256"}, True, "TLSv1.2", "AES256-GCM-SHA384"),  # RSA kx fallback
    ("good", {"ciphers": "ECDHE", "group": "P-256"}, False, None, None),
    ("good", {"ciphers": "AES128-SHA"}, False, None, None),
    ("good", {"versions": ("TLSv1.3", "TLSv1.3")}, False, None, None),
    ("good", {"versions": ("TLSv1.0", "TLSv1.0"), "ciphers": "ALL"}, False, None, None),
    ("open", {"versions": ("TLSv1.3", "TLSv1.3")}, True, "TLSv1.3", None),
    ("open", {"versions": ("TLSv1.0", "TLSv1.0"), "ciphers": "ALL"}, True, "TLSv1", None),
    ("open", {"ciphers": "ECDHE", "group": "P-256"}, True, "TLSv1.2", None),
])
def test_handshake(lab, peer, kwargs, ok, protocol, cipher):
    hs = probe.handshake(_target(getattr(lab, peer).port), **kwargs)
    assert hs.ok is ok, hs.error
    if ok:
        assert hs.protocol == protocol
        if cipher:
            assert hs.cipher == cipher
    else:
        # A policy refusal is the peer's alert, not a fault of ours or of the network.
        assert hs.error_kind in ("alert", "closed"), (hs.error_kind, hs.error)


def test_group_is_restricted_on_the_client(lab):
    """The claim the whole group report rests on: set_ecdh_curve limits what the client offers."""
    assert probe.CLIENT_GROUPS_SUPPORTED
    assert probe.handshake(_target(lab.good.port), ciphers="ECDHE", group="secp384r1").ok
    assert not probe.handshake(_target(lab.good.port), ciphers="ECDHE", group="P-521").ok


def test_chain_as_sent(lab):
    hs = probe.handshake(_target(lab.good.port), ciphers=POLICY, want_chain=True)
    assert hs.chain_complete
    with open(lab.good.paths["chain"], "rb") as handle:
        sent = [pki.Issued(c, None).der for c in probe_certs(handle.read())]
    assert hs.chain == sent and len(sent) == 2
    leaf_only = lab.serve(lab.leaf([HOST]), chain=[])
    hs = probe.handshake(_target(leaf_only.port), ciphers=POLICY, want_chain=True)
    assert len(hs.chain) == 1


def test_faults_are_named(lab, monkeypatch):
    refused = probe.handshake(_target(servers.closed_port()), ciphers=POLICY)
    assert refused.error_kind == "refused" and "connection refused" in refused.error
    with servers.silent_port() as silent:
        timeout = probe.handshake(_target(silent.port, timeout=0.3), ciphers=POLICY)
    assert timeout.error_kind == "timeout" and "no answer within 0.3 s" in timeout.error
    not_tls = probe.handshake(_target(lab.crls.port), ciphers=POLICY)
    assert not_tls.error_kind in ("tls", "closed"), not_tls.error

    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(probe.socket, "getaddrinfo", no_dns)
    address, failed = probe.resolve("nowhere.example.test", 5061, None, 1)
    assert address is None and failed.error_kind == "dns" and "cannot resolve nowhere.example.test" in failed.error


def test_resolve_prefers_connect_address():
    assert probe.resolve(HOST, 5061, "127.0.0.1", 1) == ("127.0.0.1", None)
    assert probe.resolve(HOST, 5061, "[::1]", 1) == ("::1", None)


def test_local_refusal_is_not_the_peer(lab):
    hs = probe.handshake(_target(lab.good.port), ciphers="NO-SUCH-CIPHER-AT-ALL")
    assert hs.error_kind == "local"


def test_non_policy_families_exclude_the_policy():
    names = POLICY.split(":")
    families = dict(probe.non_policy_families(names))
    offered = [n for members in families.values() for n in members]
    assert offered and not set(offered) & set(names)
    assert "ECDHE-RSA-AES128-SHA" in families["ECDHE-RSA outside the policy"]
    assert "AES128-SHA" in families["RSA key exchange outside the policy"]


def test_accepted_in_enumerates(lab):
    family = dict(probe.non_policy_families(POLICY.split(":")))["RSA key exchange outside the policy"]
    accepted, last = probe.accepted_in(_target(lab.open.port), family)
    assert "AES128-SHA" in accepted and len(accepted) > 3
    assert last is not None and last.error_kind in ("alert", "closed")
    accepted, last = probe.accepted_in(_target(lab.good.port), family)
    assert accepted == [] and last.error_kind in ("alert", "closed")


needs_openssl = pytest.mark.skipif(probe.openssl_binary() is None, reason="needs the openssl command")


@needs_openssl
@pytest.mark.parametrize("peer, group, ok", [
    ("good", "X25519", False),
    ("good", "P-384", True),
    ("open", "X25519", True),
])
def test_s_client_groups(lab, peer, group, ok):
    res = probe.s_client(_target(getattr(lab, peer).port), probe.openssl_binary(), ciphers="ECDHE", group=group)
    assert res.available and res.ok is ok, res.error
    if ok:
        assert res.group == {"X25519": "X25519", "P-384": "secp384r1"}[group]
    else:
        assert "alert" in res.error


@needs_openssl
def test_s_client_sees_a_client_certificate_request(lab):
    asking = lab.serve(lab.leaf([HOST]), client_cert="optional", client_ca=lab.root_file)
    res = probe.s_client(_target(asking.port), probe.openssl_binary(), ciphers=POLICY, group="P-384")
    assert res.ok and res.client_cert_requested
    res = probe.s_client(_target(lab.good.port), probe.openssl_binary(), ciphers=POLICY, group="P-384")
    assert res.ok and not res.client_cert_requested


def test_s_client_missing_binary(lab):
    res = probe.s_client(_target(lab.good.port), None, ciphers="ECDHE", group="X25519")
    assert not res.available and res.error == "openssl command not found"


def test_old_python_sees_only_the_leaf_and_says_so():
    class OldSocket:  # Python < 3.10: no get_unverified_chain anywhere
        _sslobj = object()

        def getpeercert(self, binary_form=False):
            return b"leaf-der"

    assert probe._peer_chain(OldSocket()) == ([b"leaf-der"], False)


@pytest.mark.parametrize("line, group", [
    ("Server Temp Key: ECDH, secp384r1, 384 bits", "secp384r1"),  # OpenSSL 3.0 (Debian 12)
    ("Peer Temp Key: ECDH, secp384r1, 384 bits", "secp384r1"),  # OpenSSL 3.5 (Debian 13)
    ("Peer Temp Key: X25519, 253 bits", "X25519"),
])
def test_s_client_temp_key_line_of_each_openssl(line, group):
    assert probe._TEMP_KEY.search("---\n%s\n---\n" % line).group(1) == group
