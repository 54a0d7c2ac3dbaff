"""``exchange hub serve --tls``: HTTPS only, a certificate that chains to the demo root, and
clients (curl, the CLI, HubClient) that refuse a hub whose certificate does not chain to it.

The "done when" of secret documents, as a new user would try it: a secret document from Nghệ An
to the Central Office over HTTPS reaches its recipient, decrypts and verifies.
"""

from __future__ import annotations

import shutil
import subprocess

import httpx
import pytest

from exchange.errors import TransportError
from exchange.node import HubClient, RetryPolicy
from exchange.pki import KeyStore


@pytest.fixture
def tls_hub(start, pki):  # type: ignore[no-untyped-def]
    return start(keys=pki.dir, args=("--tls",))


def test_https_is_served_and_plain_http_is_not(tls_hub, pki):
    assert tls_hub.url.startswith("https://127.0.0.1:")
    with tls_hub.http() as http:
        assert http.get("/api/health").json()["status"] == "ok"
    plain = tls_hub.url.replace("https://", "http://")
    with httpx.Client(timeout=5) as http, pytest.raises(httpx.HTTPError):
        http.get(f"{plain}/api/health")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not on PATH")
def test_curl_trusts_the_hub_through_the_demo_root_only(tls_hub, pki, ecdsa_store):
    def curl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["curl", "-sS", "--max-time", "10", *args], capture_output=True, text=True, check=False)

    ok = curl("--cacert", str(KeyStore(pki.dir).root_path), f"{tls_hub.url}/api/health")
    assert ok.returncode == 0 and '"status":"ok"' in ok.stdout
    localhost = curl("--cacert", str(KeyStore(pki.dir).root_path),
                     tls_hub.url.replace("127.0.0.1", "localhost") + "/api/health")
    assert localhost.returncode == 0, localhost.stderr
    assert curl(f"{tls_hub.url}/api/health").returncode == 60  # the system's CAs do not know the demo root
    assert curl("--cacert", str(ecdsa_store.root_path), f"{tls_hub.url}/api/health").returncode == 60
    plain = curl(tls_hub.url.replace("https://", "http://") + "/api/health")
    assert plain.returncode != 0 and '"status"' not in plain.stdout


def test_a_secret_document_over_https_reaches_its_recipient_decrypted_and_verified(tls_hub, pki, workdir):
    document = workdir / "chi-thi-mat.txt"
    document.write_text("MẬT — Chỉ thị MARKER-https-7\n" * 30, encoding="utf-8")
    sent = tls_hub.cli_json("node", "send", str(document), "--as", "nghe-an", "--to", "central-office", "--secret",
                            cwd=workdir)
    assert (sent["classification"], sent["indication"]) == ("secret", "TOTAL_PASSED")
    got = tls_hub.cli_json("node", "fetch", sent["id"], "--as", "central-office", "--out", "in", cwd=workdir)
    assert got["inner"]["indication"] == "TOTAL_PASSED" and got["inner"]["signer"]["body_id"] == "nghe-an"
    assert (workdir / got["plaintext"]).read_bytes() == document.read_bytes()
    hub_files = [p for p in tls_hub.data.rglob("*") if p.is_file() and b"MARKER-https-7" in p.read_bytes()]
    assert hub_files == []


def test_clients_refuse_a_hub_that_does_not_chain_to_their_root(tls_hub, pki, ecdsa_store, workdir):
    refused = tls_hub.cli("node", "inbox", "--as", "central-office", "--ca", str(ecdsa_store.root_path),
                          cwd=workdir, check=False)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "TLS certificate is not trusted" in refused.stderr
    with HubClient(tls_hub.url, credential=tls_hub.credential("central-office"), retry=RetryPolicy(attempts=3),
                   verify=True) as client, pytest.raises(TransportError) as caught:
        client.inbox()  # the system's CAs: the demo root is not among them
    assert caught.value.code == "tls-untrusted"
