"""The expiry and drift watch (issue 14): playbooks/audit.yml on the SBC the dryrun scenario converged.

After conftest.py's ``runs`` (the real run converged the SBC), node_exporter is installed on the SBC
as an operator would (Debian's prometheus-node-exporter, its textfile collector); the audit runs in
check mode and for real (both must change nothing), then once more in each mode while the lab
Genesys peer serves a leaf that expires in about 10 days (restored afterwards). The metrics are
parsed with prometheus_client's parser, read back through node_exporter, and compared with the lab's
certificates and CRLs read with cryptography.
"""

import datetime
import glob
import json
import os
import re

import pytest
from cryptography import x509
from prometheus_client.parser import text_string_to_metric_families

from conftest import AUDIT, PEER, ROOT, SBC, TIMES, play, podman

PKI = os.path.join(ROOT, "lab", "state", "pki")
METRICS_FILE = "/var/lib/prometheus/node-exporter/byoc_secure_trunk.prom"
PEERS = ["lb0%d.voice.euc2.pure.cloud:5061" % n for n in (1, 2, 3, 4)]
LISTENER = "sbc.customer.example:5061"
NAME = re.compile(r"^byoc_secure_trunk_[a-z0-9_]+$")
LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _etc_kamailio():
    """Every file under /etc/kamailio with its content hash, mode, owner and mtime."""
    out = podman("exec", SBC, "sh", "-c",
                 "find /etc/kamailio -type f -exec stat -c '%n %a %U:%G %Y' {} + | sort; "
                 "find /etc/kamailio -type f -exec sha256sum {} + | sort").stdout
    assert "/etc/kamailio/byoc/tls.cfg" in out  # the converged SBC, so the comparison means something
    return out


def _metrics_on_sbc():
    return podman("exec", SBC, "cat", METRICS_FILE).stdout


def _parse(text):
    """name -> [(labels, value)], checking the text format's names, types and labels on the way."""
    out = {}
    for family in text_string_to_metric_families(text):
        assert NAME.match(family.name) and family.type == "gauge" and family.documentation, family
        for sample in family.samples:
            assert sample.name == family.name and all(LABEL.match(k) for k in sample.labels), sample
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def _words(text):
    """The output with every run of white space as one space (the YAML callback may fold long lines)."""
    return " ".join(text.split())


def _cert(path):
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificates(handle.read())


def _days(cert, now):
    return (cert.not_valid_after_utc - now).days


def _run(name, workdir, *args):
    before = _etc_kamailio()
    result = play(name, workdir, *args, playbook=AUDIT)
    result["etc_unchanged"] = _etc_kamailio() == before
    result["metrics"] = _metrics_on_sbc()
    result["stat"] = podman("exec", SBC, "stat", "-c", "%a %U", METRICS_FILE).stdout.split()
    return result


def _expiring_peer_chain(workdir):
    """A leaf for lb01..lb04 from the lab's "Genesys" issuing CA, valid 10 days, and its key."""
    from cryptography.hazmat.primitives import serialization

    from support import pki

    with open(os.path.join(PKI, "genesys-inter.crt"), "rb") as handle:
        inter_cert = x509.load_pem_x509_certificate(handle.read())
    with open(os.path.join(PKI, "genesys-inter.key"), "rb") as handle:
        inter_key = serialization.load_pem_private_key(handle.read(), None)
    inter = pki.Issued(inter_cert, inter_key)
    names = [p.split(":")[0] for p in PEERS]
    leaf = pki.make_leaf(inter, names, days=10, organization="byoc.secure_trunk lab",
                         crl_urls=["http://crl.byoc-lab.test/lab-tls-ca.crl"])
    chain, key = os.path.join(workdir, "expiring.crt"), os.path.join(workdir, "expiring.key")
    with open(chain, "wb") as handle:
        handle.write(pki.chain_pem(leaf, inter))
    with open(key, "wb") as handle:
        handle.write(leaf.key_pem)
    return chain, key, leaf.cert


def _install_peer(chain, key):
    podman("cp", chain, "%s:/etc/kamailio/lab-peer-cert.pem" % PEER)
    podman("cp", key, "%s:/etc/kamailio/lab-peer-key.pem" % PEER)
    podman("exec", PEER, "sh", "-c",
           "cd /etc/kamailio && chown root:kamailio lab-peer-cert.pem lab-peer-key.pem"
           " && chmod 0644 lab-peer-cert.pem && chmod 0640 lab-peer-key.pem"
           " && bash /etc/kamailio/lab-peer.sh restart")


