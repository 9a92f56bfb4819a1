"""Inputs rendered into Kamailio's files: each injection or malformed value is refused by name."""

import pytest

from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import PolicyError
from ansible_collections.byoc.secure_trunk.plugins.module_utils.sbc_inputs import (
    edge_list,
    input_errors,
    source_networks,
)

GOOD = {
    "kamailio_trunk_tls_advertise": "",
    "kamailio_trunk_tls_listen_address": "0.0.0.0",
    "kamailio_trunk_customer_uri": "sip:127.0.0.1:5070",
    "kamailio_trunk_customer_listen": ["udp:127.0.0.1:5060", "tcp:[2001:db8::1]:5060"],
    "kamailio_trunk_customer_sources": ["127.0.0.1/32", "192.0.2.0/24"],
    "kamailio_trunk_genesys_sources": ["198.51.100.7", "2001:db8:1::/48"],
    "kamailio_trunk_certificate_file": "/etc/kamailio/byoc/sbc.crt",
    "kamailio_trunk_private_key_file": "/etc/kamailio/byoc/sbc.key",
    "kamailio_trunk_ca_file": "/etc/kamailio/byoc/roots/byoc-digicert-roots.pem",
    "kamailio_trunk_byoc_dir": "/etc/kamailio/byoc",
    "kamailio_trunk_config_dir": "/etc/kamailio",
    "kamailio_trunk_include_cfg": "/etc/kamailio/kamailio.cfg",
    "kamailio_trunk_rtpengine_interface": "internal/10.0.0.2!192.0.2.10",
}


def test_the_defaults_and_good_values_pass():
    assert input_errors(GOOD) == []
    assert input_errors(dict(GOOD, kamailio_trunk_tls_advertise="sbc.example.com",
                             kamailio_trunk_customer_uri="sip:pbx.customer.example:5060;transport=tcp",
                             kamailio_trunk_rtpengine_interface="")) == []


@pytest.mark.parametrize("name, value", [
    ("kamailio_trunk_tls_advertise", "sbc.example.com\nlisten=udp:0.0.0.0:5080"),
    ("kamailio_trunk_tls_advertise", "sbc\n.example.com"),
    ("kamailio_trunk_tls_advertise", "192.0.2.10"),
    ("kamailio_trunk_tls_advertise", "sbc.example.com:5061"),
    ("kamailio_trunk_tls_listen_address", "0.0.0.0:5061"),
    ("kamailio_trunk_tls_listen_address", "sbc.example.com"),
    ("kamailio_trunk_tls_listen_address", "0.0.0.0\n"),
    ("kamailio_trunk_customer_uri", 'sip:127.0.0.1:5070";\nroute(EVIL);#'),
    ("kamailio_trunk_customer_uri", "sip:127.0.0.1:5070\n"),
    ("kamailio_trunk_customer_uri", "sips:127.0.0.1"),
    ("kamailio_trunk_customer_uri", "sip:127.0.0.1:99999"),
    ("kamailio_trunk_customer_uri", "sip:user@127.0.0.1"),
    ("kamailio_trunk_customer_listen", ["udp:127.0.0.1:5060\nlisten=tcp:0.0.0.0:5060"]),
    ("kamailio_trunk_customer_listen", ["tls:127.0.0.1:5061"]),
    ("kamailio_trunk_customer_listen", "udp:127.0.0.1:5060"),
    ("kamailio_trunk_customer_listen", []),
    ("kamailio_trunk_customer_sources", ["0.0.0.0/0"]),
    ("kamailio_trunk_customer_sources", ["10.0.0.1/24"]),
    ("kamailio_trunk_genesys_sources", "198.51.100.0/24"),
    ("kamailio_trunk_genesys_sources", ["lb01.voice.euc2.pure.cloud"]),
    ("kamailio_trunk_genesys_sources", ["198.51.100.0/24\n"]),
    ("kamailio_trunk_certificate_file", '/etc/kamailio/byoc/sbc.crt"\nmethod = SSLv23'),
    ("kamailio_trunk_byoc_dir", "etc/kamailio/byoc"),
    ("kamailio_trunk_ca_file", "/etc/kamailio/my roots.pem"),
    ("kamailio_trunk_rtpengine_interface", "eth0\ninterface=evil"),
])
def test_each_bad_value_is_named_with_its_fix(name, value):
    errors = input_errors(dict(GOOD, **{name: value}))
    assert len(errors) == 1, errors
    assert errors[0].startswith(name), errors
    assert "; " in errors[0]  # object: defect; fix
    assert "\n" not in errors[0]  # the bad value is shown escaped, never as a new line


def test_source_networks_are_normalised_in_order_without_duplicates():
    assert source_networks(["192.0.2.7", "198.51.100.0/24", "192.0.2.7/32", "2001:db8::/32"]) == [
        "192.0.2.7/32", "198.51.100.0/24", "2001:db8::/32"]


@pytest.mark.parametrize("value, words", [
    (["10.0.0.1/24"], "host bits"),
    (["::/0"], "allows every address"),
    ("10.0.0.0/8", "is not a list"),
    ([" 10.0.0.1"], "is not an IP address"),
    ([None], "is not an IP address"),
])
def test_bad_source_networks_are_refused(value, words):
    with pytest.raises(PolicyError) as err:
        source_networks(value)
    assert words in str(err.value)


@pytest.mark.parametrize("value, edges", [
    (["edge1.example.com", "edge2.example.com"], ["edge1.example.com", "edge2.example.com"]),
    ("edge1.example.com, edge2.example.com,", ["edge1.example.com", "edge2.example.com"]),  # -e, an AWX text field
    ([], []),
])
def test_edge_list_reads_a_list_or_a_comma_separated_string(value, edges):
    assert edge_list(value, "secure_trunk_edges", 5061) == {"edges": edges, "errors": []}


@pytest.mark.parametrize("value, words", [
    (["192.0.2.10"], 'secure_trunk_edges ["192.0.2.10"]: not fully qualified host names'),
    (["edge1.example.com:5061"], "give each Edge's FQDN only, the port is 5061"),
    (["edge1.example.com\n"], 'secure_trunk_edges ["edge1.example.com\\n"]: not fully qualified host names'),
    (["edge1.example.com", "EDGE1.Example.com"], "lists an Edge twice; list each once"),
])
def test_edge_list_names_each_defect_and_its_fix(value, words):
    errors = edge_list(value, "secure_trunk_edges", 5061)["errors"]
    assert len(errors) == 1 and words in errors[0], errors
