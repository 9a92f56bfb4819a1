"""crl.py: CRLs fetched from a loopback HTTP server, verified, looked up; one fetch per URL."""

import datetime
import threading

import pytest

from ansible_collections.byoc.secure_trunk.plugins.module_utils import crl
from support import pki, servers

HOUR = datetime.timedelta(hours=1)


@pytest.fixture()
def crls():
    with servers.CRLServer() as server:
        yield server


@pytest.fixture(scope="module")
def ca():
    root = pki.make_root("crl test root")
    return root, pki.make_intermediate(root, "crl test CA")


def _publish(crls, ca, case, leaf):
    root, inter = ca
    name = "inter.crl"
    if case in ("good", "hard_good"):
        crls.put(name, pki.crl_der(pki.make_crl(inter)))
    elif case == "pem":
        crls.put(name, pki.crl_pem(pki.make_crl(inter)))
    elif case in ("revoked", "revoked_hard"):
        crls.put(name, pki.crl_der(pki.make_crl(inter, revoked=[leaf])))
    elif case in ("stale", "stale_hard"):
        crls.put(name, pki.crl_der(pki.make_crl(inter, last_update=pki.now() - 48 * HOUR,
                                                next_update=pki.now() - HOUR)))
    elif case == "future":
        crls.put(name, pki.crl_der(pki.make_crl(inter, last_update=pki.now() + 24 * HOUR)))
    elif case == "bad_signature":
        crls.put(name, pki.crl_der(pki.make_crl(inter, signer=pki.make_key(fresh=True))))
    elif case == "wrong_issuer":
        crls.put(name, pki.crl_der(pki.make_crl(root)))
    elif case == "garbage":
        crls.put(name, b"<html>not a CRL</html>")
    # "missing": nothing published -> HTTP 404


@pytest.mark.parametrize("case, mode, status, level, words", [
    ("good", "soft", "good", None, None),
    ("hard_good", "hard", "good", None, None),
    ("pem", "soft", "good", None, None),
    ("revoked", "soft", "revoked", "fail", "certificate was revoked on"),
    ("revoked_hard", "hard", "revoked", "fail", "replace it with a newly issued certificate"),
    ("stale", "soft", "unknown", "warn", "the CRL is stale (nextUpdate"),
    ("stale_hard", "hard", "unknown", "fail", "the CRL is stale"),
    ("future", "soft", "unknown", "warn", "dated in the future"),
    ("bad_signature", "soft", "unknown", "warn", "the CRL signature does not verify with the key of CN=crl test CA"),
    ("wrong_issuer", "hard", "unknown", "fail", "the CRL is issued by"),
    ("garbage", "soft", "unknown", "warn", "inter.crl"),
    ("missing", "hard", "unknown", "fail", "HTTP 404"),
])
def test_crl_cases(crls, ca, case, mode, status, level, words):
    root, inter = ca
    leaf = pki.make_leaf(inter, ["crl.example.test"], crl_urls=[crls.url("inter.crl")])
    _publish(crls, ca, case, leaf)
    statuses, findings = crl.check_revocation([leaf.cert, inter.cert, root.cert], root.cert,
                                              crl.CrlCache(timeout=5), mode)
    assert [s["status"] for s in statuses] == [status, "unknown"]  # the intermediate has no CRL DP here
    leaf_findings = [f for f in findings if f.obj.startswith("leaf ")]
    if level is None:
        assert leaf_findings == []
    else:
        assert [f.level for f in leaf_findings] == [level], [f.message for f in leaf_findings]
        assert words in leaf_findings[0].message


@pytest.mark.parametrize("mode, level", [("soft", "warn"), ("hard", "fail")])
def test_no_distribution_point(ca, mode, level):
    root, inter = ca
    leaf = pki.make_leaf(inter, ["crl.example.test"])
    statuses, findings = crl.check_revocation([leaf.cert, inter.cert, root.cert], root.cert, crl.CrlCache(), mode)
    assert statuses[0]["detail"] == "no CRL distribution point"
    assert {f.level for f in findings} == {level}


def test_mode_none_checks_nothing(crls, ca):
    root, inter = ca
    leaf = pki.make_leaf(inter, ["crl.example.test"], crl_urls=[crls.url("inter.crl")])
    assert crl.check_revocation([leaf.cert, inter.cert, root.cert], root.cert, crl.CrlCache(), "none") == ([], [])
    assert crls.hits("inter.crl") == 0


