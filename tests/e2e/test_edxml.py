"""edXML on a real hub, driven by the CLI as a user would: export a sent document and read it
with the independent parser; recall and the recipients' signed answers; update and replace
(K1 counts once); packages from an outside agency (K3, born digital), statuses about our
documents, and hostile or broken packages refused with nothing stored."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from edxml.sdk_parser import parse as sdk_parse

from exchange.domain.bodies import BodyRegistry

SDK = Path(__file__).resolve().parents[2] / "samples" / "edxml" / "sdk"
PERIOD = str(datetime.now(UTC).year)  # the register counts by when the hub registered a row: now


def _measures(hub):
    with hub.auditor() as http:  # the measures are for people now
        return http.get("/api/measures", params={"period": PERIOD}).json()


def _incoming(hub):
    with hub.auditor() as http:
        return http.get("/api/register").json()["incoming"]


def _send(hub, workdir, name, *, number, to=("central-office", "ha-noi")):
    path = workdir / name
    path.write_bytes(b"%PDF-1.4\n% " + name.encode() + b"\n%%EOF\n")
    args = [a for r in to for a in ("--to", r)]
    return hub.cli_json("node", "send", str(path), "--as", "organization-commission", *args, "--subject",
                        "Báo cáo kết quả", "--number", number, "--date", "2015-06-30", cwd=workdir), path


def test_an_exported_document_reads_field_by_field_and_its_signature_verifies(hub, pki, workdir):
    sent, path = _send(hub, workdir, "bao-cao.pdf", number="318-BC/BTCTW")
    hub.cli("edxml", "export", sent["id"], "--as", "organization-commission", "-o", "out.edxml", cwd=workdir)
    data = (workdir / "out.edxml").read_bytes()
    got = sdk_parse(data)
    bodies = BodyRegistry.from_toml(pki.bodies_file)
    assert got["from"] == bodies.get("organization-commission").organ_id
    assert got["to"] == [bodies.get("central-office").organ_id, bodies.get("ha-noi").organ_id]
    assert (got["code_number"], got["code_notation"]) == ("318", "BC/BTCTW")
    assert got["subject"] == "Báo cáo kết quả" and got["promulgation_date"] == "2015/06/30"
    assert got["signer"] == bodies.get("organization-commission").name_vi  # from the hub's validation
    signature = hub.client("organization-commission").signature(sent["id"])
    assert got["attachments"] == {"bao-cao.pdf": hashlib.sha256(path.read_bytes()).hexdigest(),
                                  "bao-cao.pdf.p7s": hashlib.sha256(signature).hexdigest()}
    shown = hub.cli("edxml", "inspect", "out.edxml", cwd=workdir).stdout
    assert "XML signature valid by organization-commission" in shown
    if shutil.which("xmlsec1"):
        ok = subprocess.run(["xmlsec1", "--verify", "--trusted-pem", str(pki.dir / "root-ca.pem"),
                             str(workdir / "out.edxml")], capture_output=True)
        assert ok.returncode == 0
    refused = hub.cli("edxml", "export", sent["id"], "--as", "ha-noi", "-o", "x.edxml", cwd=workdir, check=False)
    assert refused.returncode == 2 and "only its sender exports it" in refused.stderr


def test_a_recall_reaches_the_recipients_and_their_signed_answers_are_on_the_trail(hub, workdir):
    sent, _ = _send(hub, workdir, "nham.pdf", number="319-CV/BTCTW")
    hub.cli("node", "recall", sent["id"], "--as", "organization-commission", "--reason", "Gửi nhầm phụ lục", cwd=workdir)
    inbox = hub.cli_json("node", "inbox", "--as", "ha-noi", cwd=workdir)
    mine = next(d for d in inbox if d["id"] == sent["id"])
    assert next(x for x in mine["deliveries"] if x["recipient"] == "ha-noi")["status"] == "13"
    hub.cli("node", "ack", sent["id"], "--as", "ha-noi", "--status", "change_accepted", cwd=workdir)
    hub.cli("node", "ack", sent["id"], "--as", "central-office", "--status", "16", "--reason", "đã vào sổ", cwd=workdir)
    trail = hub.cli_json("node", "status", sent["id"], "--as", "organization-commission", cwd=workdir)
    assert {(r["recipient"], r["status"], r["indication"]) for r in trail} == {
        ("ha-noi", "15", "TOTAL_PASSED"), ("central-office", "16", "TOTAL_PASSED")}
    events = hub.client("organization-commission").business_events(sent["id"])
    assert [(e.action, e.reason, e.indication) for e in events] == [
        ("recall", "Gửi nhầm phụ lục", "TOTAL_PASSED")]
    hub.cli("edxml", "status", sent["id"], "--as", "organization-commission", "-o", "s13.edxml", cwd=workdir)
    hub.cli("edxml", "status", sent["id"], "--as", "ha-noi", "-o", "s15.edxml", cwd=workdir)
    assert sdk_parse((workdir / "s13.edxml").read_bytes())["status"] == "13"
    assert sdk_parse((workdir / "s15.edxml").read_bytes())["status"] == "15"
    again = hub.cli("node", "recall", sent["id"], "--as", "organization-commission", "--reason", "x", cwd=workdir,
                    check=False)
    assert again.returncode == 1 and "already recalled" in again.stderr
    answer = hub.cli("node", "ack", sent["id"], "--as", "central-office", "--status", "13", cwd=workdir, check=False)
    assert answer.returncode != 0 and "recall" in answer.stderr


def test_a_replacement_names_the_replaced_document_and_k1_counts_it_once(hub, workdir):
    before = _measures(hub)["k1"]["denominator"]
    sent, _ = _send(hub, workdir, "v1.pdf", number="320-BC/BTCTW", to=("central-office",))
    middle = _measures(hub)["k1"]["denominator"]
    assert middle == before + 1
    v2 = workdir / "v2.pdf"
    v2.write_bytes(b"%PDF-1.4\n% v2\n%%EOF\n")
    out = hub.cli("node", "replace", sent["id"], str(v2), "--as", "organization-commission", "--reason",
                  "Sửa số liệu", "--date", "2015-07-01", cwd=workdir).stdout
    new_id = out.split("replaced by ")[1].split()[0]
    events = hub.client("central-office").business_events(new_id)
    assert [(e.action, e.document_id, e.related_id) for e in events] == [("replace", sent["id"], new_id)]
    after = _measures(hub)["k1"]["denominator"]
    assert after == middle  # the original left K1, its replacement came in: one document, counted once
    hub.cli("edxml", "export", new_id, "--as", "organization-commission", "-o", "rep.edxml", cwd=workdir)
    got = sdk_parse((workdir / "rep.edxml").read_bytes())
    assert got["business_type"] == "3" and got["replaces"] == [got["document_id"].replace(",2015/07/01,", ",2015/06/30,")]
    hub.cli("node", "update", new_id, "--as", "organization-commission", "--subject", "Báo cáo (sửa)",
            "--reason", "Sai trích yếu", cwd=workdir)
    assert hub.client("central-office").document(new_id).subject == "Báo cáo (sửa)"
    hub.cli("edxml", "export", new_id, "--as", "organization-commission", "--business", "update", "-o", "u.edxml",
            cwd=workdir)
    assert sdk_parse((workdir / "u.edxml").read_bytes())["business_type"] == "2"


def test_an_outside_agencys_package_registers_moves_k3_and_bad_ones_store_nothing(hub, workdir):
    def k3():
        return _measures(hub)["k3"]
    def incoming_rows():
        return len(_incoming(hub))
    before, rows = k3(), incoming_rows()
    # Hostile or broken packages first: one line, non-zero, nothing stored.
    bad = {"xxe.edxml": b'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY x SYSTEM "file:///etc/passwd">]><edXML>&x;</edXML>',
           "not.edxml": b"%PDF-1.4 not a package",
           "b64.edxml": (SDK / "edoc_new.edxml").read_bytes().replace(b"JVBERi0xLjQK", b"@@@@", 1)}
    for name, data in bad.items():
        (workdir / name).write_bytes(data)
        done = hub.cli("node", "register-incoming", "--as", "propaganda-commission", "--edxml", name, cwd=workdir,
                       check=False)
        assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, name
    with hub.http(hub.token("propaganda-commission")) as http:
        response = http.post("/api/incoming/edxml", files={"package": ("x.edxml", bad["xxe.edxml"], "application/xml")})
    assert response.status_code == 400 and response.json()["code"] == "xml-attack"
    assert incoming_rows() == rows and k3() == before
    shown = hub.cli("node", "register-incoming", "--as", "propaganda-commission", "--edxml",
                    str(SDK / "edoc_new.edxml"), cwd=workdir).stdout
    assert "born digital" in shown and "000.00.00.G12" in shown
    register = _incoming(hub)
    assert len(register) == rows + 1
    newest = max(register, key=lambda r: r["received_at"])
    assert newest["electronic"] is True and newest["scanned"] is False and newest["from_agency"] == "Bộ Tài chính"
    after = k3()  # born digital: received and stored electronically without a scan
    assert (after["numerator"], after["denominator"]) == (before["numerator"] + 1, before["denominator"] + 1)
    hub.cli("node", "register-incoming", "--as", "propaganda-commission", "--edxml",
            str(SDK / "edoc_replacement.edxml"), cwd=workdir)
    register = _incoming(hub)
    assert [r["superseded"] for r in sorted(register, key=lambda r: r["received_at"])][-2:] == [True, False]


def test_a_status_from_an_outside_agency_lands_on_our_documents_trail(hub, workdir):
    sent, _ = _send(hub, workdir, "gui-bo.pdf", number="321-CV/BTCTW")
    hub.cli("edxml", "export", sent["id"], "--as", "organization-commission", "-o", "to-agency.edxml", cwd=workdir)
    our_id = sdk_parse((workdir / "to-agency.edxml").read_bytes())["document_id"]
    status = (SDK / "status_acceptance_03.edxml").read_text(encoding="utf-8").replace(
        "000.00.00.G12,2015/09/30,7816/BTC-THTK", our_id)
    (workdir / "s03.edxml").write_text(status, encoding="utf-8")
    shown = hub.cli("node", "register-incoming", "--as", "organization-commission", "--edxml", "s03.edxml",
                    cwd=workdir).stdout
    assert f"status 03 from 000.00.00.A41 recorded on document {sent['id']}" in shown
    stranger = hub.cli("node", "register-incoming", "--as", "organization-commission", "--edxml",
                       str(SDK / "status_acceptance_03.edxml"), cwd=workdir, check=False)
    assert stranger.returncode == 1 and "not about one of yours" in stranger.stderr


@pytest.mark.parametrize("name", ["edoc_new.edxml", "edoc_revocation.edxml", "edoc_update.edxml",
                                  "edoc_replacement.edxml", *sorted(p.name for p in SDK.glob("status_*"))])
def test_inspect_reads_every_sdk_shaped_sample(name, tmp_path):
    done = subprocess.run([sys.executable, "-m", "exchange", "edxml", "inspect", str(SDK / name), "--json"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    assert said["from"]["organ_id"] in ("000.00.00.G12", "000.00.00.A41")
    assert said["kind"] == ("status" if name.startswith("status_") else "document")
    if said["kind"] == "document":
        assert said["xml_signature"]["status"] == "sdk-placeholder"
