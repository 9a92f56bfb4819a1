"""The throwaway PKI builds chains that OpenSSL itself accepts (and CRLs it honours)."""

import shutil
import subprocess

import pytest

from support import pki

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def _verify(tmp_path, root, chain, leaf, crl=None):
    (tmp_path / "root.pem").write_bytes(root.pem)
    (tmp_path / "untrusted.pem").write_bytes(pki.chain_pem(*chain) or root.pem)
    (tmp_path / "leaf.pem").write_bytes(leaf.pem)
    cmd = ["openssl", "verify", "-purpose", "sslserver", "-CAfile", str(tmp_path / "root.pem"),
           "-untrusted", str(tmp_path / "untrusted.pem")]
    if crl is not None:
        (tmp_path / "c.crl").write_bytes(pki.crl_pem(crl))
        cmd += ["-crl_check", "-CRLfile", str(tmp_path / "c.crl")]
    return subprocess.run(cmd + [str(tmp_path / "leaf.pem")], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("key_type", ["rsa", "ec"])
def test_chain_verifies(tmp_path, key_type):
    root = pki.make_root("pki root")
    inter = pki.make_intermediate(root, "pki issuing")
    leaf = pki.make_leaf(inter, ["a.example.test"], key_type=key_type)
    assert _verify(tmp_path, root, [inter], leaf).returncode == 0
    assert leaf.chain_to_root() == [leaf, inter, root]


@pytest.mark.parametrize("case, expect", [
    ("good", 0),
    ("revoked", 2),
])
def test_crl_is_honoured(tmp_path, case, expect):
    root = pki.make_root("pki root")
    inter = pki.make_intermediate(root, "pki issuing")
    leaf = pki.make_leaf(inter, ["a.example.test"], crl_urls=["http://127.0.0.1:9/i.crl"])
    crl = pki.make_crl(inter, revoked=[leaf] if case == "revoked" else [])
    assert _verify(tmp_path, root, [inter], leaf, crl).returncode == expect


def test_roles_get_distinct_keys_and_bad_signer_fails():
    root = pki.make_root("pki root")
    inter = pki.make_intermediate(root, "pki issuing")
    assert root.key is not inter.key
    forged = pki.make_crl(inter, signer=pki.make_key(fresh=True))
    assert not forged.is_signature_valid(inter.key.public_key())
    assert pki.make_crl(inter).is_signature_valid(inter.key.public_key())


def test_write_files(tmp_path):
    root = pki.make_root("pki root")
    leaf = pki.make_leaf(root, ["w.example.test"])
    paths = leaf.write(tmp_path / "out", chain=[root])
    assert open(paths["chain"], "rb").read() == leaf.pem + root.pem
    assert (tmp_path / "out" / "leaf.key").stat().st_mode & 0o777 == 0o600
