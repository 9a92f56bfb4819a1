"""The BYOC Premises preflight of the real playbooks/secure_trunk.yml (``--tags preflight``, localhost).

Every task of the preflight runs on the controller, so these runs touch nothing but tmp_path. The PKI is
built here (never lab/state): a "public" root with an issuing CA and the SBC leaf, an organisation CA,
an Edge leaf it signs, and an expired organisation CA. The Platform API is the loopback stand-in.
"""

import datetime
import json
import os
import re
import subprocess

import pytest
import yaml
from cryptography.hazmat.primitives import hashes

from ansible_collections.byoc.secure_trunk.plugins.module_utils.policy import get_region
from helpers import ROOT, ansible_env
from support import pki
from support.genesys_standin import GenesysStandIn, authority

PLAYBOOK = os.path.join(ROOT, "playbooks", "secure_trunk.yml")
PREFLIGHT = os.path.join(ROOT, "roles", "secure_trunk", "tasks", "preflight.yml")
ROLE = "byoc.secure_trunk.secure_trunk : "
GENESYS_ENV = ("GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_SECRET", "GENESYSCLOUD_REGION")

ASSERT_TASK = "Assert the inputs of the product (BYOC Cloud or BYOC Premises, R16)"
FETCH_TASK = "Fetch and check the organisation CA"
STAGE_TASK = "Stage a scratch file for the organisation CA"
FACT_TASK = "Hand the checked organisation CA to the identity role"
REPORT_TASK = "Report the organisation CA the Edges are trusted by"
PEERS_TASK = "Name the peers the SBC trunks to"

SBC_FQDN = "sbc.customer.example"
EDGES = ["edge1.customer.example", "Edge2.customer.example"]
NOW = pki.now()
DAY = datetime.timedelta(days=1)

PUBLIC_ROOT = pki.make_root("Test public Root", fresh_key=True)
PUBLIC_INTER = pki.make_intermediate(PUBLIC_ROOT, "Test public TLS CA")
SBC = pki.make_leaf(PUBLIC_INTER, [SBC_FQDN])
ORG_CA = pki.make_root("Test organisation CA", fresh_key=True)
OTHER_ORG_CA = pki.make_root("Test second organisation CA", fresh_key=True)
PHONE_CA = pki.make_root("Test phone provisioning CA", fresh_key=True)
EDGE = pki.make_leaf(ORG_CA, [e.lower() for e in EDGES])
EXPIRED = pki.make_root("Test old organisation CA", not_before=NOW - 900 * DAY, not_after=NOW - DAY)


def sha256(issued):
    return issued.cert.fingerprint(hashes.SHA256()).hex().upper()


def _task_names(tasks):
    for task in tasks:
        if "name" in task:
            yield task["name"]
        for key in ("block", "rescue", "always"):
            yield from _task_names(task.get(key, ()))


with open(PREFLIGHT) as _handle:
    PREFLIGHT_TASKS = {ROLE + name for name in _task_names(yaml.safe_load(_handle))}
PREFLIGHT_TASKS.add(ROLE + "Validating arguments against arg spec 'preflight' - "
                           "Check the trunk inputs and the SBC certificate before any host changes")


# ------------------------------------------------------------------ the runner


class Run:
    """One ansible-playbook run: rc, raw stdout/stderr and the json callback's result."""

    def __init__(self, proc):
        self.rc, self.stdout, self.stderr = proc.returncode, proc.stdout, proc.stderr
        try:
            self.result = json.loads(proc.stdout)
        except ValueError:
            raise AssertionError("no JSON from ansible-playbook:\n%s\n%s" % (proc.stdout, proc.stderr)) from None

    def __repr__(self):  # what pytest shows when an assert on the run fails
        return "Run(rc=%s, failed=%r)" % (self.rc, self.failed_messages() if self.rc else None)

    @property
    def tasks(self):
        return [(task["task"]["name"], task["hosts"]["localhost"])
                for play in self.result["plays"] for task in play["tasks"]]

    def task(self, name):
        """The localhost result of the one run of the preflight task NAME."""
        (found,) = [host for task_name, host in self.tasks if task_name == ROLE + name]
        return found

    @property
    def stats(self):
        return self.result["stats"]["localhost"]

    def failure(self):
        """(name, result) of the one failed task."""
        (failed,) = [(name, host) for name, host in self.tasks if host.get("failed")]
        return failed

    def failed_messages(self):
        name, host = self.failure()
        items = [item["msg"] for item in host.get("results", ()) if item.get("failed")]
        return items or [host.get("msg")]


