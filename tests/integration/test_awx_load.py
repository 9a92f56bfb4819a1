"""awx/load.yml against a stand-in AWX API on loopback: what the loader sends is what AWX must get.

The stand-in answers the few REST calls the awx.awx modules make (list by name, create, update,
survey_spec, credential associations) and records them. The test proves the credential type's
injector templates reach AWX verbatim (not rendered by the loader), each job template carries
the survey of awx/job_templates.yml and the right credentials, and a second load changes nothing.
"""

import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
PREEXISTING = {
    "organizations": ["Default"],
    "inventories": ["SBCs"],
    "projects": ["byoc.secure_trunk"],
    "credentials": ["sbc1 identity", "SBC SSH", "SBC vault"],
}


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def _data(name):
    with open(os.path.join(ROOT, "awx", name)) as handle:
        return yaml.load(handle, Loader=_Loader)  # noqa: S506 - SafeLoader subclass


class StandInAWX:
    """Objects by collection, sub-resources by object URL, and a log of every write."""

    def __init__(self):
        self.lock = threading.Lock()
        self.objects = {}
        self.surveys = {}
        self.associations = {}
        self.writes = []
        self.next_id = 1
        for collection, names in PREEXISTING.items():
            for name in names:
                self._create(collection, {"name": name})

    def _create(self, collection, data):
        record = dict(data, id=self.next_id, url="/api/v2/%s/%d/" % (collection, self.next_id))
        record["related"] = {"survey_spec": record["url"] + "survey_spec/"}
        self.next_id += 1
        self.objects.setdefault(collection, []).append(record)
        return record

    def handle(self, method, path, query, body):
        parts = [p for p in path.split("/") if p][2:]  # drop api, v2
        with self.lock:
            if method != "GET":
                self.writes.append((method, path, body))
            if len(parts) == 1:
                collection = parts[0]
                if method == "GET":
                    name = (query.get("name") or query.get("or__name") or [None])[0]
                    if collection == "unified_job_templates":  # a schedule's job template, looked up by name
                        collection = "job_templates"
                    found = [o for o in self.objects.get(collection, []) if name is None or o["name"] == name]
                    return 200, {"count": len(found), "next": None, "results": found}
                return 201, self._create(collection, body)
            collection, oid = parts[0], int(parts[1])
            record = next(o for o in self.objects[collection] if o["id"] == oid)
            if len(parts) == 2:
                record.update(body)
                return 200, record
            key = (collection, oid)
            if parts[2] == "survey_spec":
                if method == "POST":
                    self.surveys[key] = body
                return 200, self.surveys.get(key, {})
            associated = self.associations.setdefault((key, parts[2]), [])
            if method == "POST":
                associated.append(body["id"])
                return 204, None
            results = [o for objs in self.objects.values() for o in objs if o["id"] in associated]
            return 200, {"count": len(results), "next": None, "results": results}


