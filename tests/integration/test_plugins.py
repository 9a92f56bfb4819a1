"""Lookup and filters as users call them: in a real playbook."""

from helpers import run_playbook


def test_lookup_and_filters_in_a_playbook():
    rc, result = run_playbook("plugins.yml")
    stats = result["stats"]["localhost"]
    assert rc == 0, result
    assert stats["failures"] == 0 and stats["ok"] >= 5
