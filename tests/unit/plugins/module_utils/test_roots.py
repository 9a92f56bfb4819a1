"""Obtaining pinned roots and planning their files (no disk writes here)."""

import os

import pytest

from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy, roots, x509
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import (
    CertificateError,
    FetchError,
    PolicyError,
    SecureTrunkError,
)

G2, G3, EV = policy.ROOTS["g2"], policy.ROOTS["g3"], policy.ROOTS["ev"]


def served(mapping):
    """A fetcher serving url-suffix -> bytes, failing for anything else."""
    calls = []

    def fetch(url):
        calls.append(url)
        for suffix, body in mapping.items():
            if url.endswith("/" + suffix):
                return body
        raise FetchError(url, "download failed (-1: connection refused)", "check the network")

    fetch.calls = calls
    return fetch


def der(root):
    return roots.bundled(root).der


@pytest.mark.parametrize("root", [EV, G2, G3], ids=lambda r: r.key)
def test_bundled_copies_match_their_pins(root):
    item = roots.bundled(root)
    assert x509.sha256_hex(item.der) == root.sha256 and item.source == "bundled"


def test_download_checks_the_pin_and_accepts_pem_too():
    fetch = served({G2.der_url_path: der(G2), G3.der_url_path: roots.bundled(G3).pem})
    got, warnings = roots.obtain([G2, G3], "download", fetch, "http://mirror.test/dc/")
    assert [g.source for g in got] == ["download", "download"] and warnings == []
    assert fetch.calls == ["http://mirror.test/dc/DigiCertGlobalRootG2.crt", "http://mirror.test/dc/DigiCertGlobalRootG3.crt"]


@pytest.mark.parametrize("body, error, words", [
    (der(G3), FetchError, "is not the pinned DigiCert Global Root G2"),
    (b"<html>captive portal</html>", CertificateError, "is not a readable X.509 certificate"),
    (None, FetchError, "download failed"),
])
def test_download_refuses_wrong_garbled_or_missing_roots(body, error, words):
    fetch = served({} if body is None else {G2.der_url_path: body})
    with pytest.raises(error) as err:
        roots.obtain([G2], "download", fetch, "http://mirror.test")
    assert words in str(err.value)
    assert "http://mirror.test/DigiCertGlobalRootG2.crt" in str(err.value)


def test_auto_falls_back_to_the_bundled_copy_with_a_warning():
    fetch = served({G2.der_url_path: der(G3)})  # wrong root for G2, nothing for G3
    got, warnings = roots.obtain([G2, G3], "auto", fetch)
    assert [g.source for g in got] == ["bundled", "bundled"]
    assert len(warnings) == 2
    assert "is not the pinned DigiCert Global Root G2" in warnings[0]
    assert "using the bundled pinned copy of DigiCert Global Root G3" in warnings[1]


def test_bundled_source_never_fetches():
    fetch = served({})
    roots.obtain([EV], "bundled", fetch)
    assert fetch.calls == []


def test_plan_files_links_and_bundle():
    got, _unused = roots.obtain([G2, G3], "bundled", served({}))
    files = roots.plan(got, "/d", ["pem", "der", "hashed", "bundle"], "trust.pem")
    by_path = {f.path: f for f in files}
    assert by_path["/d/607986c7.0"].link_target == "DigiCert_Global_Root_G2.pem"
    assert by_path["/d/dd8e9d41.0"].link_target == "DigiCert_Global_Root_G3.pem"
    assert x509.load_certificates(by_path["/d/DigiCert_Global_Root_G2.der"].content)[0] == got[0].cert
    bundle = by_path["/d/trust.pem"].content
    assert [x509.sha256_hex(x509.der_bytes(c)) for c in x509.load_certificates(bundle)] == [G2.sha256, G3.sha256]
    described = roots.describe(got[0], files)
    assert described["paths"] == {"pem": "/d/DigiCert_Global_Root_G2.pem", "der": "/d/DigiCert_Global_Root_G2.der",
                                  "hashed": "/d/607986c7.0"}
    assert described["not_after"] == "2038-01-15T12:00:00Z"


@pytest.mark.parametrize("formats, words", [
    (["hashed"], "needs the PEM files"),
    (["pem", "p12"], "is not a root file format"),
    ([], "is not a root file format"),
])
def test_bad_formats(formats, words):
    with pytest.raises(PolicyError) as err:
        roots.check_formats(formats)
    assert words in str(err.value)


def test_unknown_source():
    with pytest.raises(PolicyError):
        roots.obtain([G2], "ftp", served({}))


def test_dest_checks(tmp_path):
    afile = tmp_path / "file"
    afile.write_text("x")
    roots.check_dest(str(tmp_path / "new" / "dir"))  # creatable: fine
    with pytest.raises(SecureTrunkError) as err:
        roots.check_dest(str(afile / "roots"))
    assert "is not a directory" in str(err.value) and str(afile) in str(err.value)
    with pytest.raises(PolicyError):
        roots.check_dest("relative/dir")
    if os.geteuid() != 0:  # root may write anywhere; the module test covers a read-only case
        os.chmod(tmp_path, 0o500)
        with pytest.raises(SecureTrunkError):
            roots.check_dest(str(tmp_path / "x"))


@pytest.mark.parametrize("name", ["../x.pem", "/etc/x.pem", "a/b.pem", "a\\b.pem", ".", "..", "", None,
                                  roots.MANIFEST_NAME, "x\x00.pem"])
def test_bundle_name_is_a_plain_file_name(name):
    with pytest.raises(PolicyError, match="is not a plain file name"):
        roots.check_bundle_name(name)
    with pytest.raises(PolicyError, match="is not a plain file name"):
        roots.plan([], "/nonexistent/d", ["bundle"], name)  # plans only, writes nothing


def test_stale_lists_only_unchanged_files_of_the_manifest(tmp_path):
    g2, g3 = roots.bundled(policy.ROOTS["g2"]), roots.bundled(policy.ROOTS["g3"])
    before = roots.plan([g2, g3], str(tmp_path), ["pem", "hashed", "bundle"])
    for item in before:
        if item.link_target:
            os.symlink(item.link_target, item.path)
        else:
            open(item.path, "wb").write(item.content)
    (tmp_path / roots.MANIFEST_NAME).write_bytes(roots.manifest(before))
    (tmp_path / "mine.txt").write_text("operator")
    after = roots.plan([g2], str(tmp_path), ["pem", "hashed", "bundle"])
    g3_link = [i.path for i in before if i.link_target == "DigiCert_Global_Root_G3.pem"][0]
    assert roots.stale(str(tmp_path), after) == sorted([str(tmp_path / "DigiCert_Global_Root_G3.pem"), g3_link])
    os.unlink(g3_link)
    os.symlink("elsewhere.pem", g3_link)  # re-pointed by someone: not ours any more
    (tmp_path / "DigiCert_Global_Root_G3.pem").write_text("edited")
    assert roots.stale(str(tmp_path), after) == []
    assert roots.stale(str(tmp_path / "missing"), after) == []
