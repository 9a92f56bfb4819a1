"""Defective inputs fail before the host changes, with messages naming object, defect and fix."""

import os

import pytest

from lab_play import assert_refused_in_the_assertion_phase, run_bad_inputs

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    # The play targets group sbcs: the one SBC, over SSH with the lab key (as molecule does).
    prefix = os.environ.get("BYOC_LAB_PREFIX", "byoc-default")
    address = os.environ.get("BYOC_LAB_SBC_ADDRESS", "10.89.61.10")
    return run_bad_inputs(os.path.join(HERE, "..", "bad_inputs.yml"), "sbcs", prefix + "-sbc", address,
                          str(tmp_path_factory.mktemp("bad")))


CASES = ["missing certificate", "garbled certificate", "garbled key", "mismatched key", "ECDSA certificate",
         "IP address as the FQDN", "certificate naming an IP", "expired certificate", "self-signed certificate",
         "leaf without intermediates", "unknown region",
         # Kamailio inputs (runtime hardening): injections, an empty or open allow-list, plain RTP
         "advertise with a new line", "newline inside the SBC FQDN", "customer URI with a quote",
         "customer socket with a new line", "TLS listen address with a port", "empty Genesys allow-list",
         "Genesys allow-list of everyone", "SRTP switched off"]


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_refused_in_the_assertion_phase(report, name):
    assert_refused_in_the_assertion_phase(report, name)


def test_no_file_changed(report):
    assert report["files_unchanged"]


def test_unstartable_tls_cfg_is_refused_and_the_live_one_keeps_serving(report):
    assert not report["unexpected"]
    assert "did not start" in report["proof_message"], report["proof_message"]
    assert report["live_rc"] == 0, report["live_out"]


def test_files_kamailio_refuses_never_go_live(report):
    """The new managed files are proven in the staging directory before any live one changes: a
    customer script that Kamailio refuses with them stops the run there (test_no_file_changed
    shows the live files, which this case would have rewritten, are as they were)."""
    (case,) = [c for c in report["cases"] if c["name"] == "customer script Kamailio refuses"]
    assert case["failed"], "a script Kamailio refuses was accepted"
    assert case["task"].startswith("Prove the staged Kamailio files"), case
    assert "kamailio -c refused it" in case["msg"] and "/root/byoc-lab-broken-kamailio.cfg" in case["msg"], case
    assert "byoc_lab_no_such_function" in case["msg"], case
    assert report["live_rc"] == 0, report["live_out"]


def test_kamailio_restarts_on_what_the_refused_runs_left(report):
    """A restart (reboot, crash, supervisor) after every refused change starts the proven files:
    no refused input left a file behind that the service reads (/etc/default/kamailio included)."""
    assert report["restarted_live_rc"] == 0, report["restart_out"] + report["restarted_live_out"]
