"""Staged Kamailio files, attacked directly: the prover must refuse what Kamailio would only log.

A bad dispatcher entry or source line does not stop Kamailio (it logs an ERROR and runs on
without that entry, so a trunk would quietly lose a proxy); a Python handler that does not load
stops it. The role proves the staged copies with `kamailio-tls-prove staged` before any live file
changes (tasks/routing.yml); these tests feed that proof broken copies of the converged SBC's
own staged files.
"""

import pytest

PROVE = "/usr/local/sbin/kamailio-tls-prove"
STAGED = "/var/lib/byoc-secure-trunk/staged"

BREAKAGES = {
    "dispatcher entry Kamailio cannot parse": (
        "dispatcher.list", "printf '1 sip:[lb01.voice.euc2.pure.cloud 0 0\\n' >> {f}", "bad uri"),
    "Python handler with a syntax error": (
        "byoc_peer_names.py", "printf 'def broken(:\\n' >> {f}", "app_python3"),
    "routing script with an unknown function": (
        "byoc-routes.cfg", "printf 'route[BYOC_LAB_BROKEN] {{ byoc_lab_no_such_function(); }}\\n' >> {f}",
        "kamailio -c refused it"),
}


def _copy_of_staged(sbc, name):
    work = "/tmp/byoc-staged-%s" % name.replace(" ", "-")
    sbc.check_output("rm -rf %s && cp -a %s %s" % (work, STAGED, work))
    # The copy's files must point at each other, not at the role's staging directory.
    sbc.check_output("find %s -maxdepth 1 -type f -exec sed -i 's#%s/#%s/#g' {} +" % (work, STAGED, work))
    return work


def test_the_converged_staged_files_pass(sbc):
    work = _copy_of_staged(sbc, "good")
    result = sbc.run("%s staged %s %s/kamailio.cfg" % (PROVE, work, work))
    sbc.run("rm -rf %s" % work)
    assert result.rc == 0, result.stdout + result.stderr
    assert "passed" in result.stdout


@pytest.mark.parametrize("case", sorted(BREAKAGES))
def test_a_broken_staged_file_is_refused(sbc, case):
    name, breaks, words = BREAKAGES[case]
    work = _copy_of_staged(sbc, "bad")
    sbc.check_output(breaks.format(f="%s/%s" % (work, name)))
    result = sbc.run("%s staged %s %s/kamailio.cfg" % (PROVE, work, work))
    sbc.run("rm -rf %s" % work)
    assert result.rc == 1, "%s passed the staged proof: %s" % (case, result.stdout)
    assert words in result.stdout, result.stdout


def test_a_recorded_set_is_not_proven_again_and_any_change_is(sbc):
    """The record that spares a re-run the proof must never let a changed set through: it names the
    fingerprint of the set that passed, and a set that differs by one byte is proven again (and
    refused when broken). The control run without the record refuses the same broken set."""
    work = _copy_of_staged(sbc, "record")
    record = "/tmp/byoc-staged-record.proven"
    cmd = "%s staged %s %s/kamailio.cfg %s" % (PROVE, work, work, record)
    try:
        sbc.check_output("rm -f %s" % record)
        first = sbc.run(cmd)
        assert first.rc == 0 and "a throwaway load passed" in first.stdout, first.stdout + first.stderr
        again = sbc.run(cmd)
        assert again.rc == 0 and "unchanged since they passed" in again.stdout, again.stdout
        recorded = sbc.check_output("cat %s" % record)
        sbc.check_output("printf '1 sip:[lb01.voice.euc2.pure.cloud 0 0\\n' >> %s/dispatcher.list" % work)
        changed = sbc.run(cmd)
        assert changed.rc == 1 and "bad uri" in changed.stdout, changed.stdout
        assert sbc.check_output("cat %s" % record) == recorded  # a refused set is never recorded
        control = sbc.run("%s staged %s %s/kamailio.cfg" % (PROVE, work, work))
        assert control.rc == 1, control.stdout
    finally:
        sbc.run("rm -rf %s %s" % (work, record))


def test_no_throwaway_kamailio_is_left_behind(sbc):
    assert sbc.run("pgrep -af 'kamailio-st[a]ged-prove'").rc == 1