def test_unreachable_url_then_second_url(crls, ca):
    root, inter = ca
    dead = "http://127.0.0.1:%d/inter.crl" % servers.closed_port()
    leaf = pki.make_leaf(inter, ["crl.example.test"],
                         crl_urls=["ldap://ldap.example.test/cn=x", dead, crls.url("inter.crl")])
    crls.put("inter.crl", pki.crl_der(pki.make_crl(inter)))
    statuses, _unused = crl.check_revocation([leaf.cert, inter.cert], None, crl.CrlCache(timeout=5), "hard")
    assert statuses[0]["status"] == "good" and statuses[0]["url"] == crls.url("inter.crl")


def test_unreachable_only(ca):
    root, inter = ca
    dead = "http://127.0.0.1:%d/inter.crl" % servers.closed_port()
    leaf = pki.make_leaf(inter, ["crl.example.test"], crl_urls=[dead])
    statuses, findings = crl.check_revocation([leaf.cert, inter.cert], None, crl.CrlCache(timeout=5), "hard")
    assert statuses[0]["status"] == "unknown" and "unreachable" in statuses[0]["detail"]
    assert findings[0].level == "fail" and "make the CRL reachable" in findings[0].fix


def test_broken_path_is_not_checked_silently(ca):
    root, inter = ca
    leaf = pki.make_leaf(inter, ["crl.example.test"], crl_urls=["http://127.0.0.1:9/x.crl"])
    statuses, findings = crl.check_revocation([leaf.cert], None, crl.CrlCache(), "soft")
    assert statuses[0]["status"] == "unknown" and findings[0].fix == "complete the chain first (see the chain check)"


def test_intermediate_checked_against_root(crls, ca):
    root = pki.make_root("crl test root 2")
    inter = pki.make_intermediate(root, "crl test CA 2", crl_urls=[crls.url("root.crl")])
    leaf = pki.make_leaf(inter, ["crl.example.test"], crl_urls=[crls.url("inter.crl")])
    crls.put("root.crl", pki.crl_der(pki.make_crl(root, revoked=[inter])))
    crls.put("inter.crl", pki.crl_der(pki.make_crl(inter)))
    statuses, findings = crl.check_revocation([leaf.cert, inter.cert, root.cert], root.cert, crl.CrlCache(), "soft")
    assert [s["status"] for s in statuses] == ["good", "revoked"]
    assert findings[0].obj == "CN=crl test CA 2" and findings[0].level == "fail"


def test_one_fetch_per_url_across_threads(crls, ca):
    _unused, inter = ca
    crls.put("inter.crl", pki.crl_der(pki.make_crl(inter)))
    cache = crl.CrlCache(timeout=5)
    start = threading.Barrier(16)
    got = []

    def worker():
        start.wait()
        got.append(cache.get(crls.url("inter.crl")))

    threads = [threading.Thread(target=worker) for _unused in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 16 and all(c is not None and not err for c, err in got)
    assert crls.hits("inter.crl") == 1
    assert cache.fetches == [crls.url("inter.crl")]


def test_distribution_urls(ca):
    _unused, inter = ca
    leaf = pki.make_leaf(inter, ["x.example.test"], crl_urls=["http://a.example/1.crl", "http://b.example/2.crl"])
    assert crl.distribution_urls(leaf.cert) == ["http://a.example/1.crl", "http://b.example/2.crl"]
    assert crl.distribution_urls(inter.cert) == []


def test_a_shared_crl_is_never_used_by_two_threads_at_once(crls, ca, monkeypatch):
    """cryptography's objects are not thread-safe (38 raises "Already borrowed"): the cache's
    per-URL lock must be held around every use of a CRL that endpoints share."""
    root, inter = ca
    crls.put("inter.crl", pki.crl_der(pki.make_crl(inter)))
    state = {"active": 0, "overlap": 0}
    guard = threading.Lock()
    gate = threading.Event()

    class Tripwire:
        def __init__(self, real):
            self._real = real

        def __getattr__(self, name):
            attr = getattr(self._real, name)
            if not callable(attr):
                return attr

            def call(*args, **kwargs):
                with guard:
                    state["active"] += 1
                    state["overlap"] = max(state["overlap"], state["active"])
                gate.wait(0.05)  # give another thread the chance to come in, if it can
                try:
                    return attr(*args, **kwargs)
                finally:
                    with guard:
                        state["active"] -= 1
            return call

    real_load = crl.load_crl
    monkeypatch.setattr(crl, "load_crl", lambda data: Tripwire(real_load(data)))
    cache = crl.CrlCache(timeout=5)
    leaves = [pki.make_leaf(inter, ["t%d.example.test" % i], crl_urls=[crls.url("inter.crl")]) for i in range(4)]
    results = []
    threads = [threading.Thread(target=lambda leaf=leaf: results.append(
        crl.check_revocation([leaf.cert, inter.cert, root.cert], root.cert, cache, "hard")[0][0]["status"]))
        for leaf in leaves]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["good"] * 4
    assert state["overlap"] == 1