def _handler(awx):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self):
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else {}
            status, payload = awx.handle(self.command, url.path, parse_qs(url.query), body)
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-API-Product-Name", "AWX")
            self.send_header("X-API-Product-Version", "24.6.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = _serve

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def awx():
    state = StandInAWX()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = "http://127.0.0.1:%d" % server.server_address[1]
    yield state
    server.shutdown()
    server.server_close()


CREDENTIALS = {"identity": "sbc1 identity", "machine": "SBC SSH", "vault": "SBC vault"}
TRUNK = {"secure_trunk_region": "euc2", "secure_trunk_sbc_fqdn": "sbc1.example.com",
         "secure_trunk_cipher_policy": "byoc-2025", "secure_trunk_tgrp": "trunk1",
         "secure_trunk_trunk_context": "byoc.example.com"}


def _load(awx, credentials=True, *extra):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               CONTROLLER_HOST=awx.url, CONTROLLER_OAUTH_TOKEN="stand-in-token", CONTROLLER_VERIFY_SSL="false",
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    cmd = [os.path.join(BIN, "ansible-playbook"), os.path.join(ROOT, "awx", "load.yml"),
           "-e", "ansible_python_interpreter=" + sys.executable, "-e", "byoc_awx_inventory=SBCs",
           "-e", "byoc_awx_ee_image=registry.example.test/byoc-secure-trunk-ee:1.0.0"]
    if credentials:
        cmd += ["-e", "byoc_awx_identity_credential='sbc1 identity'", "-e", "byoc_awx_machine_credential='SBC SSH'",
                "-e", "byoc_awx_vault_credential='SBC vault'"]
    cmd += list(extra)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return json.loads(proc.stdout)["stats"]["localhost"]


def _posted(awx, collection):
    return [body for method, path, body in awx.writes if method == "POST" and path == "/api/v2/%s/" % collection]


def _check_credential_type(awx):
    want = _data("credential_type.yml")["byoc_awx_credential_type"]
    [sent] = _posted(awx, "credential_types")
    assert sent["name"] == want["name"] and sent["kind"] == "cloud"
    assert sent["inputs"] == want["inputs"]
    assert sent["injectors"] == want["injectors"]
    assert sent["injectors"]["file"]["template.private_key"] == "{{ private_key }}"


def _check_job_templates(awx):
    data = _data("job_templates.yml")
    ids = {o["name"]: o["id"] for objs in awx.objects.values() for o in objs}
    sent = {jt["name"]: jt for jt in _posted(awx, "job_templates")}
    assert set(sent) == {jt["name"] for jt in data["byoc_awx_job_templates"]}
    for want in data["byoc_awx_job_templates"]:
        jt = sent[want["name"]]
        for field in ("playbook", "job_type", "job_tags", "become_enabled", "ask_credential_on_launch",
                      "survey_enabled"):
            assert jt[field] == want[field], (want["name"], field)
        assert jt["project"] == ids["byoc.secure_trunk"] and jt["inventory"] == ids["SBCs"]
        assert jt["execution_environment"] == ids["byoc.secure_trunk EE"]
        key = ("job_templates", ids[want["name"]])
        assert awx.surveys[key] == data["byoc_awx_survey"]
        sent_vars = jt.get("extra_vars") or {}  # awx.awx sends them as JSON text
        assert (json.loads(sent_vars) if isinstance(sent_vars, str) else sent_vars) == want.get("extra_vars", {})
        creds = set(awx.associations[(key, "credentials")])
        assert creds == {ids[CREDENTIALS[kind]] for kind in want["credentials"]}, want["name"]


def test_loader_creates_everything_then_changes_nothing(awx):
    """One load (each awx.awx call costs a second), checked, then a second load that must change nothing.

    The second load names no credential: the loader must then leave the attached ones alone."""
    first = _load(awx)
    assert first["changed"] == 3 and first["failures"] == 0  # credential type, EE, job templates
    _check_credential_type(awx)
    _check_job_templates(awx)
    writes = len(awx.writes)
    second = _load(awx, credentials=False)
    assert second["changed"] == 0, [w[:2] for w in awx.writes[writes:]]
    _check_job_templates(awx)


def test_loader_creates_the_schedules_with_the_trunk_answers_only_when_given(awx):
    first = _load(awx)
    assert not _posted(awx, "schedules")  # no survey answers, no schedule that could not launch
    second = _load(awx, True, "-e", json.dumps({"byoc_awx_trunk": TRUNK}))
    assert second["changed"] == 1 and second["failures"] == 0, (first, second)
    ids = {o["name"]: o["id"] for o in awx.objects["job_templates"]}
    want = _data("job_templates.yml")["byoc_awx_schedules"]
    sent = {s["name"]: s for s in _posted(awx, "schedules")}
    assert set(sent) == {s["name"] for s in want}
    for schedule in want:
        got = sent[schedule["name"]]
        assert got["unified_job_template"] == ids[schedule["job_template"]]
        assert got["rrule"] == schedule["rrule"] and got["enabled"] is True
        assert got["extra_data"] == TRUNK
    writes = len(awx.writes)
    third = _load(awx, True, "-e", json.dumps({"byoc_awx_trunk": TRUNK}))
    assert third["changed"] == 0, [w[:2] for w in awx.writes[writes:]]


def test_loader_refuses_without_an_inventory(awx):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), CONTROLLER_HOST=awx.url,
               CONTROLLER_OAUTH_TOKEN="stand-in-token", PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), os.path.join(ROOT, "awx", "load.yml"),
                           "-e", "ansible_python_interpreter=" + sys.executable],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False)
    assert proc.returncode != 0
    assert re.search(r"byoc_awx_inventory is empty", proc.stdout + proc.stderr)
    assert awx.writes == []
