"""examples/inventory: every input of secure_trunk.yml set and documented, the key in Ansible Vault.

Runs ansible-inventory and an ad-hoc assert (an action: no host is contacted) with the example's
throwaway vault password. Key text is never printed, not even when a check fails.
"""

import json
import os
import subprocess
import sys

import pytest
import yaml
from cryptography.hazmat.primitives import serialization

from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")
INVENTORY = os.path.join(EXAMPLES, "inventory")
GROUP_VARS = os.path.join(INVENTORY, "group_vars", "byoc_sbcs")
PASSWORD = os.path.join(EXAMPLES, "vault-password.txt")
BIN = os.path.dirname(sys.executable)


def _env():
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
                ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
                PATH=BIN + os.pathsep + os.environ.get("PATH", ""))


def _run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=120, check=False)


@pytest.fixture(scope="module")
def options():
    with open(os.path.join(ROOT, "roles", "secure_trunk", "meta", "argument_specs.yml")) as handle:
        return yaml.safe_load(handle)["argument_specs"]["preflight"]["options"]


@pytest.fixture(scope="module")
def hostvars():
    proc = _run(os.path.join(BIN, "ansible-inventory"), "-i", INVENTORY, "--vault-password-file", PASSWORD, "--list")
    assert proc.returncode == 0, proc.stderr[-2000:]
    inventory = json.loads(proc.stdout)
    assert sorted(inventory["byoc_sbcs"]["hosts"]) == ["sbc1", "sbc2"]
    return inventory["_meta"]["hostvars"]


def test_the_vault_file_is_encrypted_and_needs_the_password():
    with open(os.path.join(GROUP_VARS, "vault.yml")) as handle:
        assert handle.readline().startswith("$ANSIBLE_VAULT;1.1;AES256")
    proc = _run(os.path.join(BIN, "ansible-inventory"), "-i", INVENTORY, "--list")
    assert proc.returncode != 0 and "vault" in proc.stderr.lower()


def test_the_example_password_says_it_is_an_example():
    with open(PASSWORD) as handle:
        assert "EXAMPLE-ONLY" in handle.read()


def test_every_input_is_set_once_and_named_as_in_argument_specs(hostvars, options):
    with open(os.path.join(GROUP_VARS, "vars.yml")) as handle:
        group = yaml.safe_load(handle)
    for host, hvars in hostvars.items():
        inputs = {name for name in hvars if name.startswith("secure_trunk_")}
        assert inputs == set(options), "%s: %s" % (host, sorted(inputs ^ set(options)))
        for name in hvars:
            assert name.startswith(("secure_trunk_", "vault_secure_trunk_", "ansible_")), name
    # One comment line documents each setting of vars.yml.
    with open(os.path.join(GROUP_VARS, "vars.yml")) as handle:
        lines = handle.read().splitlines()
    for name in group:
        index = next(i for i, line in enumerate(lines) if line.startswith(name + ":"))
        assert lines[index - 1].startswith("#"), "%s has no comment line above it" % name


def test_the_settings_are_valid_choices(hostvars, options):
    for hvars in hostvars.values():
        policy.get_region(hvars["secure_trunk_region"])
        for name, option in options.items():
            if "choices" in option:
                assert hvars[name] in option["choices"], name


def test_the_vault_decrypts_to_one_private_key_per_sbc(hostvars):
    for host, hvars in hostvars.items():
        pem = hvars["vault_secure_trunk_private_keys"][host]
        try:
            serialization.load_pem_private_key(pem.encode(), password=None)
        except ValueError:
            pytest.fail("%s: the vault holds no PEM private key (value not shown)" % host)


def test_each_sbc_resolves_its_own_key_and_names(hostvars):
    """Templated as a play sees it; the assert action runs on the controller and contacts no SBC."""
    that = ["secure_trunk_private_key_content == vault_secure_trunk_private_keys[inventory_hostname]",
            "secure_trunk_private_key_content is match('-----BEGIN PRIVATE KEY-----')",
            "secure_trunk_certificate_src == inventory_dir ~ '/files/' ~ inventory_hostname ~ '-chain.pem'",
            "secure_trunk_sbc_fqdn == inventory_hostname ~ '.example.com'"]
    proc = _run(os.path.join(BIN, "ansible"), "byoc_sbcs", "-i", INVENTORY, "--vault-password-file", PASSWORD,
                "-c", "local", "-m", "ansible.builtin.assert", "-a", json.dumps({"that": that, "quiet": True}))
    assert proc.returncode == 0, "assert failed (output not shown: it may hold key text), rc=%d" % proc.returncode
    for pem in (hvars["vault_secure_trunk_private_keys"][host] for host, hvars in hostvars.items()):
        assert pem.strip().splitlines()[1] not in proc.stdout + proc.stderr, "key text in ansible's output"
