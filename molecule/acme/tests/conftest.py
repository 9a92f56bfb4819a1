"""Hosts of the acme scenario, through testinfra's podman backend."""

import os
import sys

import pytest
import testinfra

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, ".collections"))
sys.path.insert(0, os.path.join(ROOT, "molecule", "shared", "tests"))  # lab_play, lab_held_call
ACME = os.path.join(ROOT, "lab", "state", "acme")
FQDN = "sbc.customer.example"
PEER_ADDRESS = "10.89.65.21"  # byoc-acme-peer, lb01..lb04 (molecule.yml)


@pytest.fixture(scope="session")
def sbc():
    return testinfra.get_host("podman://byoc-acme-sbc")


@pytest.fixture(scope="session")
def peer():
    return testinfra.get_host("podman://byoc-acme-peer")


@pytest.fixture(scope="session")
def dns():
    return testinfra.get_host("podman://byoc-acme-dns")


@pytest.fixture(scope="session")
def ca():
    return testinfra.get_host("podman://byoc-acme-ca")
