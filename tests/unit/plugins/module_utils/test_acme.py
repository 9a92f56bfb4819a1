"""ACME CA preflight words (roles/sbc_acme): the directory is ACME, and the CA's root is listed."""

import pytest

from ansible_collections.byoc.secure_trunk.plugins.module_utils import acme, policy

LE = {"newNonce": "https://x/n", "newAccount": "https://x/a", "newOrder": "https://x/o",
      "meta": {"caaIdentities": ["letsencrypt.org"]}}


def test_every_mapped_root_is_a_listed_public_ca():
    names = {ca.name for ca in policy.PUBLIC_CAS}
    for ident, roots in policy.ACME_CAA_IDENTITY_ROOTS.items():
        assert roots, ident
        assert set(roots) <= names, ident


def test_lets_encrypt_is_accepted_with_isrg_roots():
    out = acme.directory_check("https://acme-v02.api.letsencrypt.org/directory", LE)
    assert out["ok"] and "ISRG Root X1" in out["roots"]


@pytest.mark.parametrize("url", ["http://acme.example/dir", "ftp://acme.example/dir", "acme.example/dir"])
def test_a_directory_that_is_not_https_is_refused(url):
    out = acme.directory_check(url, LE)
    assert not out["ok"] and "is not an https URL" in out["msg"] and url in out["msg"]


def test_a_ca_genesys_does_not_list_is_refused_even_if_it_is_acme():
    doc = dict(LE, meta={"caaIdentities": ["pki.goog"]})
    out = acme.directory_check("https://dv.acme-v02.api.pki.goog/directory", doc)
    assert not out["ok"] and "names itself pki.goog" in out["msg"] and "secure_trunk_sbc_ca_src" in out["msg"]


def test_a_ca_that_does_not_name_itself_is_refused_unless_a_lab_ca_is_named():
    doc = {k: v for k, v in LE.items() if k != "meta"}
    assert not acme.directory_check("https://pebble:14000/dir", doc)["ok"]
    assert acme.directory_check("https://pebble:14000/dir", doc, lab_ca=True)["ok"]


@pytest.mark.parametrize("doc", [None, "<html>", {}, {"newNonce": "x", "newAccount": "y"}, [1, 2]])
def test_something_that_is_not_an_acme_directory_is_refused(doc):
    out = acme.directory_check("https://acme.example/dir", doc, lab_ca=True)
    assert not out["ok"] and "did not answer with an ACME directory" in out["msg"]
