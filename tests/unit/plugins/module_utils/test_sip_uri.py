"""TGRP request-URIs (R12, R13)."""

import pytest

from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import PolicyError
from ansible_collections.byoc.secure_trunk.plugins.module_utils.sip_uri import check_hostname, is_host_name, tgrp_uri

HOST = "lb01.voice.euc2.pure.cloud"


@pytest.mark.parametrize("kwargs, expected", [
    (dict(number="+41445550100", tgrp="zrh", trunk_context="byoc.example.com"),
     "sip:+41445550100;tgrp=zrh;trunk-context=byoc.example.com@lb01.voice.euc2.pure.cloud:5061;transport=tls"),
    (dict(number="+1 (317) 555-0100", tgrp="TG-1", trunk_context="+1317"),
     "sip:+13175550100;tgrp=TG-1;trunk-context=+1317@lb01.voice.euc2.pure.cloud:5061;transport=tls"),
    (dict(number="1000#", tgrp="my trunk;1@x", trunk_context="Ctx.Example.com", user_phone=True),
     "sip:1000%23;tgrp=my%20trunk%3B1%40x;trunk-context=ctx.example.com@lb01.voice.euc2.pure.cloud:5061"
     ";transport=tls;user=phone"),
    (dict(number="+4144", tgrp="a/b&c+d$e", trunk_context="x.example", port="5062"),
     "sip:+4144;tgrp=a/b&c+d$e;trunk-context=x.example@lb01.voice.euc2.pure.cloud:5062;transport=tls"),
])
def test_tgrp_uri(kwargs, expected):
    assert tgrp_uri(host=HOST, **kwargs) == expected


def test_tgrp_and_trunk_context_sit_in_the_user_part_and_transport_in_the_host_part():
    uri = tgrp_uri("+4144", "t", "c.example", HOST)
    user, host = uri[len("sip:"):].split("@")
    assert ";tgrp=" in user and ";trunk-context=" in user and "transport" not in user
    assert host.endswith(";transport=tls") and "tgrp" not in host


@pytest.mark.parametrize("host, words", [
    ("192.0.2.10", "is an IP address"),
    ("[2001:db8::1]", "is an IP address"),
    ("_sips._tcp.voice.example.com", "underscore"),
    ("localhost", "is not a fully qualified host name"),
    ("lb01. voice.usw2.pure.cloud", "is not a fully qualified host name"),
])
def test_bad_hosts_are_refused(host, words):
    with pytest.raises(PolicyError) as err:
        tgrp_uri("+4144", "t", "c.example", host)
    assert words in str(err.value)


@pytest.mark.parametrize("kwargs, words", [
    (dict(number="call-me"), "is not a telephone number"),
    (dict(tgrp=" "), "tgrp: is empty"),
    (dict(trunk_context="not a domain"), "is neither a domain name nor a global number"),
    (dict(port=70000), "is not a TCP port"),
])
def test_bad_parts_are_refused(kwargs, words):
    args = dict(number="+4144", tgrp="t", trunk_context="c.example", host=HOST)
    args.update(kwargs)
    with pytest.raises(PolicyError) as err:
        tgrp_uri(**args)
    assert words in str(err.value)


def test_hostname_is_normalised():
    assert check_hostname("LB01.Voice.EUC2.pure.cloud.") == HOST


@pytest.mark.parametrize("value", ["sbc.example.com", "Edge1.Customer.Example", "lb01.voice.use2.us-gov-pure.cloud",
                                   "a-1.b.io", "x" * 63 + ".example.com"])
def test_host_names_as_typed_are_accepted(value):
    assert is_host_name(value)


@pytest.mark.parametrize("value", [
    "192.0.2.10", "2001:db8::1", "edge1.example.com:5061", "edge1.example.com\n", " edge1.example.com",
    "sbc\n.example.com", "sbc.example\n.com",
    "edge1.example.com.", "localhost", "_sips._tcp.example.com", "edge1..example.com", "-edge.example.com",
    "edge1.example.123", "x" * 64 + ".example.com", ("a" * 60 + ".") * 5 + "com", "", None, 5061,
    ["edge1.example.com"],
])
def test_other_values_are_not_host_names(value):
    assert not is_host_name(value)
