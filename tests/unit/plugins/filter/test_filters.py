"""The filter adapters: policy errors become AnsibleFilterError, values come from the core."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.byoc.secure_trunk.plugins.filter import openssl_ciphers, sip_uri, subject_hash
from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy
from ansible_collections.byoc.secure_trunk.plugins.module_utils.roots import bundled


def test_filters_are_registered_under_their_names():
    assert set(openssl_ciphers.FilterModule().filters()) == {"openssl_ciphers"}
    assert set(subject_hash.FilterModule().filters()) == {"subject_hash"}
    assert set(sip_uri.FilterModule().filters()) == {"sip_uri"}


@pytest.mark.parametrize("spec", [None, "", "byoc-2019", "byoc-2025"])
def test_openssl_ciphers(spec):
    assert openssl_ciphers.openssl_ciphers(spec) == policy.openssl_cipher_string(spec or None)


@pytest.mark.parametrize("call", [
    lambda: openssl_ciphers.openssl_ciphers(["TLS_AES_128_GCM_SHA256"]),
    lambda: subject_hash.subject_hash("garbage"),
    lambda: sip_uri.sip_uri("+4144", tgrp="t", trunk_context="c.example", host="10.0.0.1"),
])
def test_errors_surface_as_filter_errors(call):
    with pytest.raises(AnsibleFilterError):
        call()


def test_subject_hash_of_a_root():
    assert subject_hash.subject_hash(bundled(policy.ROOTS["ev"]).pem.decode()) == "244b5494"


def test_the_host_name_test_is_registered_and_strict():
    from ansible_collections.byoc.secure_trunk.plugins.test import host_name

    tests = host_name.TestModule().tests()
    assert set(tests) == {"host_name"}
    assert tests["host_name"]("edge1.example.com") and not tests["host_name"]("edge1.example.com\n")