def run_preflight(extra_vars, env=None):
    """The real playbook, preflight phase only, with GENESYSCLOUD_* from the test's env only."""
    cmd = ["ansible-playbook", "-i", "localhost,", "-c", "local", PLAYBOOK, "--tags", "preflight",
           "-e", "secure_trunk_hosts=localhost", "-e", "ansible_python_interpreter=/usr/bin/python3",
           "-e", json.dumps(extra_vars)]
    environment = ansible_env()
    for name in GENESYS_ENV:
        environment.pop(name, None)
    environment.update(env or {})
    proc = subprocess.run(cmd, capture_output=True, text=True, env=environment, timeout=300, check=False)
    return Run(proc)


def assert_refused_in_preflight(run, task, *fragments):
    """rc != 0, the one failure is the preflight task TASK, and its one message carries every fragment."""
    assert run.rc != 0, run
    name, _unused = run.failure()
    assert name in PREFLIGHT_TASKS and name == ROLE + task, name
    assert run.stats["failures"] == 1 and run.stats["changed"] == 0
    (message,) = run.failed_messages()
    for fragment in fragments:
        assert fragment in message, message
    assert "Traceback" not in message
    return message


# ------------------------------------------------------------------ inputs


@pytest.fixture
def pki_files(tmp_path):
    directory = tmp_path / "pki"
    directory.mkdir()
    paths = {
        "sbc": SBC.write(directory, "sbc", chain=[PUBLIC_INTER])["chain"],
        "sbc_key": str(directory / "sbc.key"),
        "public_root": PUBLIC_ROOT.write(directory, "public-root")["cert"],
        "org_ca_pem": ORG_CA.write(directory, "org-ca")["cert"],
        "org_ca_der": str(directory / "org-ca.der"),
        "edge": EDGE.write(directory, "edge")["cert"],
        "expired": EXPIRED.write(directory, "expired-org-ca")["cert"],
    }
    (directory / "org-ca.der").write_bytes(ORG_CA.der)
    return paths


def cloud_vars(files, **overrides):
    extra = {
        "secure_trunk_region": "euc2",
        "secure_trunk_sbc_fqdn": SBC_FQDN,
        "secure_trunk_tgrp": "test-trunk",
        "secure_trunk_trunk_context": "byoc.customer.example",
        "secure_trunk_certificate_src": files["sbc"],
        "secure_trunk_private_key_src": files["sbc_key"],
        "secure_trunk_sbc_ca_src": files["public_root"],
    }
    extra.update(overrides)
    return extra


def premises_vars(files, **overrides):
    extra = {"secure_trunk_product": "premises", "secure_trunk_edges": list(EDGES),
             "secure_trunk_org_ca_src": files["org_ca_pem"]}
    extra.update(overrides)
    return cloud_vars(files, **extra)


def organisation(*extra):
    """A premises organisation's listing: a customer CA for phones, then the managed SIP authorities."""
    return [authority(PHONE_CA, type="REMOTE", services=["PROVISION_PHONE"]), authority(ORG_CA), *extra]


def api_vars(api, with_credentials=True, **overrides):
    extra = {"secure_trunk_genesys_api_base_url": api.base_url, "secure_trunk_genesys_login_base_url": api.base_url,
             "secure_trunk_genesys_ca_path": api.ca_file}
    if with_credentials:
        extra.update(secure_trunk_genesys_client_id=api.client_id, secure_trunk_genesys_client_secret=api.client_secret)
    extra.update(overrides)
    return extra


