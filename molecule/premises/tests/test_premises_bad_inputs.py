"""Defective BYOC Premises inputs to the roles fail before the host changes, saying what to fix."""

import os

import pytest

from lab_play import assert_refused_in_the_assertion_phase, run_bad_inputs

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return run_bad_inputs(os.path.join(HERE, "..", "bad_inputs.yml"), "byoc_sbcs", "byoc-premises-sbc", "10.89.63.10",
                          str(tmp_path_factory.mktemp("bad")))


CASES = ["an Edge certificate as the organisation CA", "no organisation CA", "a lab peer CA with premises",
         "an organisation CA with cloud", "no Edges", "an Edge twice", "an Edge by IP address",
         "Edges with cloud"]


@pytest.mark.parametrize("name", CASES)
def test_bad_premises_input_is_refused_in_the_assertion_phase(report, name):
    assert_refused_in_the_assertion_phase(report, name)


def test_no_file_changed(report):
    assert report["files_unchanged"]
