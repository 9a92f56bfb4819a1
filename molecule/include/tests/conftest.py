"""Hosts of the include scenario, through testinfra's podman backend."""

import os
import sys

import pytest
import testinfra

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, ".collections"))


@pytest.fixture(scope="session")
def sbc():
    return testinfra.get_host("podman://byoc-include-sbc")


@pytest.fixture(scope="session")
def genesys():
    return testinfra.get_host("podman://byoc-include-genesys")