def assert_checked_org_ca(run, issued, source, authority_name=None):
    """Preflight passed, reported the CA with its SHA-256 and handed its PEM on as secure_trunk_org_ca_pem."""
    assert run.rc == 0, run
    assert run.stats["failures"] == 0 and run.stats["changed"] == 0
    fetched = run.task(FETCH_TASK)
    assert fetched["sha256"] == sha256(issued) and fetched["source"] == source
    label = source if authority_name is None else "%s, %s" % (source, authority_name)
    message = run.task(REPORT_TASK)["msg"]
    match = re.fullmatch(r"Organisation CA (.+) \((.+)\): SHA-256 ([0-9A-F]{64}), (\d+) days left", message)
    assert match, message
    assert match.groups()[:3] == (issued.cert.subject.rfc4514_string(), label, sha256(issued)), message
    assert 3640 <= int(match.group(4)) <= 3660
    # the PEM of that CA (one certificate), under the module's two comment lines
    assert run.task(FACT_TASK)["ansible_facts"]["secure_trunk_org_ca_pem"] == (
        "# Genesys Cloud organisation certificate authority: %s\n# SHA-256 %s\n%s"
        % (authority_name or issued.common_name, sha256(issued), issued.pem.decode("ascii")))
    # the Edges go to the peers lower-cased; the scratch copy of the CA is gone
    assert run.task(PEERS_TASK)["ansible_facts"]["__secure_trunk_peers"] == [e.lower() for e in EDGES]
    assert not os.path.exists(run.task(STAGE_TASK)["path"])


def assert_no_secrets(run, api, *secrets):
    output = run.stdout + run.stderr
    for secret in (api.client_secret, *secrets):
        assert secret not in output
    for token in api.issued_tokens:
        assert token not in output


# ------------------------------------------------------------------ success


@pytest.mark.parametrize("form", ["pem-file", "der-file", "content"])
def test_org_ca_from_a_file_or_content_is_checked_reported_and_handed_on(pki_files, form):
    if form == "content":
        extra = premises_vars(pki_files, secure_trunk_org_ca_src="", secure_trunk_org_ca_content=ORG_CA.pem.decode())
    else:
        extra = premises_vars(pki_files, secure_trunk_org_ca_src=pki_files["org_ca_" + form[:3]])
    run = run_preflight(extra)
    assert_checked_org_ca(run, ORG_CA, "content" if form == "content" else "src")
    assert run.task(FETCH_TASK)["api"] is None


def test_edges_as_a_comma_separated_string_are_read_as_a_list(pki_files):
    # What -e secure_trunk_edges=a,b or an AWX survey text field hands in; argument specs accept it too.
    run = run_preflight(premises_vars(pki_files, secure_trunk_edges="Edge1.customer.example, edge2.customer.example"))
    assert run.rc == 0, run
    assert run.task("Read the Edges as a list")["ansible_facts"]["secure_trunk_edge_list"] == [
        "Edge1.customer.example", "edge2.customer.example"]
    assert run.task(PEERS_TASK)["ansible_facts"]["__secure_trunk_peers"] == [
        "edge1.customer.example", "edge2.customer.example"]