@pytest.fixture(scope="session")
def node_exporter(runs):
    """Debian's node_exporter on the converged SBC, only its textfile collector, on loopback."""
    assert runs["real"]["rc"] == 0, runs["real"]["out"][-3000:]
    podman("exec", SBC, "sh", "-c",
           "printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d && "
           "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-node-exporter;"
           " rc=$?; rm -f /usr/sbin/policy-rc.d; exit $rc")
    podman("exec", SBC, "sh", "-c",
           "nohup prometheus-node-exporter --collector.disable-defaults --collector.textfile"
           " --collector.textfile.directory=%s --web.listen-address=127.0.0.1:9100"
           " >/var/log/byoc-test-node-exporter.log 2>&1 </dev/null & echo $! > /run/byoc-test-node-exporter.pid"
           % os.path.dirname(METRICS_FILE))
    yield
    podman("exec", SBC, "sh", "-c", "kill $(cat /run/byoc-test-node-exporter.pid)")


def _scrape():
    code = ("import time, urllib.request\n"
            "for _ in range(50):\n"
            "    try:\n"
            "        print(urllib.request.urlopen('http://127.0.0.1:9100/metrics', timeout=2).read().decode()); break\n"
            "    except OSError:\n"
            "        time.sleep(0.2)\n")
    return podman("exec", SBC, "python3", "-c", code).stdout


@pytest.fixture(scope="session")
def audits(runs, node_exporter, workdir):
    result = {"check": _run("audit-check", workdir, "--check", "--diff")}
    result["real"] = _run("audit", workdir)
    result["real"]["scrape"] = _scrape()
    chain, key, leaf = _expiring_peer_chain(workdir)
    try:
        _install_peer(chain, key)
        result["expiring"] = _run("audit-expiring", workdir)
        result["expiring"]["leaf"] = leaf
        result["expiring-check"] = _run("audit-expiring-check", workdir, "--check")
    finally:
        _install_peer(os.path.join(PKI, "genesys-good.crt"), os.path.join(PKI, "genesys-good.key"))
    result["restored"] = _run("audit-restored", workdir)
    print("audit wall times (s): %s" % {k: v for k, v in TIMES.items() if k.startswith("audit")})
    with open(os.path.join(workdir, "times.json"), "w") as handle:
        json.dump(TIMES, handle)
    return result


@pytest.mark.parametrize("name", ["check", "real", "restored"])
def test_the_audit_passes_and_changes_nothing_in_check_mode_and_for_real(audits, name):
    run = audits[name]
    assert run["rc"] == 0 and run["recap"].get("failed") == 0, run["out"][-4000:]
    assert run["recap"].get("changed") == 0, run["recap"]
    assert run["etc_unchanged"], "files under /etc/kamailio changed"
    assert "Every peer (proxy or Edge) and the SBC listener passed validation" in _words(run["out"]) or name == "check"
    assert run["stat"] == ["644", "root"], run["stat"]


def test_the_real_audit_lists_no_change_in_the_change_plan(audits):
    (changes,) = [json.loads(text) for n, text in audits["real"]["files"].items() if n == "%s-changes.json" % SBC]
    assert not changes["packages"] and not changes["files"] and not changes["services"], changes
    assert not changes["commands"] and not changes["others"], changes


def test_reports_and_metrics_are_written_beside_each_other(audits):
    files = audits["real"]["files"]
    assert {"%s-validation.json" % SBC, "%s-validation.xml" % SBC, "%s-metrics.prom" % SBC} <= set(files), sorted(files)
    assert files["%s-metrics.prom" % SBC] == audits["real"]["metrics"]
    report = json.loads(files["%s-validation.json" % SBC])
    assert [v["ok"] for v in report] == [True, True], report


def test_the_metrics_parse_and_match_the_lab_certificates(audits):
    metrics = _parse(audits["real"]["metrics"])
    ((labels, stamp),) = metrics["byoc_secure_trunk_audit_timestamp_seconds"]
    assert labels == {"sbc": SBC}
    now = datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc)
    assert abs((datetime.datetime.now(datetime.timezone.utc) - now).total_seconds()) < 1800
    assert metrics["byoc_secure_trunk_audit_ok"] == [({"sbc": SBC}, 1.0)]
    sbc_chain = _cert(os.path.join(PKI, "sbc.crt"))
    installed = {labels["position"]: (labels, value)
                 for labels, value in metrics["byoc_secure_trunk_sbc_certificate_days_left"]}
    assert installed["leaf"][1] == _days(sbc_chain[0], now) and installed["intermediate"][1] == _days(sbc_chain[1], now)
    assert installed["leaf"][0]["serial"] == "%X" % sbc_chain[0].serial_number
    peer_chain = _cert(os.path.join(PKI, "genesys-good.crt"))
    (root,) = _cert(os.path.join(PKI, "genesys-root.crt"))
    (public_root,) = _cert(os.path.join(PKI, "public-root.crt"))
    days = {(labels["endpoint"], labels["position"]): value
            for labels, value in metrics["byoc_secure_trunk_certificate_days_left"]}
    want = {}
    for peer in PEERS:
        want.update({(peer, "leaf"): _days(peer_chain[0], now), (peer, "intermediate"): _days(peer_chain[1], now),
                     (peer, "trust anchor"): _days(root, now)})
    want.update({(LISTENER, "leaf"): _days(sbc_chain[0], now), (LISTENER, "intermediate"): _days(sbc_chain[1], now),
                 (LISTENER, "trust anchor"): _days(public_root, now)})
    assert days == want
    compliant = metrics["byoc_secure_trunk_check_compliant"]
    assert compliant and all(value == 1 for _labels, value in compliant), compliant
    checks = {labels["check"] for labels, _value in compliant if labels["endpoint"] == LISTENER}
    assert {"handshake", "chain", "name", "dates", "policy"} <= checks, checks


