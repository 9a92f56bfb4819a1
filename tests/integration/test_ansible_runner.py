"""playbooks/secure_trunk.yml --tags preflight through ansible-runner, the way AWX launches a job.

AWX writes a private data dir and hands it to ansible-runner: survey answers in env/extravars,
the inventory in inventory/, and each credential through its injectors. This test renders the
"BYOC SBC identity" injectors of awx/credential_type.yml as AWX does (file templates into 0600
temp files under env/, the credential's extra_vars into a file passed as ``-e @file`` on the
command line), runs the play, and then proves:

* the play succeeds for a good throwaway SBC chain and fails, naming the defect, for a bad one;
* no secret (the key's PEM, or any line of its body) appears in any file under ansible-runner's
  artifacts dir or in its stdout. ansible-runner records the whole environment and command line
  in artifacts/<ident>/command; a canary variable in the environment shows the scan sees it.
"""

import datetime
import json
import os
import secrets
import shlex
import stat
import subprocess
import sys
import tempfile

import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from support import pki

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
RUNNER = os.path.join(BIN, "ansible-runner")
FQDN = "sbc.example.test"
PLAYBOOK = "playbooks/secure_trunk.yml"


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def _credential_type():
    with open(os.path.join(ROOT, "awx", "credential_type.yml")) as handle:
        return yaml.load(handle, Loader=_Loader)["byoc_awx_credential_type"]  # noqa: S506 - SafeLoader


class _Namespace:
    pass


def inject_credential(credential_type, inputs, private_data_dir, env, cmdline):
    """What AWX's CredentialType.inject_credential does with a custom type's injectors."""
    sandbox = ImmutableSandboxedEnvironment()
    tower = _Namespace()
    namespace = dict(inputs, tower=tower)
    for field in credential_type["inputs"]["fields"]:
        if field.get("format") == "ssh_private_key" and not namespace[field["id"]].endswith("\n"):
            namespace[field["id"]] += "\n"
    env_dir = os.path.join(private_data_dir, "env")
    for label, template in credential_type["injectors"].get("file", {}).items():
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as out:
            out.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if "." not in label:
            tower.filename = path
        else:
            if not hasattr(tower, "filename"):
                tower.filename = _Namespace()
            setattr(tower.filename, label.split(".", 1)[1], path)
    for name, template in credential_type["injectors"].get("env", {}).items():
        env[name] = sandbox.from_string(template).render(**namespace)
    extra_vars = {name: sandbox.from_string(template).render(**namespace)
                  for name, template in credential_type["injectors"].get("extra_vars", {}).items()}
    if extra_vars:
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as out:
            out.write(yaml.safe_dump(extra_vars))
        os.chmod(path, stat.S_IRUSR)
        cmdline += ["-e", "@" + path]


@pytest.fixture(scope="module")
def lab_pki(tmp_path_factory):
    """A stand-in public root, an issuing CA, and good, expired and IP-only SBC leaves."""
    directory = tmp_path_factory.mktemp("pki")
    root = pki.make_root("Stand-in Public Root")
    issuing = pki.make_intermediate(root, "Stand-in Issuing CA")
    now = pki.now()
    leaves = {
        "good": pki.make_leaf(issuing, [FQDN]),
        "expired": pki.make_leaf(issuing, [FQDN], not_before=now - datetime.timedelta(days=400),
                                 not_after=now - datetime.timedelta(days=2)),
    }
    (directory / "root.crt").write_bytes(root.pem)
    return {"root": str(directory / "root.crt"),
            "chains": {name: pki.chain_pem(leaf, issuing).decode() for name, leaf in leaves.items()},
            "key": leaves["good"].key_pem.decode()}


