"""Hosts of the premises scenario, through testinfra's podman backend."""

import os
import sys

import pytest
import testinfra

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, ".collections"))
sys.path.insert(0, os.path.join(ROOT, "molecule", "shared", "tests"))  # lab_sip
PKI = os.path.join(ROOT, "lab", "state", "pki")
REPORTS = os.path.join(ROOT, "lab", "state", "premises-reports")


@pytest.fixture(scope="session")
def sbc():
    return testinfra.get_host("podman://byoc-premises-sbc")


@pytest.fixture(scope="session")
def edge():
    return testinfra.get_host("podman://byoc-premises-edge")


@pytest.fixture(scope="session")
def rogue():
    return testinfra.get_host("podman://byoc-premises-rogue")
