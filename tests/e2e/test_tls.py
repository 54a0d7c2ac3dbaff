"""``exchange hub serve --tls``: HTTPS only, a certificate that chains to the demo root, and
clients (curl, the CLI, HubClient) that refuse a hub whose certificate does not chain to it.

The "done when" of secret documents, as a new user would try it: a secret document from Nghệ An
to the Central Office over HTTPS reaches its recipient, decrypts and verifies.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime

import httpx
import pytest

from exchange.errors import TransportError
from exchange.node import HubClient, RetryPolicy, hub_trust
from exchange.node.client import body_trust
from exchange.pki import KeyStore

from e2e.harness import assert_error


@pytest.fixture(scope="module")
def tls_hub(start_for_module, pki, tmp_path_factory):  # type: ignore[no-untyped-def]
    # a copy of the keys: the hub writes its TLS certificate (and clients theirs) into keys/tls/;
    # one hub for the module's tests (none changes what another reads)
    keys = shutil.copytree(pki.dir, tmp_path_factory.mktemp("tls-keys") / "keys")
    return start_for_module(keys=keys, args=("--tls",))


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

    ok = curl("--cacert", str(KeyStore(tls_hub.keys).root_path), f"{tls_hub.url}/api/health")
    assert ok.returncode == 0 and '"status":"ok"' in ok.stdout
    localhost = curl("--cacert", str(KeyStore(tls_hub.keys).root_path),
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


# -- mutual TLS --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mtls_hub(start_for_module, pki, tmp_path_factory):  # type: ignore[no-untyped-def]
    keys = shutil.copytree(pki.dir, tmp_path_factory.mktemp("mtls-keys") / "keys")
    return start_for_module(keys=keys, args=("--tls", "--mtls"))


def test_mtls_nodes_present_their_client_certificate_and_exchange(mtls_hub, workdir):
    document = workdir / "mat.txt"
    document.write_text("MẬT qua mTLS\n" * 10, encoding="utf-8")
    sent = mtls_hub.cli_json("node", "send", str(document), "--as", "nghe-an", "--to", "central-office", "--secret",
                             cwd=workdir)
    got = mtls_hub.cli_json("node", "fetch", sent["id"], "--as", "central-office", "--out", "in", cwd=workdir)
    assert got["inner"]["indication"] == "TOTAL_PASSED"


def test_mtls_refuses_a_client_without_a_certificate(mtls_hub):
    no_cert = hub_trust(mtls_hub.url, KeyStore(mtls_hub.keys).root_path)
    with HubClient(mtls_hub.url, credential=mtls_hub.credential("ha-noi"), retry=RetryPolicy(attempts=1),
                   verify=no_cert) as client, pytest.raises(TransportError):
        client.inbox()


def test_mtls_a_token_is_refused_over_another_bodys_certificate(mtls_hub):
    store = KeyStore(mtls_hub.keys)
    now = datetime.now(UTC)
    with HubClient(mtls_hub.url, credential=mtls_hub.credential("ha-noi"),
                   verify=body_trust(mtls_hub.url, store, "ha-noi", at=now)) as client:
        token = client.authenticate()
        assert isinstance(client.inbox(), list)  # its own certificate: accepted
    other = body_trust(mtls_hub.url, store, "nghe-an", at=now)
    with httpx.Client(base_url=mtls_hub.url, verify=other, headers={"Authorization": f"Bearer {token}"}) as http:
        assert_error(http.get("/api/inbox"), 403, "client-certificate-mismatch")