def run_job(tmp_path, lab_pki, leaf="good", fqdn=FQDN, region="euc2"):
    """Lay out a private data dir as AWX does and run ansible-runner on it; return the job."""
    pdd = tmp_path / "job"
    for sub in ("env", "inventory"):
        (pdd / sub).mkdir(parents=True)
    os.symlink(ROOT, pdd / "project")  # AWX copies the project here
    # The survey answers (awx/job_templates.yml) and the job's own variables.
    survey = {"secure_trunk_region": region, "secure_trunk_sbc_fqdn": fqdn, "secure_trunk_cipher_policy": "byoc-2025",
              "secure_trunk_tgrp": "byoc-tg-1", "secure_trunk_trunk_context": "byoc.example.test",
              "awx_job_id": 42, "tower_job_id": 42}
    (pdd / "env" / "extravars").write_text(yaml.safe_dump(survey))
    # The AWX inventory: group byoc_sbcs; the lab's stand-in public root in its group vars.
    inventory = {"byoc_sbcs": {"hosts": {"sbc1": {"ansible_connection": "local"}},
                               "vars": {"secure_trunk_sbc_ca_src": lab_pki["root"]}}}
    (pdd / "inventory" / "hosts.yml").write_text(yaml.safe_dump(inventory))
    canary = "byoc-canary-" + secrets.token_hex(8)
    envvars = {"ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, ".collections"), "BYOC_RUNNER_CANARY": canary,
               "ANSIBLE_FORCE_COLOR": "False"}
    cmdline = ["--tags", "preflight"]
    inject_credential(_credential_type(), {"certificate": lab_pki["chains"][leaf], "private_key": lab_pki["key"]},
                      str(pdd), envvars, cmdline)
    (pdd / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    (pdd / "env" / "cmdline").write_text(" ".join(shlex.quote(a) for a in cmdline))
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run([RUNNER, "run", str(pdd), "-p", PLAYBOOK, "--ident", "job42"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    artifacts = pdd / "artifacts" / "job42"
    status = (artifacts / "status").read_text().strip() if (artifacts / "status").exists() else None
    return {"proc": proc, "pdd": pdd, "artifacts": pdd / "artifacts", "status": status, "canary": canary,
            "stdout": (artifacts / "stdout").read_text() if (artifacts / "stdout").exists() else ""}


def _secret_needles(key_pem):
    body = [line for line in key_pem.splitlines() if line and not line.startswith("-----")]
    return [key_pem.strip(), "PRIVATE KEY"] + body


def _files_holding(directory, needles):
    found = {}
    for base, _dirs, files in os.walk(directory):
        for name in files:
            path = os.path.join(base, name)
            with open(path, "rb") as handle:
                data = handle.read().decode("utf-8", "replace")
            # JSON event files escape newlines; body lines are searched one by one anyway.
            hits = [n[:24] for n in needles if n in data or json.dumps(n)[1:-1] in data]
            if hits:
                found[os.path.relpath(path, directory)] = hits
    return found


def _assert_no_secret(job, key_pem):
    needles = _secret_needles(key_pem)
    leaked = _files_holding(job["artifacts"], needles)
    assert not leaked, "secret text in ansible-runner artifacts: %s" % leaked
    for stream in (job["proc"].stdout, job["proc"].stderr):
        assert not [n for n in needles if n in stream], "secret text in ansible-runner's output"
    # Outside artifacts the key exists once: the 0600 file AWX's injector wrote under env/.
    holders = _files_holding(job["pdd"] / "env", needles)
    assert len(holders) == 1, holders
    key_file = job["pdd"] / "env" / next(iter(holders))
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # The scan does see what ansible-runner records about the environment.
    assert _files_holding(job["artifacts"], [job["canary"]]), "canary missing: the artifacts scan sees nothing"


def test_good_chain_passes_and_no_secret_lands_in_artifacts(tmp_path, lab_pki):
    job = run_job(tmp_path, lab_pki)
    assert job["status"] == "successful", job["stdout"][-3000:] + job["proc"].stderr[-2000:]
    assert "Validate the SBC certificate chain" in job["stdout"]
    assert "failed=0" in job["stdout"]
    _assert_no_secret(job, lab_pki["key"])


@pytest.mark.parametrize("case, want", [
    ("ip-as-fqdn", "an IP address cannot pass, R9"),
    ("expired-leaf", "certificate expired on"),
    ("unknown-region", "is not a Genesys Cloud BYOC region"),
])
def test_bad_input_fails_with_a_clear_message(tmp_path, lab_pki, case, want):
    kwargs = {"ip-as-fqdn": {"fqdn": "192.0.2.10"}, "expired-leaf": {"leaf": "expired"},
              "unknown-region": {"region": "euw3"}}[case]
    job = run_job(tmp_path, lab_pki, **kwargs)
    assert job["status"] == "failed", job["stdout"][-3000:]
    assert want in " ".join(job["stdout"].split()), job["stdout"][-3000:]
    _assert_no_secret(job, lab_pki["key"])


def test_an_env_injector_would_leak_the_key(tmp_path, lab_pki, monkeypatch):
    """The control: the same key delivered through an env injector lands in artifacts/*/command."""
    leaky = _credential_type()
    leaky["injectors"]["env"] = {"BYOC_SBC_PRIVATE_KEY": "{{ private_key }}"}
    monkeypatch.setattr(sys.modules[__name__], "_credential_type", lambda: leaky)
    job = run_job(tmp_path, lab_pki)
    assert job["status"] == "successful", job["stdout"][-3000:]
    leaked = _files_holding(job["artifacts"], _secret_needles(lab_pki["key"]))
    assert any(path.endswith("command") for path in leaked), leaked
