"""The one read of managed files and services (issue 12, cheap re-runs) skips a task only when its
file or service is already what the run wants: every kind of drift the read compares (content,
mode, owner or group, a missing file or directory, a stopped service) makes the task run again and
restore it, and a run with no drift changes nothing. Attacks the skip: were the read to compare
less than the task does, a drift below would survive the run."""

import os

from lab_play import run_playbook, write_inventory

HERE = os.path.dirname(os.path.abspath(__file__))
CONVERGE = os.path.join(HERE, "..", "converge.yml")
PREFIX = os.environ.get("BYOC_LAB_PREFIX", "byoc-default")
SBC_ADDRESS = os.environ.get("BYOC_LAB_SBC_ADDRESS", "10.89.61.10")

# file, how it drifts, the task that must put it back
DRIFTS = [
    ("/etc/kamailio/byoc/sbc.crt", "chmod 0666 {f}", "Install the SBC certificate chain (leaf, then intermediates)"),
    ("/etc/kamailio/byoc/peer-ca.pem", "chown root:root {f}", "Install the peer CA that replaces the DigiCert roots"),
    ("/etc/rtpengine/rtpengine.conf", "echo '# drift' >> {f}", "Render the rtpengine configuration"),
    ("/usr/local/sbin/kamailio-tls-prove", "rm -f {f}", "Install the TLS proof script"),
    ("/etc/kamailio/byoc/byoc-sources.list", "chgrp root {f}",
     "Install the source allow-lists (reloaded without a restart)"),
]


def state(sbc, path):
    out = sbc.run("stat -c '%a:%U:%G' {f} && sha256sum < {f}".format(f=path))
    return out.stdout if out.rc == 0 else "absent"


def converge(tmp_path):
    inventory = write_inventory(str(tmp_path / "hosts.yml"), "sbcs", PREFIX + "-sbc", SBC_ADDRESS,
                                {"byoc_lab_region": "euc2"})
    run = run_playbook(CONVERGE, inventory)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return run.stdout


def task_status(stdout, name):
    """changed, ok or skipping: what the named task did (ansible-playbook's default output)."""
    at = stdout.find(": %s]" % name)
    assert at >= 0, "task %r did not appear" % name
    following = stdout[at:].split("\n")[1:4]
    return next(word for line in following for word in ("changed", "ok", "skipping", "fatal") if line.startswith(word))


def test_every_drift_the_read_compares_is_put_back(sbc, tmp_path):
    before = {path: state(sbc, path) for path, _, _ in DRIFTS}
    assert "absent" not in before.values(), before
    for path, drift, _ in DRIFTS:
        sbc.check_output(drift.format(f=path))
        assert state(sbc, path) != before[path], path
    # Debian 13's rtpengine init script stops the daemon, then exits 2 ("Illegal number"): judged by status
    sbc.run("service rtpengine-daemon stop")
    assert sbc.run("service rtpengine-daemon status").rc != 0

    out = converge(tmp_path)

    for path, _, task in DRIFTS:
        assert task_status(out, task) == "changed", (task, out[-3000:])
        assert state(sbc, path) == before[path], path
    assert task_status(out, "Start rtpengine") == "changed"
    assert sbc.run("service rtpengine-daemon status").rc == 0


def test_a_run_without_drift_skips_those_tasks_and_changes_nothing(sbc, tmp_path):
    out = converge(tmp_path)
    assert "changed=0" in out, out[-3000:]
    for _, _, task in DRIFTS:
        assert task_status(out, task) == "skipping", task
    assert task_status(out, "Start rtpengine") == "skipping"


def test_rtpengine_never_offers_loopback_when_the_sbc_has_no_default_route(sbc, tmp_path):
    """No interface given and no default route: the run stops before rtpengine's configuration
    changes, instead of offering 127.0.0.1 (which Genesys cannot send media to)."""
    conf = "/etc/rtpengine/rtpengine.conf"
    before = state(sbc, conf)
    assert "interface = 127.0.0.1" not in sbc.file(conf).content_string
    route = sbc.check_output("ip -4 route show default").strip()
    assert route, "the lab SBC has a default route to remove"
    sbc.check_output("ip -4 route del default")
    try:
        inventory = write_inventory(str(tmp_path / "hosts.yml"), "sbcs", PREFIX + "-sbc", SBC_ADDRESS,
                                    {"byoc_lab_region": "euc2"})
        run = run_playbook(CONVERGE, inventory, tags="kamailio_trunk_srtp")
    finally:
        sbc.check_output("ip -4 route add %s" % route)
    assert run.returncode != 0, run.stdout[-3000:]
    said = " ".join((run.stdout + run.stderr).split())  # ansible-playbook wraps long messages
    assert "has no IPv4 default route, so rtpengine would have no address to offer" in said, run.stdout[-3000:]
    assert state(sbc, conf) == before
