"""Defective ACME inputs fail in sbc_acme's assertion phase, before the SBC changes, saying what to fix."""

import os

import pytest

from lab_play import assert_refused_in_the_assertion_phase, run_bad_inputs

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = ["a directory that is not https", "an ECDSA key", "http-01 for a wildcard name",
         "dns-01 without a server or key", "an unreachable ACME server", "a CA whose root Genesys does not list"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return run_bad_inputs(os.path.join(HERE, "..", "bad_inputs.yml"), "byoc_sbcs", "byoc-acme-sbc", "10.89.65.10",
                          str(tmp_path_factory.mktemp("bad")))


@pytest.mark.parametrize("name", CASES)
def test_bad_acme_input_is_refused_in_the_assertion_phase(report, name):
    assert_refused_in_the_assertion_phase(report, name)


def test_no_file_changed(report):
    assert report["files_unchanged"]
