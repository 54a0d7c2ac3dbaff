"""Who is who: challenges and tokens (TokenService), the /api/auth routes, and the check of
every request's token against the current CRL."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime, timedelta

import pytest

from exchange.cms import sign_detached
from exchange.errors import NotAuthenticatedError, NotAuthorizedError
from exchange.hub import HubSettings
from exchange.hub.auth import CHALLENGE_TTL, TokenService
from exchange.pki import revoke

from hub.inprocess import InProcessHub, document_bytes, metadata

SECRET = bytes(range(32))
T = datetime(2015, 6, 1, 8, 0, tzinfo=UTC)


# -- TokenService ----------------------------------------------------------------------------


def test_a_token_names_its_body_and_certificate_until_it_expires():
    tokens = TokenService(SECRET, token_ttl=timedelta(minutes=15))
    token, expires = tokens.issue("ha-noi", 0xABC, at=T)

    principal = tokens.check(token, at=expires - timedelta(seconds=1))
    assert (principal.body_id, principal.serial, principal.expires) == ("ha-noi", 0xABC, expires)
    with pytest.raises(NotAuthenticatedError) as expired:
        tokens.check(token, at=expires + timedelta(seconds=1))
    assert expired.value.code == "token-expired"


def test_a_challenge_expires_and_names_its_body():
    tokens = TokenService(SECRET)
    challenge = tokens.challenge("nghe-an", at=T)
    assert tokens.check_challenge(challenge, at=T + CHALLENGE_TTL - timedelta(seconds=1)) == "nghe-an"
    with pytest.raises(NotAuthenticatedError) as expired:
        tokens.check_challenge(challenge, at=T + CHALLENGE_TTL + timedelta(seconds=1))
    assert expired.value.code == "challenge-expired"


@pytest.mark.parametrize("garble", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # MAC altered
    lambda t: "e30" + t[t.index("."):],  # claims replaced, old MAC kept
    lambda t: t.replace(".", ""),  # no MAC at all
    lambda t: "not a token",
    lambda t: "",
])
def test_a_garbled_token_is_not_one_this_hub_issued(garble):
    tokens = TokenService(SECRET)
    token, _ = tokens.issue("ha-noi", 1, at=T)
    with pytest.raises(NotAuthenticatedError) as refused:
        tokens.check(garble(token), at=T)
    assert refused.value.code == "invalid-token"


def test_tokens_of_another_hub_and_challenges_are_not_tokens():
    tokens = TokenService(SECRET)
    other, _ = TokenService(os.urandom(32)).issue("ha-noi", 1, at=T)
    for text in (other, tokens.challenge("ha-noi", at=T)):
        with pytest.raises(NotAuthenticatedError) as refused:
            tokens.check(text, at=T)
        assert refused.value.code == "invalid-token"


def test_the_secret_is_created_once_private_and_then_reused(tmp_path):
    path = tmp_path / "data" / "hub-secret"
    first = TokenService.from_file(path)
    token, _ = first.issue("ha-noi", 1, at=T)
    assert path.stat().st_mode & 0o777 == 0o600
    assert TokenService.from_file(path).check(token, at=T).body_id == "ha-noi"
    with pytest.raises(ValueError):
        TokenService(b"short")


# -- the routes ------------------------------------------------------------------------------


def challenge_for(hub: InProcessHub, body: str) -> str:
    answer = hub.http().post("/api/auth/challenge", json={"body": body})
    assert answer.status_code == 200, answer.text
    return answer.json()["challenge"]


def token_request(hub: InProcessHub, challenge: str, credential, *, at: datetime | None = None):  # type: ignore[no-untyped-def]
    signature = sign_detached(challenge.encode(), credential, at=at or datetime.now(UTC))
    return hub.http().post("/api/auth/token", json={"challenge": challenge,
                                                    "signature": base64.b64encode(signature).decode()})


def assert_error(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["message"], body
    return body


def test_a_body_proves_its_identity_with_its_key_and_gets_a_token(hub, pki):
    answer = token_request(hub, challenge_for(hub, "ha-noi"), hub.credential("ha-noi"))
    assert answer.status_code == 200, answer.text
    principal = hub.tokens.check(answer.json()["token"], at=datetime.now(UTC))
    assert principal.body_id == "ha-noi"
    assert principal.serial == pki.store.certificate("ha-noi").serial_number


def test_a_challenge_signed_by_another_body_gives_no_token(hub, pki):
    answer = token_request(hub, challenge_for(hub, "central-office"), hub.credential("ha-noi"))
    body = assert_error(answer, 403, "wrong-body")
    assert "central-office" in body["message"] and "ha-noi" in body["message"]


def test_an_expired_certificate_is_refused_with_403(hub, pki):
    answer = token_request(hub, challenge_for(hub, "ha-noi"), pki.expired,
                           at=pki.expired.certificate.not_valid_after_utc - timedelta(days=1))
    body = assert_error(answer, 403, "certificate-refused")
    assert body["detail"]["report"]["sub_indication"] == "OUT_OF_BOUNDS_NO_POE"


def test_a_certificate_of_a_foreign_root_is_refused_with_401(hub, pki):
    body = assert_error(token_request(hub, challenge_for(hub, "ha-noi"), pki.foreign), 401, "invalid-signature")
    assert body["detail"]["report"]["sub_indication"] == "NO_CERTIFICATE_CHAIN_FOUND"


def test_a_challenge_must_be_the_hubs_own_and_for_a_known_body(hub, pki):
    forged = challenge_for(hub, "ha-noi").replace(".", ".x", 1)
    assert_error(token_request(hub, forged, hub.credential("ha-noi")), 401, "invalid-challenge")
    assert_error(hub.http().post("/api/auth/challenge", json={"body": "nowhere"}), 400, "unknown-body")
    assert_error(hub.http().post("/api/auth/challenge", json={}), 400, "invalid-request")
    not_base64 = hub.http().post("/api/auth/token", json={"challenge": challenge_for(hub, "ha-noi"),
                                                          "signature": "***"})
    assert_error(not_base64, 400, "invalid-signature")


def test_requests_without_a_valid_token_are_refused_with_401(hub):
    missing = hub.http().get("/api/inbox")
    assert_error(missing, 401, "not-authenticated")
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert_error(hub.http("garbled.token").get("/api/inbox"), 401, "invalid-token")
    expired, _ = hub.tokens.issue("ha-noi", 1, at=datetime.now(UTC) - timedelta(hours=1))
    assert_error(hub.http(expired).get("/api/inbox"), 401, "token-expired")


def test_a_revocation_ends_issued_tokens_and_refuses_new_ones_without_a_restart(pki, pki_copy, tmp_path):
    settings = HubSettings(keys_dir=pki_copy.directory, data_dir=tmp_path / "hub", bodies_file=pki.bodies_file,
                           crl_reload_interval=0.0)
    with InProcessHub(settings, pki_copy) as hub:
        client = hub.client("nghe-an")
        client.send(document_bytes(), metadata=metadata("ha-noi"))
        token = client.authenticate()

        revoke(pki_copy, "nghe-an", at=datetime.now(UTC) - timedelta(seconds=1))

        body = assert_error(hub.http(token).get("/api/inbox"), 403, "certificate-revoked")
        assert "nghe-an" in body["message"]
        with pytest.raises(NotAuthorizedError) as refused:
            hub.client("nghe-an").authenticate()
        assert refused.value.code == "certificate-refused"
        assert hub.client("ha-noi").inbox()  # the others carry on
