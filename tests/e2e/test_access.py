"""People at a real hub process, on SQLite and PostgreSQL: without a login no page or API shows
a document, a clerk of one body sees none of another's, an auditor sees a secret document's
metadata but not its content, and every refusal is in the access log."""

from __future__ import annotations

import uuid
from pathlib import Path

from exchange.domain.documents import Classification, DocumentMetadata
from exchange.node import node_verifier, send_secret
from exchange.pki import KeyStore

from e2e.harness import RunningHub, assert_error

SECRET = "NỘI DUNG MẬT e2e 51d0"


def send(hub: RunningHub, sender: str, recipient: str, text: str, **fields: object) -> str:
    meta = DocumentMetadata.from_dict({"recipients": [recipient], "subject": f"Công văn {text[:12]}",
                                       "message_id": str(uuid.uuid4()), **fields})
    with hub.client(sender) as client:
        if meta.classification is Classification.SECRET:  # signed, encrypted, signed again
            return send_secret(client, text.encode() * 10, metadata=meta, filename="cv.txt", own_encryption=None,
                               paths=node_verifier(KeyStore(hub.keys)).paths, at=client.clock()).id
        return client.send(text.encode() * 10, metadata=meta, filename="cv.txt").id


def test_without_a_login_nothing_and_a_clerk_only_its_own(hub: RunningHub, workdir: Path) -> None:
    mine = send(hub, "nghe-an", "ha-noi", "Nghe An gui Ha Noi")
    theirs = send(hub, "da-nang", "central-office", "Da Nang gui Trung uong")
    secret = send(hub, "da-nang", "central-office", SECRET, classification=Classification.SECRET.value)

    with hub.http() as anonymous:
        for path in ("/", "/documents", f"/documents/{theirs}", f"/documents/{theirs}/workflow", "/access"):
            response = anonymous.get(path)
            assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
        for path in ("/api/register", "/api/measures", "/api/bodies", "/api/access", "/api/activity",
                     f"/api/documents/{theirs}", f"/api/documents/{theirs}/file"):
            assert anonymous.get(path).status_code == 401, path

    with hub.person("clerk", body="ha-noi") as clerk:
        ids = {e["document_id"] for e in clerk.get("/api/register").json()["entries"]}
        assert mine in ids and theirs not in ids and secret not in ids
        assert clerk.get(f"/documents/{mine}").status_code == 200
        refused = clerk.get(f"/documents/{theirs}")
        assert refused.status_code == 403 and "Da Nang gui" not in refused.text
        assert_error(clerk.get("/api/access"), 403, "role-not-allowed")

    with hub.auditor() as auditor:
        page = auditor.get(f"/documents/{secret}")
        assert page.status_code == 200 and "Công văn" in page.text and SECRET not in page.text
        log = auditor.get("/api/access", params={"outcome": "refused"}).json()["entries"]
        refusals = {(e["actor"], e["code"], e["target"]) for e in log}
        assert ("test-clerk-ha-noi", "other-body", f"GET /documents/{theirs}") in refusals
        assert ("anonymous", "not-logged-in", "GET /api/register") in refusals
        views = auditor.get("/api/access", params={"action": "view", "actor": "test-auditor"}).json()["entries"]
        assert [e["target"] for e in views] == [secret]

    # A node fetching a document's content is a view too, by the body.
    with hub.client("ha-noi") as client:
        client.download(mine, workdir / "fetched.txt")
    with hub.auditor() as auditor:
        views = auditor.get("/api/access", params={"action": "view", "actor": "ha-noi"}).json()["entries"]
    assert [(e["target"], e["actor_kind"], e["outcome"]) for e in views] == [(mine, "body", "allowed")]


def test_crafted_names_and_paths_are_refused_and_logged_not_a_5xx(hub: RunningHub) -> None:
    """NUL and lone surrogates (PostgreSQL stores neither) in a login name, a path, a filter."""
    with hub.http() as anonymous:
        for name in ("a%00b", "%ED%A0%80x", "x" * 300, "%FF%FE"):  # raw, as a crafted client sends it
            form = anonymous.get("/login").text
            csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            done = anonymous.post("/login", content=f"name={name}&password=whatever%00it%ED%A0%80is&csrf={csrf}",
                                  headers={"content-type": "application/x-www-form-urlencoded"})
            assert done.status_code in (400, 401), (name, done.status_code)
        for path in ("/documents/%00", "/api/register/%ED%A0%80", "/documents/%ED%A0%80"):
            assert anonymous.get(path).status_code < 500, path
    with hub.auditor() as auditor:
        for actor in ("%00", "a%00", "%ED%B3%BF", "%FF"):
            response = auditor.get(f"/api/access?actor={actor}")
            assert response.status_code == 200 and response.json()["entries"] == [], actor
        assert_error(auditor.get("/api/access", params={"page": 10**30}), 400, "invalid-request")
        assert_error(auditor.get("/api/access", params={"action": "dance"}), 400, "invalid-request")
        assert auditor.get("/access", params={"page": 10**30, "action": "dance"}).status_code == 400
        refused = auditor.get("/api/access", params={"actor": "anonymous", "outcome": "refused"}).json()
        assert any(e["target"].startswith("GET /documents/") for e in refused["entries"])
