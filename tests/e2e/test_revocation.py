"""A revocation takes effect at a running hub within seconds, without a restart: for tokens
already issued and for new ones. Runs on a private copy of the test PKI (``pki_copy``)."""

from __future__ import annotations

import time

import pytest

from exchange.domain.documents import DocumentMetadata
from exchange.errors import NotAuthorizedError

from e2e.harness import assert_error

WITHIN = 10.0  # seconds; the hub re-reads the CRL each second


def test_exchange_keys_revoke_ends_a_bodys_access_at_the_running_hub(pki_copy, start, workdir):
    hub = start(keys=pki_copy.directory)
    with hub.client("nghe-an") as client:
        client.send(b"sent before the revocation", metadata=DocumentMetadata.from_dict(
            {"recipients": ["ha-noi"], "subject": "trước", "message_id": "before-revocation"}))
        token = client.authenticate()

    revoked = hub.cli("keys", "revoke", "nghe-an", "--reason", "key_compromise", cwd=workdir)
    assert "revoked nghe-an" in revoked.stdout

    deadline, started = time.monotonic() + WITHIN, time.monotonic()
    while True:
        with hub.http(token) as http:
            answer = http.get("/api/inbox")
        if answer.status_code != 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    body = assert_error(answer, 403, "certificate-revoked")  # the token issued before: refused
    assert "nghe-an" in body["message"]
    assert time.monotonic() - started < WITHIN

    with hub.client("nghe-an") as again, pytest.raises(NotAuthorizedError) as refused:
        again.authenticate()  # a new token: refused at the signature on the challenge
    assert refused.value.code == "certificate-refused"
    assert refused.value.detail["report"]["sub_indication"] in ("REVOKED", "REVOKED_NO_POE")

    cli = hub.cli("node", "inbox", "--as", "nghe-an", cwd=workdir, check=False)
    assert cli.returncode == 1 and "certificate-refused" in cli.stderr
    with hub.client("ha-noi") as other:  # everyone else carries on
        assert [d.message_id for d in other.inbox()] == ["before-revocation"]
