"""Who may see what, over HTTP (in-process): nobody without a login, a clerk only its body's
documents, an auditor metadata but never a secret document's content, CSRF on every form,
lock-out at the login form, and every refusal, login and view in the access log."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest

from exchange.domain.documents import Classification
from exchange.node import node_verifier, send_secret

from e2e.harness import assert_error
from hub.inprocess import TEST_PASSWORD, InProcessHub, metadata

NORMAL_TEXT = "Nội dung công văn thường: báo cáo ứng dụng CNTT 42b7"
SECRET_TEXT = "NỘI DUNG MẬT — không được hiển thị 9c1e"


@dataclass(frozen=True)
class Docs:
    normal: str  # nghe-an -> central-office
    secret: str  # nghe-an -> central-office, classified secret
    other: str  # da-nang -> ha-noi


@pytest.fixture
def docs(hub: InProcessHub) -> Docs:
    nghe_an = hub.client("nghe-an")
    normal = nghe_an.send(NORMAL_TEXT.encode() * 10, filename="cv.txt",
                          metadata=metadata("central-office", subject="Công văn thường")).id
    # A secret document leaves the node signed, encrypted to its recipients and signed again.
    secret = send_secret(nghe_an, SECRET_TEXT.encode() * 10, filename="mat.txt", metadata=metadata(
        "central-office", subject="Văn bản mật", classification=Classification.SECRET),
        paths=node_verifier(hub.store).paths, own_encryption=None, at=nghe_an.clock()).id
    other = hub.client("da-nang").send(b"Da Nang to Ha Noi " * 20, filename="dn.txt",
                                       metadata=metadata("ha-noi", subject="Đà Nẵng gửi Hà Nội")).id
    return Docs(normal, secret, other)


def pages(docs: Docs) -> list[str]:
    return ["/", "/bodies", "/bodies/nghe-an", "/documents", f"/documents/{docs.normal}",
            f"/documents/{docs.normal}/workflow", f"/documents/{docs.secret}", "/access", "/users"]


APIS = ["/api/register", "/api/measures", "/api/bodies", "/api/activity", "/api/access"]


def test_without_a_login_no_page_or_api_shows_anything(hub: InProcessHub, docs: Docs) -> None:
    http = hub.http()
    for path in pages(docs):
        response = http.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login"), path
    assert http.get(f"/documents/{docs.normal}").headers["location"] == f"/login?next=%2Fdocuments%2F{docs.normal}"
    for path in APIS:
        assert_error(http.get(path), 401, "not-logged-in")
    # Not with a body's token either: nodes use the node API, people the rest.
    with_node_token = hub.http(hub.client("nghe-an").authenticate())
    assert_error(with_node_token.get("/api/register"), 401, "not-logged-in")
    # Nor with a made-up token or cookie.
    assert_error(hub.http("xp_made-up").get("/api/register"), 401, "not-logged-in")
    forged = httpx.Client(transport=hub.transport, base_url="http://hub.test", cookies={"exchange_session": "x"})
    assert forged.get("/").status_code == 303
    # The login page, the trust anchor, the CRL and health stay open.
    for path in ("/login", "/api/pki/root", "/api/pki/crl", "/api/health", "/static/dashboard.css"):
        assert http.get(path).status_code == 200, path


def test_a_clerk_sees_only_its_bodys_documents(hub: InProcessHub, docs: Docs) -> None:
    clerk = hub.person("clerk", body="ha-noi")
    register = clerk.get("/api/register").json()
    assert {e["document_id"] for e in register["entries"]} == {docs.other}
    listing = clerk.get("/documents").text
    assert docs.other in listing and docs.normal not in listing and "Công văn thường" not in listing
    assert NORMAL_TEXT[:20] not in clerk.get(f"/documents/{docs.other}").text  # its own: shown
    assert "Da Nang to Ha Noi" in clerk.get(f"/documents/{docs.other}").text
    for path in (f"/documents/{docs.normal}", f"/documents/{docs.normal}/workflow", "/bodies/nghe-an"):
        refused = clerk.get(path)
        assert refused.status_code == 403, path
        assert "Công văn thường" not in refused.text and NORMAL_TEXT[:20] not in refused.text
    for path in ("/access", "/users", "/api/access"):
        assert clerk.get(path).status_code == 403, path
    assert clerk.get("/bodies/ha-noi").status_code == 200
    assert clerk.get("/api/measures").status_code == 200


def test_an_auditor_sees_metadata_and_reports_but_never_secret_content(hub: InProcessHub, docs: Docs) -> None:
    auditor = hub.person("auditor")
    secret_page = auditor.get(f"/documents/{docs.secret}")
    assert secret_page.status_code == 200
    assert "Văn bản mật" in secret_page.text and "Signature valid" in secret_page.text
    assert SECRET_TEXT[:20] not in secret_page.text
    assert SECRET_TEXT[:20] not in auditor.get(f"/documents/{docs.secret}/workflow").text
    assert NORMAL_TEXT[:20] in auditor.get(f"/documents/{docs.normal}").text
    assert {e["document_id"] for e in auditor.get("/api/register").json()["entries"]} == {
        docs.normal, docs.secret, docs.other}
    # The node API is for bodies: no document bytes for a person's token.
    assert_error(auditor.get(f"/api/documents/{docs.secret}/file"), 401, "invalid-token")
    # An operator manages; it reads no content at all.
    operator = hub.person("operator")
    assert "Công văn thường" in operator.get(f"/documents/{docs.normal}").text
    assert NORMAL_TEXT[:20] not in operator.get(f"/documents/{docs.normal}").text
    assert operator.get("/users").status_code == 200 and auditor.get("/users").status_code == 403


def test_refusals_logins_and_views_are_in_the_access_log(hub: InProcessHub, docs: Docs) -> None:
    clerk = hub.person("clerk", body="ha-noi", name="minh")
    for _ in range(5):
        clerk.get(f"/documents/{docs.normal}")
    hub.http().get("/api/register")
    nghe_an = hub.http(hub.client("nghe-an").authenticate())
    nghe_an.get(f"/api/documents/{docs.other}")  # not its document
    auditor = hub.person("auditor")
    auditor.get(f"/documents/{docs.secret}")
    hub.login(hub.add_person("lan", "trainer"))
    bad = hub.http()
    login_once(bad, "lan", "wrong password!")

    log = auditor.get("/api/access").json()
    seen = {(e["actor"], e["action"], e["outcome"], e["code"], e["target"]) for e in log["entries"]}
    assert ("minh", "refused", "refused", "other-body", f"GET /documents/{docs.normal}") in seen
    assert ("anonymous", "refused", "refused", "not-logged-in", "GET /api/register") in seen
    assert ("nghe-an", "refused", "refused", "not-authorized", f"GET /api/documents/{docs.other}") in seen
    assert ("test-auditor", "view", "allowed", "", docs.secret) in seen
    assert ("lan", "login", "allowed", "", "/login") in seen
    assert ("lan", "login-failed", "refused", "bad-credentials", "/login") in seen
    assert [(r["actor"], r["actor_kind"], r["count"]) for r in log["repeated_refusals"]] == [("minh", "person", 5)]
    page = auditor.get("/access")
    assert page.status_code == 200
    assert re.search(r'data-actor="minh".*?<td class="num">5</td>', page.text, re.S)
    assert hub.person("operator").get("/access").status_code == 200  # an operator sees it too


def login_once(http: httpx.Client, name: str, password: str) -> httpx.Response:
    form = http.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf
    return http.post("/login", data={"name": name, "password": password, "csrf": csrf.group(1)})


def test_the_login_form_locks_an_account_after_five_failures(hub: InProcessHub) -> None:
    hub.add_person("lan", "auditor")
    http = hub.http()
    for _ in range(5):
        failed = login_once(http, "lan", "wrong password!")
        assert failed.status_code == 401 and "wrong name or password" in failed.text
    locked = login_once(http, "lan", TEST_PASSWORD)
    assert locked.status_code == 401 and "locked after 5 failed logins" in locked.text
    assert "exchange_session" not in http.cookies
    hub.accounts.reset("lan", password="a new password, long enough")
    assert login_once(http, "lan", "a new password, long enough").status_code == 303


def test_the_session_cookie_is_httponly_samesite_and_secure_over_https(hub: InProcessHub) -> None:
    hub.add_person("lan", "auditor")
    for base, secure in (("http://hub.test", False), ("https://hub.test", True)):
        http = httpx.Client(transport=hub.transport, base_url=base)
        form = http.get("/login")
        login_cookie = form.headers["set-cookie"]
        assert "HttpOnly" in login_cookie and "SameSite=strict" in login_cookie
        done = login_once(http, "lan", TEST_PASSWORD)
        assert done.status_code == 303
        cookie = next(c for c in done.headers.get_list("set-cookie") if c.startswith("exchange_session="))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        assert ("Secure" in cookie) is secure


def test_every_form_needs_the_sessions_csrf_token(hub: InProcessHub) -> None:
    hub.add_person("boss", "operator")
    operator = hub.login("boss")
    add = {"name": "minh", "role": "clerk", "body": "ha-noi", "password": TEST_PASSWORD}
    for token in (None, "wrong", operator.csrf[:-1]):  # type: ignore[attr-defined]
        form = add if token is None else {**add, "csrf": token}
        refused = operator.post("/users", data=form)
        assert refused.status_code == 403 and "CSRF" in refused.text
    assert "minh" not in {a.name for a in hub.accounts.list()}
    assert operator.post("/logout", data={}).status_code == 403
    done = operator.post("/users", data={**add, "csrf": operator.csrf})  # type: ignore[attr-defined]
    assert done.status_code == 200 and "Added minh (clerk, ha-noi)" in done.text
    assert operator.post("/users/minh/disable", data={"csrf": operator.csrf}).status_code == 200  # type: ignore[attr-defined]
    assert not hub.accounts.get("minh").active
    # The login form has its own double-submit token: a forged post cannot log anyone in.
    forged = hub.http().post("/login", data={"name": "boss", "password": TEST_PASSWORD, "csrf": "guess"})
    assert forged.status_code == 403 and "exchange_session" not in forged.headers.get("set-cookie", "")
    # Logging out ends the session.
    assert operator.post("/logout", data={"csrf": operator.csrf}).status_code == 303  # type: ignore[attr-defined]
    assert operator.get("/").status_code == 303
    log = hub.person("auditor").get("/api/access", params={"actor": "boss"}).json()["entries"]
    seen = [(e["action"], e["outcome"], e["code"]) for e in log]
    assert seen[0] == ("logout", "allowed", "")
    for entry in (("users", "allowed", ""), ("refused", "refused", "csrf-refused"),
                  ("login-failed", "refused", "csrf-refused"), ("login", "allowed", "")):
        assert entry in seen


def test_after_login_the_page_asked_for_opens(hub: InProcessHub, docs: Docs) -> None:
    hub.add_person("lan", "auditor")
    http = hub.http()
    form = http.get(f"/login?next=/documents/{docs.normal}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf and f'value="/documents/{docs.normal}"' in form
    done = http.post("/login", data={"name": "lan", "password": TEST_PASSWORD, "csrf": csrf.group(1),
                                     "next": f"/documents/{docs.normal}"})
    assert done.headers["location"] == f"/documents/{docs.normal}"
    for elsewhere in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        csrf = re.search(r'name="csrf" value="([^"]+)"', http.get("/login").text)
        assert csrf
        done = http.post("/login", data={"name": "lan", "password": TEST_PASSWORD, "csrf": csrf.group(1),
                                         "next": elsewhere})
        assert done.headers["location"] == "/", elsewhere
