"""``exchange keys``: init, list, revoke, renew, as a user runs them."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

from tests.cli.conftest import Run
from tests.conftest import TestPKI


def test_init_creates_pki_and_refuses_to_overwrite(run: Run, pki: TestPKI, tmp_path: Path) -> None:
    keys = tmp_path / "k"
    first = run("keys", "init", "--dir", keys, "--bodies", pki.bodies_file)
    assert first.returncode == 0, first.stderr
    assert "trust anchor" in first.stdout
    for name in ("root-ca.pem", "issuing-ca.pem", "crl.pem", "hub.pem", "bodies/ha-noi.pem"):
        assert (keys / name).is_file(), name
    assert stat.S_IMODE((keys / "bodies" / "ha-noi.key").stat().st_mode) == 0o600
    root_before = (keys / "root-ca.pem").read_bytes()

    again = run("keys", "init", "--dir", keys, "--bodies", pki.bodies_file)
    assert again.returncode != 0
    assert again.stderr.count("\n") == 1 and "--force" in again.stderr
    assert (keys / "root-ca.pem").read_bytes() == root_before  # nothing overwritten

    forced = run("keys", "init", "--dir", keys, "--bodies", pki.bodies_file, "--force",
                 "--algorithm", "ecdsa-p256")
    assert forced.returncode == 0, forced.stderr
    assert (keys / "root-ca.pem").read_bytes() != root_before


def test_list_json_gives_paths_openssl_can_use(run: Run, pki: TestPKI) -> None:
    listed = run("keys", "list", "--dir", pki.dir, "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["id"]: r for r in json.loads(listed.stdout)}
    assert set(rows) == set(pki.bodies.ids()) | {"tsa"}
    hanoi = rows["ha-noi"]
    assert {"id", "kind", "name", "status", "not_after", "cert_path", "key_path", "serial"} <= set(hanoi)
    assert hanoi["name"] == "Thành ủy Hà Nội" and hanoi["kind"] == "provincial"
    assert hanoi["status"] == "valid"
    text = subprocess.run(["openssl", "x509", "-in", hanoi["cert_path"], "-noout", "-subject", "-nameopt", "utf8"],
                          capture_output=True, text=True)
    assert "Thành ủy Hà Nội" in text.stdout


def test_revoke_then_list_shows_revoked_and_twice_is_refused(run: Run, pki_copy, pki: TestPKI) -> None:
    keys = pki_copy.directory
    done = run("keys", "revoke", "nghe-an", "--reason", "key_compromise", "--dir", keys, "--bodies", pki.bodies_file)
    assert done.returncode == 0, done.stderr
    rows = {r["id"]: r for r in json.loads(run("keys", "list", "--dir", keys, "--json").stdout)}
    assert rows["nghe-an"]["status"] == "revoked"
    assert rows["da-nang"]["status"] == "valid"
    twice = run("keys", "revoke", "nghe-an", "--dir", keys, "--bodies", pki.bodies_file)
    assert twice.returncode == 1 and "already revoked" in twice.stderr


def test_renew_issues_new_certificate_and_old_signatures_still_verify(run: Run, pki_copy, pki: TestPKI,
                                                                      tmp_path: Path) -> None:
    keys = pki_copy.directory
    doc = tmp_path / "công văn.txt"
    doc.write_text("Kính gửi các tỉnh ủy", encoding="utf-8")
    assert run("sign", doc, "--as", "da-nang", "--keys", keys).returncode == 0
    old_serial = json.loads(run("keys", "list", "--dir", keys, "--json").stdout)
    renewed = run("keys", "renew", "da-nang", "--dir", keys, "--bodies", pki.bodies_file)
    assert renewed.returncode == 0, renewed.stderr
    new_serial = json.loads(run("keys", "list", "--dir", keys, "--json").stdout)
    assert [r["serial"] for r in old_serial if r["id"] == "da-nang"] != \
        [r["serial"] for r in new_serial if r["id"] == "da-nang"]
    assert list((keys / "bodies" / "archive").glob("da-nang-*.pem"))
    assert run("verify", doc, "--keys", keys).returncode == 0


def test_unknown_body_is_one_line_exit_2(run: Run, pki: TestPKI) -> None:
    result = run("keys", "revoke", "atlantis", "--dir", pki.dir, "--bodies", pki.bodies_file)
    assert result.returncode == 2
    assert result.stderr.startswith("error: unknown body id 'atlantis'") and result.stderr.count("\n") == 1


def test_keys_crl_re_issues_both_crls_and_init_names_the_hub(run: Run, pki: TestPKI, tmp_path: Path) -> None:
    keys = tmp_path / "k"
    made = run("keys", "init", "--dir", keys, "--bodies", pki.bodies_file, "--algorithm", "ecdsa-p256",
               "--hub", "http://hub.test:9000", "--crl-days", "2")
    assert made.returncode == 0, made.stderr
    assert "time-stamping authority" in made.stdout and "current for 2 days" in made.stdout
    before = {name: (keys / name).read_bytes() for name in ("crl.pem", "root-crl.pem")}
    again = run("keys", "crl", "--dir", keys, "--days", "30")
    assert again.returncode == 0, again.stderr
    assert "current for 30 days" in again.stdout
    assert all((keys / name).read_bytes() != data for name, data in before.items())
    text = subprocess.run(["openssl", "x509", "-in", keys / "bodies" / "ha-noi.pem", "-noout", "-ext",
                           "crlDistributionPoints"], capture_output=True, text=True).stdout
    assert "http://hub.test:9000/api/crl" in text
    listed = {r["id"]: r for r in json.loads(run("keys", "list", "--dir", keys, "--json").stdout)}
    assert listed["tsa"]["kind"] == "tsa" and listed["tsa"]["status"] == "valid"