def test_the_runtime_crl_next_updates_match_the_lab_crls(audits):
    metrics = _parse(audits["real"]["metrics"])
    lab = {}
    for path in glob.glob(os.path.join(PKI, "crl", "*.crl")):
        with open(path, "rb") as handle:
            crl = x509.load_der_x509_crl(handle.read())
        lab[crl.issuer.rfc4514_string()] = crl.next_update_utc.timestamp()
    seen = {labels["issuer"]: value
            for labels, value in metrics["byoc_secure_trunk_runtime_crl_next_update_timestamp_seconds"]}
    assert seen == lab, (seen, lab)
    assert "Run-time CRLs (Kamailio checks every handshake" in _words(audits["real"]["out"])


def test_node_exporter_reads_the_metrics_file(audits):
    scrape = audits["real"]["scrape"]
    assert re.search(r"^node_textfile_scrape_error 0$", scrape, re.M), scrape[-2000:]
    ours = _parse("\n".join(line for line in scrape.splitlines() if "byoc_secure_trunk_" in line) + "\n")
    assert ours["byoc_secure_trunk_audit_ok"] == [({"sbc": SBC}, 1.0)]
    assert len(ours["byoc_secure_trunk_certificate_days_left"]) == len(PEERS) * 3 + 3


@pytest.mark.parametrize("name", ["expiring", "expiring-check"])
def test_an_expiring_peer_certificate_fails_the_audit_and_shows_in_summary_and_metrics(audits, name):
    run = audits[name]
    assert run["rc"] != 0 and run["recap"].get("failed") == 1, run["out"][-4000:]
    assert run["recap"].get("changed") == 0 and run["etc_unchanged"], run["recap"]
    metrics = _parse(run["metrics"])
    stamp = metrics["byoc_secure_trunk_audit_timestamp_seconds"][0][1]
    now = datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc)
    out = _words(run["out"])
    assert out.count("inside the 30-day horizon (min_days_remaining)") >= len(PEERS), run["out"][-4000:]
    # The summary's row: endpoint, protocol, suite, group, matched root, days left, verdict.
    row = re.search(r"lb01\.voice\.euc2\.pure\.cloud:5061 TLSv1\.2 \S+ secp384r1 [^:]*? (\d+) FAIL", out)
    assert row and row.group(1) == str(_days(audits["expiring"]["leaf"], now)), run["out"][-4000:]
    assert metrics["byoc_secure_trunk_audit_ok"] == [({"sbc": SBC}, 0.0)]
    leaf = audits["expiring"]["leaf"]
    leaves = {labels["endpoint"]: value for labels, value in metrics["byoc_secure_trunk_certificate_days_left"]
              if labels["position"] == "leaf"}
    assert {peer: leaves[peer] for peer in PEERS} == {peer: _days(leaf, now) for peer in PEERS}
    assert 8 <= leaves[PEERS[0]] <= 10
    dates = {labels["endpoint"]: value for labels, value in metrics["byoc_secure_trunk_check_compliant"]
             if labels["check"] == "dates"}
    assert dates == dict({peer: 0.0 for peer in PEERS}, **{LISTENER: 1.0}), dates
    fails = dict((labels["level"], value) for labels, value in metrics["byoc_secure_trunk_defects"])
    assert fails["fail"] >= len(PEERS)


def test_the_expiring_audit_still_writes_its_reports(audits):
    files = audits["expiring"]["files"]
    junit = files["%s-validation.xml" % SBC]
    assert junit.count("inside the 30-day horizon") >= len(PEERS)
    assert files["%s-metrics.prom" % SBC] == audits["expiring"]["metrics"]


def test_the_audit_refuses_a_metrics_file_outside_a_textfile_directory(runs, workdir):
    before = _etc_kamailio()
    run = play("audit-bad-dir", workdir, "-e", "secure_trunk_audit_metrics_file=/nonexistent/dir/x.prom",
               playbook=AUDIT)
    assert run["rc"] != 0 and run["recap"].get("changed") == 0
    assert "must be an absolute path ending in .prom in an existing directory" in _words(run["out"]), run["out"][-3000:]
    assert _etc_kamailio() == before