@pytest.mark.parametrize("creds", ["vars", "env", "authority-name"])
def test_org_ca_from_the_platform_api(pki_files, tmp_path, creds):
    extra_authority = [authority(OTHER_ORG_CA, name="Second SIP CA")] if creds == "authority-name" else []
    listing = organisation(*extra_authority)
    with GenesysStandIn(tmp_path / "standin", listing, page_size=1) as api:
        env = {}
        if creds == "env":
            extra = api_vars(api, with_credentials=False)
            env = {"GENESYSCLOUD_OAUTHCLIENT_ID": api.client_id, "GENESYSCLOUD_OAUTHCLIENT_SECRET": api.client_secret}
        elif creds == "authority-name":
            extra = api_vars(api, secure_trunk_org_ca_authority_name="Second SIP CA")
        else:
            extra = api_vars(api)
        run = run_preflight(premises_vars(pki_files, secure_trunk_org_ca_src="", **extra), env=env)
    expected, name = (OTHER_ORG_CA, "Second SIP CA") if creds == "authority-name" else (ORG_CA, ORG_CA.common_name)
    assert_checked_org_ca(run, expected, "api", name)
    fetched = run.task(FETCH_TASK)
    assert fetched["authority"]["name"] == name and fetched["api"]["pages"] == len(listing)
    assert fetched["invocation"]["module_args"]["client_secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert api.issued_tokens  # the API was really asked
    assert_no_secrets(run, api)


@pytest.mark.parametrize("product", [None, "cloud"])
def test_a_cloud_run_without_premises_inputs_still_passes(pki_files, product):
    extra = cloud_vars(pki_files, secure_trunk_peer_ca_src=[pki_files["public_root"]])
    if product:
        extra["secure_trunk_product"] = product
    run = run_preflight(extra)
    assert run.rc == 0, run
    assert run.stats["failures"] == 0 and run.stats["changed"] == 0
    checks = run.task(ASSERT_TASK)
    assert not checks.get("failed") and len(checks["results"]) == 7  # the Edge list: one check
    assert {item["msg"] for item in checks["results"]} == {"All assertions passed"}
    assert run.task(PEERS_TASK)["ansible_facts"]["__secure_trunk_peers"] == list(get_region("euc2").endpoints)
    for skipped in (STAGE_TASK, FETCH_TASK, FACT_TASK, REPORT_TASK):
        assert run.task(skipped).get("skipped") is True, skipped


# ------------------------------------------------------------------ refusals


NOTHING = "; nothing was changed"


def _refusal(name, overrides, *fragments, product="premises", marks=()):
    return pytest.param(product, overrides, fragments, id=name, marks=marks)


@pytest.mark.parametrize("product, overrides, fragments", [
    _refusal("empty-edges", {"secure_trunk_edges": []},
             "secure_trunk_edges: is empty but secure_trunk_product is premises",
             "list the FQDNs of the Genesys Cloud Edges the SBC trunks to"),
    _refusal("ip-edge", {"secure_trunk_edges": ["edge1.customer.example", "192.0.2.10"]},
             'secure_trunk_edges ["192.0.2.10"]: not fully qualified host names',
             "give each Edge's FQDN only, the port is 5061"),
    _refusal("edge-with-port", {"secure_trunk_edges": ["edge1.customer.example:5061"]},
             'secure_trunk_edges ["edge1.customer.example:5061"]: not fully qualified host names',
             "give each Edge's FQDN only, the port is 5061"),
    _refusal("edge-with-trailing-newline", {"secure_trunk_edges": ["edge1.customer.example\n"]},
             'secure_trunk_edges ["edge1.customer.example\\n"]: not fully qualified host names',
             "give each Edge's FQDN only, the port is 5061"),  # a YAML block scalar or a survey textarea adds it
    _refusal("duplicate-edges-in-two-cases", {"secure_trunk_edges": ["edge1.customer.example",
                                                                     "EDGE1.Customer.Example"]},
             'secure_trunk_edges ["edge1.customer.example", "EDGE1.Customer.Example"]: lists an Edge twice',
             "list each once"),
    _refusal("edges-with-cloud", {"secure_trunk_edges": ["edge1.customer.example"]},
             "secure_trunk_edges: is set but secure_trunk_product is cloud",
             "set secure_trunk_product: premises, or remove secure_trunk_edges", product="cloud"),
    _refusal("org-ca-with-cloud", {"secure_trunk_org_ca_src": "org_ca_pem"},
             "secure_trunk_org_ca_*: an organisation CA is given but secure_trunk_product is cloud",
             "set secure_trunk_product: premises, or remove them", product="cloud"),
    _refusal("peer-ca-with-premises", {"secure_trunk_peer_ca_src": ["public_root"]},
             "secure_trunk_peer_ca_src: is set but secure_trunk_product is premises",
             "remove it (give the CA as secure_trunk_org_ca_src)"),
    _refusal("src-and-content", {"secure_trunk_org_ca_content": ORG_CA.pem.decode()},
             "secure_trunk_org_ca_src and secure_trunk_org_ca_content: both are set",
             "give one, or neither to fetch the organisation CA from the Genesys Cloud Platform API"),
    _refusal("no-source-no-credentials", {"secure_trunk_org_ca_src": ""},
             "the organisation CA for the Edges: no source is given",
             "set secure_trunk_org_ca_src (the CA downloaded from Genesys Cloud",
             "secure_trunk_genesys_client_id and secure_trunk_genesys_client_secret"),
])
def test_inputs_are_refused_with_the_fix(pki_files, product, overrides, fragments):
    def resolve(value):  # names of files in the PKI fixture -> their paths
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return pki_files.get(value, value) if isinstance(value, str) else value

    overrides = {k: resolve(v) for k, v in overrides.items()}
    if product == "premises":
        extra = premises_vars(pki_files, **overrides)
    else:
        extra = cloud_vars(pki_files, secure_trunk_product=product, **overrides)
    run = run_preflight(extra)
    message = assert_refused_in_preflight(run, ASSERT_TASK, *fragments)
    assert message.endswith(NOTHING)
    assert run.task(ASSERT_TASK)["msg"] == "One or more items failed"


@pytest.mark.parametrize("bad", ["edge-leaf", "expired"])
def test_a_defective_org_ca_is_refused_with_the_fix(pki_files, bad):
    src = pki_files["edge" if bad == "edge-leaf" else "expired"]
    run = run_preflight(premises_vars(pki_files, secure_trunk_org_ca_src=src))
    if bad == "edge-leaf":
        fragments = ("%s (%s): is not a CA certificate (basicConstraints CA:TRUE is false)"
                     % (src, EDGE.cert.subject.rfc4514_string()),
                     "give the organisation's certificate authority, not an Edge's or the SBC's server certificate")
    else:
        cert = EXPIRED.cert
        not_after = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after  # cryptography < 42
        not_after = not_after.strftime("%Y-%m-%d %H:%M:%SZ")
        fragments = ("%s (%s): expired on %s (notAfter)" % (src, EXPIRED.cert.subject.rfc4514_string(), not_after),
                     "fetch the organisation's current authority again")
    assert_refused_in_preflight(run, FETCH_TASK, *fragments)
    assert not os.path.exists(run.task(STAGE_TASK)["path"])  # the always: cleanup ran


def test_a_wrong_client_secret_is_refused_with_the_fix_and_never_shown(pki_files, tmp_path):
    with GenesysStandIn(tmp_path / "standin", organisation()) as api:
        extra = api_vars(api, secure_trunk_genesys_client_secret="not-the-secret-" + api.client_secret[:8])
        run = run_preflight(premises_vars(pki_files, secure_trunk_org_ca_src="", **extra))
    message = assert_refused_in_preflight(
        run, FETCH_TASK, "%s/oauth/token: the OAuth client was refused (401 invalid_client" % api.base_url,
        "check client_id and client_secret (or GENESYSCLOUD_OAUTHCLIENT_ID/_SECRET)")
    assert run.task(FETCH_TASK)["error"]["fix"] in message
    assert not api.issued_tokens
    assert_no_secrets(run, api, extra["secure_trunk_genesys_client_secret"])
    assert not os.path.exists(run.task(STAGE_TASK)["path"])


# ------------------------------------------------------------------ several SBCs in one play


def run_fleet_preflight(tmp_path, group_vars, hosts):
    """The preflight over several local hosts of group byoc_sbcs; returns (rc, {task name: {host: result}})."""
    inventory = tmp_path / "fleet.yml"
    inventory.write_text(yaml.safe_dump({"byoc_sbcs": {"hosts": hosts, "vars": dict(
        group_vars, ansible_connection="local", ansible_python_interpreter="/usr/bin/python3")}}))
    environment = ansible_env()
    for name in GENESYS_ENV:
        environment.pop(name, None)
    proc = subprocess.run(["ansible-playbook", "-i", str(inventory), PLAYBOOK, "--tags", "preflight"],
                          capture_output=True, text=True, env=environment, timeout=300, check=False)
    result = json.loads(proc.stdout)
    tasks = {}
    for play in result["plays"]:
        for task in play["tasks"]:
            tasks.setdefault(task["task"]["name"], {}).update(task["hosts"])
    return proc.returncode, tasks


CLOUD_HOST = {"secure_trunk_product": "cloud", "secure_trunk_edges": [], "secure_trunk_org_ca_src": ""}


def test_one_fetch_serves_every_premises_sbc_and_skips_the_cloud_ones(pki_files, tmp_path):
    # "a-cloud" comes first in the play: the fetch must still run, with a premises SBC's inputs.
    rc, tasks = run_fleet_preflight(tmp_path, premises_vars(pki_files),
                                    {"a-cloud": CLOUD_HOST, "sbc-a": {}, "sbc-b": {}})
    assert rc == 0
    (fetch,) = tasks[ROLE + FETCH_TASK].values()
    assert fetch["sha256"] == sha256(ORG_CA)
    handed = tasks[ROLE + FACT_TASK]
    for host in ("sbc-a", "sbc-b"):
        assert handed[host]["ansible_facts"]["secure_trunk_org_ca_pem"].endswith(ORG_CA.pem.decode())
    assert handed["a-cloud"].get("skipped") is True


def test_a_second_organisation_in_the_same_play_is_refused(pki_files, tmp_path):
    # One fetch per play: sbc-b naming another CA must not silently receive sbc-a's.
    rc, tasks = run_fleet_preflight(tmp_path, premises_vars(pki_files),
                                    {"sbc-a": {}, "sbc-b": {"secure_trunk_org_ca_src": pki_files["expired"]}})
    assert rc != 0
    verdict = tasks[ROLE + "Assert one organisation per play (the CA is fetched once for every premises SBC)"]
    assert not verdict["sbc-a"].get("failed")
    assert verdict["sbc-b"]["failed"] and "differs from sbc-a's, and one play fetches one organisation's CA" in (
        verdict["sbc-b"]["msg"])
    assert "sbc-b" not in tasks.get(ROLE + FACT_TASK, {}) or tasks[ROLE + FACT_TASK]["sbc-b"].get("skipped")


# ------------------------------------------------------------------ -vvv (issue 11)


def test_a_verbose_premises_run_never_shows_the_secret(pki_files, tmp_path):
    """`-vvv` of the real preflight fetching the organisation CA from the API: the secret (from a vars
    file, as from a vault) and the tokens never appear, though -vvv prints every module's command line."""
    with GenesysStandIn(tmp_path / "standin", organisation()) as api:
        vars_file = tmp_path / "secrets.yml"
        vars_file.write_text(yaml.safe_dump(premises_vars(pki_files, secure_trunk_org_ca_src="", **api_vars(api))))
        vars_file.chmod(0o600)
        cmd = ["ansible-playbook", "-vvv", "-i", "localhost,", "-c", "local", PLAYBOOK, "--tags", "preflight",
               "-e", "secure_trunk_hosts=localhost", "-e", "ansible_python_interpreter=/usr/bin/python3",
               "-e", "@%s" % vars_file]
        environment = ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
        for name in GENESYS_ENV:
            environment.pop(name, None)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=environment, timeout=300, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert "EXEC /bin/sh -c" in output and FETCH_TASK in output  # verbose, and the API path ran
    assert api.issued_tokens
    assert api.client_secret not in output
    assert not any(token in output for token in api.issued_tokens)
