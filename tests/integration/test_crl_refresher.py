"""byoc-crl-refresh, the SBC's CRL refresher, run as the timer runs it: a process with no Ansible.

An ``ansible`` package that refuses to import is put first on the path, so the test fails if the
refresher (or the module_utils it runs) ever needs Ansible. A real TLS peer and real CRLs over
HTTP on loopback; a redirecting CRL server must not be followed (the same defence as under
Ansible, from http_fetch).
"""

import json
import os
import subprocess
import sys

import pytest

from support import pki, servers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REFRESHER = os.path.join(ROOT, "roles", "kamailio_trunk", "files", "byoc-crl-refresh")
HOST = "lb01.voice.euc2.pure.cloud"


@pytest.fixture()
def crls():
    with servers.CRLServer() as server:
        yield server


def _setup(tmp_path, crls, inter_crl_name="inter.crl"):
    root = pki.make_root("refresher root")
    inter = pki.make_intermediate(root, "refresher CA", crl_urls=[crls.url("root.crl")])
    leaf = pki.make_leaf(inter, [HOST], crl_urls=[crls.url(inter_crl_name)])
    crls.put("root.crl", pki.crl_der(pki.make_crl(root)))
    crls.put("inter.crl", pki.crl_der(pki.make_crl(inter)))
    paths = leaf.write(tmp_path / "peer", chain=[inter])
    (tmp_path / "anchors.pem").write_bytes(root.pem)
    no_ansible = tmp_path / "no-ansible" / "ansible"
    no_ansible.mkdir(parents=True)
    (no_ansible / "__init__.py").write_text("raise ImportError('Ansible is not installed on this SBC')\n")
    return paths


def _run(tmp_path, port, *args):
    config = {"peers": [{"host": HOST, "connect_address": "127.0.0.1"}], "port": port,
              "ca_file": str(tmp_path / "anchors.pem"), "bundle": str(tmp_path / "peer-crls.pem"),
              "group": None, "libdir": os.path.join(ROOT, ".collections"), "timeout": 5}
    (tmp_path / "refresh.json").write_text(json.dumps(config))
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "no-ansible"))
    run = subprocess.run([sys.executable, REFRESHER, "--config", str(tmp_path / "refresh.json")] + list(args),
                         capture_output=True, text=True, env=env, timeout=60, check=False)
    return run.returncode, json.loads(run.stdout), run.stderr


def test_the_refresher_installs_the_bundle_without_ansible(tmp_path, crls):
    paths = _setup(tmp_path, crls)
    with servers.TLSServer(paths["chain"], paths["key"]) as peer:
        rc, result, err = _run(tmp_path, peer.port, "--no-reload")
        again_rc, again, again_err = _run(tmp_path, peer.port, "--no-reload")
    assert rc == 0 and result["ok"] and result["changed"], (result, err)
    assert (tmp_path / "peer-crls.pem").read_bytes().count(b"BEGIN X509 CRL") == 2
    assert again_rc == 0 and not again["changed"], again_err


def test_the_control_the_fake_ansible_does_refuse(tmp_path, crls):
    _setup(tmp_path, crls)
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "no-ansible"))
    run = subprocess.run([sys.executable, "-c", "import ansible.module_utils.urls"], capture_output=True,
                         text=True, env=env, check=False)
    assert run.returncode != 0 and "not installed on this SBC" in run.stderr


def test_a_redirecting_crl_server_is_not_followed(tmp_path, crls):
    paths = _setup(tmp_path, crls, inter_crl_name="moved.crl")
    crls.redirect("moved.crl", crls.url("inter.crl"))
    with servers.TLSServer(paths["chain"], paths["key"]) as peer:
        rc, result, err = _run(tmp_path, peer.port, "--check")
    assert rc == 1 and not result["ok"], (result, err)
    assert "redirects are not followed" in result["msg"], result["msg"]
    assert crls.hits("inter.crl") == 0
