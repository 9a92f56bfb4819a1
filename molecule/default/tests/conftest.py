"""Hosts of the default scenario, through testinfra's podman backend (no Ansible round trips)."""

import os
import sys

import pytest
import testinfra

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, ".collections"))
sys.path.insert(0, os.path.join(ROOT, "molecule", "shared", "tests"))  # lab_sip

PREFIX = os.environ.get("BYOC_LAB_PREFIX", "byoc-default")
SBC_FQDN = "sbc.customer.example"


@pytest.fixture(scope="session")
def sbc():
    return testinfra.get_host("podman://%s-sbc" % PREFIX)


@pytest.fixture(scope="session")
def genesys():
    return testinfra.get_host("podman://%s-genesys" % PREFIX)


@pytest.fixture(scope="session")
def badname():
    return testinfra.get_host("podman://%s-genesys-badname" % PREFIX)


@pytest.fixture(scope="session")
def badroot():
    return testinfra.get_host("podman://%s-genesys-badroot" % PREFIX)
