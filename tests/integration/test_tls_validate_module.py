"""The real module, run by ansible-playbook on localhost with the system /usr/bin/python3.

One playbook per test module run (ansible-playbook costs about a second to start): every task
registers its result with ignore_errors, and the results are written to a JSON file that the
table-driven tests below read. The managed-node interpreter is /usr/bin/python3, so on Debian 12
this proves the module on python3-cryptography 38.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from support import pki
from support.peers import HOST, Lab

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON = "/usr/bin/python3"
PLAYBOOK_BIN = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

pytestmark = pytest.mark.skipif(not (os.path.exists(PYTHON) and os.path.exists(PLAYBOOK_BIN)),
                                reason="needs /usr/bin/python3 and ansible-playbook in the venv")

FQCN = "byoc.secure_trunk.tls_validate"


def _tasks(lab, peers, files):
    good = {"host": HOST, "port": peers["good"].port, "connect_address": "127.0.0.1", "ca_file": lab.root_file}
    tasks = {
        "good": dict(good),
        "good_check_mode": dict(good, _check_mode=True),
        "good_probe": dict(good, probe_policy=True),
        "missing_intermediate": dict(good, port=peers["leaf_only"].port),
        "endpoints": {"endpoints": [{"host": HOST, "port": peers["good"].port, "connect_address": "127.0.0.1"},
                                    {"host": HOST, "port": peers["expired"].port, "connect_address": "127.0.0.1"}],
                      "ca_file": lab.root_file},
        "chain_file": {"host": HOST, "chain_file": files["good"], "ca_file": lab.root_file},
        "chain_file_wrong_name": {"host": "other.example.test", "chain_file": files["good"], "ca_file": lab.root_file},
        # The SBC's key beside its chain (preflight and sbc_identity): the pair, another leaf's key, garbage.
        "chain_file_key": {"host": HOST, "chain_file": files["good"], "ca_file": lab.root_file,
                           "private_key_file": files["good_key"]},
        "chain_file_other_key": {"host": HOST, "chain_file": files["good"], "ca_file": lab.root_file,
                                 "private_key_file": files["other_key"]},
        "chain_file_garbled_key": {"host": HOST, "chain_file": files["good"], "ca_file": lab.root_file,
                                   "private_key_content": "-----BEGIN PRIVATE KEY-----\nnot a key\n"},
        "ip_host": {"host": "127.0.0.1", "port": peers["good"].port, "ca_file": lab.root_file},
        "host_and_endpoints": {"host": HOST, "endpoints": [{"host": HOST}], "ca_file": lab.root_file},
        "no_trust": {"host": HOST, "port": peers["good"].port, "connect_address": "127.0.0.1"},
        "region_trust": dict(good, ca_file=None, region="euc2"),
        "refused": dict(good, port=files["closed_port"]),
    }
    plays = []
    for name, args in tasks.items():
        check_mode = args.pop("_check_mode", False)
        task = {"name": "Validate %s" % name.replace("_", " "), FQCN: {k: v for k, v in args.items() if v is not None},
                "register": name, "ignore_errors": True}
        if check_mode:
            task["check_mode"] = True
        plays.append(task)
    names = list(tasks)
    plays.append({"name": "Record the python the module ran on",
                  "ansible.builtin.command": {"argv": [PYTHON, "-c", "import cryptography, sys; "
                                                       "print(sys.version.split()[0], cryptography.__version__)"]},
                  "register": "interpreter", "changed_when": False})
    content = "{{ {%s} | to_json }}" % ", ".join("'%s': %s" % (n, n) for n in names + ["interpreter"])
    plays.append({"name": "Write the results",
                  "ansible.builtin.copy": {"content": content, "dest": files["out"], "mode": "0600"}})
    return [{"name": "Run tls_validate", "hosts": "localhost", "gather_facts": False, "tasks": plays}]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("module")
    with Lab(tmp / "lab") as lab:
        peers = {
            "good": lab.serve(lab.leaf()),
            "leaf_only": lab.serve(lab.leaf(), chain=[]),
            "expired": lab.serve(lab.leaf(not_before=pki.now() - pki.datetime.timedelta(days=400),
                                          not_after=pki.now() - pki.datetime.timedelta(days=3))),
        }
        from support.servers import closed_port
        files = {"good": peers["good"].paths["chain"], "good_key": peers["good"].paths["key"],
                 "other_key": str(tmp / "other.key"), "out": str(tmp / "results.json"),
                 "closed_port": closed_port()}
        # The lab's leaves share one cached key: another leaf's key is a fresh one.
        other = pki.make_key(fresh=True)
        (tmp / "other.key").write_bytes(other.private_bytes(
            pki.serialization.Encoding.PEM, pki.serialization.PrivateFormat.PKCS8, pki.serialization.NoEncryption()))
        playbook = tmp / "play.yml"
        playbook.write_text(json.dumps(_tasks(lab, peers, files)))  # JSON is YAML
        env = dict(os.environ,
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
                   ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
                   ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-local"),
                   ANSIBLE_REMOTE_TEMP=str(tmp / "ansible-remote"),
                   ANSIBLE_HOME=str(tmp / "ansible-home"),
                   ANSIBLE_NOCOLOR="1")
        proc = subprocess.run([PLAYBOOK_BIN, "-i", "localhost,", "-c", "local", "-e",
                               "ansible_python_interpreter=%s" % PYTHON, str(playbook)],
                              capture_output=True, text=True, env=env, timeout=300, check=False)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        with open(files["out"]) as handle:
            data = json.load(handle)
        data["_stdout"] = proc.stdout
        data["_peers"] = {k: v.port for k, v in peers.items()}
        yield data


@pytest.mark.parametrize("task, failed, words", [
    ("good", False, "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384 on secp384r1, chain to byoc lab root CA"),
    ("good_check_mode", False, "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384 on secp384r1"),
    ("good_probe", False, "chain to byoc lab root CA"),
    ("missing_intermediate", True, "incomplete chain: the issuer of CN=sbc.example.test (CN=byoc lab issuing CA) "
                                   "was not sent and is not a trust anchor"),
    ("endpoints", True, "1 defect on 1 of 2 endpoints"),
    ("chain_file", False, "chain for sbc.example.test, chain to byoc lab root CA"),
    ("chain_file_wrong_name", True, "does not name other.example.test"),
    ("chain_file_key", False, "chain for sbc.example.test, chain to byoc lab root CA"),
    ("chain_file_other_key", True, "does not match the certificate's public key; install the key the certificate "
                                   "was issued for"),
    ("chain_file_garbled_key", True, "private_key_content: is not a readable unencrypted PEM private key"),
    ("ip_host", True, "host 127.0.0.1: is an IP address, and certificates are validated by name (R9)"),
    ("host_and_endpoints", True, "parameters are mutually exclusive: host|endpoints"),
    ("no_trust", True, "trust anchors: none given; give exactly one of ca_file"),
    ("region_trust", True, "was not sent and is not a trust anchor"),
    ("refused", True, "connection refused"),
])
def test_module_outcome(results, task, failed, words):
    res = results[task]
    assert bool(res.get("failed")) is failed, res.get("msg")
    assert res.get("changed") is False
    assert words in res["msg"], res["msg"]
    # ansible-core 2.19 adds "exception: (traceback unavailable)" to every fail_json: no traceback is the point.
    assert "Traceback" not in str(res.get("exception", "")) and "Traceback" not in res["msg"]
    assert not res.get("skipped")


def test_good_result_is_complete(results):
    res = results["good"]
    endpoint = res["endpoints"][0]
    assert endpoint["checks"] == {"handshake": "pass", "chain": "pass", "name": "pass", "dates": "pass", "key": "pass",
                                  "revocation": "pass", "policy": "skipped"}
    assert endpoint["cipher_iana"] == "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
    assert [c["role"] for c in endpoint["chain"]] == ["leaf", "intermediate", "trust anchor"]
    assert all(len(c["sha256"]) == 64 and c["not_after"] for c in endpoint["chain"])
    assert endpoint["matched_root"]["name"] == "byoc lab root CA"
    assert endpoint["san"] == ["DNS:sbc.example.test"]
    assert [c["status"] for c in endpoint["crl"]] == ["good", "good"]
    assert res["failures"] == [] and res["trust"]["source"] == "ca_file"
    assert results["good_check_mode"]["endpoints"][0]["checks"] == endpoint["checks"]
    assert results["good_probe"]["endpoints"][0]["checks"]["policy"] == "pass"


def test_failures_are_returned_with_every_endpoint(results):
    res = results["endpoints"]
    assert [e["ok"] for e in res["endpoints"]] == [True, False]
    (failure,) = res["failures"]
    assert failure["check"] == "dates" and failure["endpoint"] == "%s:%d" % (HOST, results["_peers"]["expired"])
    assert failure["defect"].startswith("certificate expired on") and failure["fix"]


def test_region_trust_reports_the_pinned_roots(results):
    trust = results["region_trust"]["trust"]
    assert trust["source"] == "region" and trust["region"] == "euc2"
    assert [a["name"] for a in trust["anchors"]] == ["DigiCert Global Root G2", "DigiCert Global Root G3"]


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="Debian only")
def test_ran_on_the_system_python(results):
    version, crypto = results["interpreter"]["stdout"].split()
    expected = subprocess.run([PYTHON, "-c", "import cryptography; print(cryptography.__version__)"],
                              capture_output=True, text=True, check=False).stdout.strip()
    assert crypto == expected
    assert "Validate good" in results["_stdout"]
