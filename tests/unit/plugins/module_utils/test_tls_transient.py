"""A peer that drops one handshake but speaks the policy: one retry, kept visible as a warning."""

import pytest

from ansible_collections.byoc.secure_trunk.plugins.module_utils import tls_validation
from support import pki
from support.servers import TLSServer


class FlakyServer(TLSServer):
    """Closes the first ``drops`` connections before the handshake, then serves normally."""

    def __init__(self, *args, drops=1, **kwargs):
        super().__init__(*args, **kwargs)
        self.drops = drops

    def _handle(self, conn):
        with self._lock:
            drop = self.drops > 0
            self.drops -= 1
        if drop:
            conn.close()
            return
        super()._handle(conn)


@pytest.fixture
def peer_files(tmp_path):
    root = pki.make_root("transient root")
    leaf = pki.make_leaf(root, ["lb01.voice.euc2.pure.cloud"])
    (tmp_path / "chain.pem").write_bytes(leaf.pem)
    (tmp_path / "key.pem").write_bytes(leaf.key_pem)
    (tmp_path / "root.pem").write_bytes(root.pem)
    return tmp_path


@pytest.mark.parametrize("drops, ok, check", [(0, True, "pass"), (1, True, "warn"), (99, False, "fail")])
def test_one_dropped_handshake_is_retried_and_reported(peer_files, drops, ok, check):
    with FlakyServer(str(peer_files / "chain.pem"), str(peer_files / "key.pem"), drops=drops) as server:
        request = tls_validation.build_request(host="lb01.voice.euc2.pure.cloud", port=server.port,
                                               connect_address="127.0.0.1", ca_file=str(peer_files / "root.pem"),
                                               revocation="none", timeout=5)
        (result,) = tls_validation.validate(request)["endpoints"]
    assert result["ok"] is ok and result["checks"]["handshake"] == check
    if check == "warn":
        assert "the retry succeeded" in result["warnings"][0]["defect"]
