"""A small register put into a real hub through ``HubClient``, as nodes would: each channel,
a refused (tampered) signature, receipts, a secret document and outside documents (K3)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from exchange.cms import sign_detached
from exchange.domain.documents import Classification, DocumentMetadata, ReceiptStatus
from exchange.errors import RejectedError
from exchange.node import acknowledge, fetch, node_verifier, send_secret
from exchange.pki import KeyStore

from e2e.harness import RunningHub

#: a phrase only the secret document contains: it must never appear on a page
SECRET_MARKER = "NỘI DUNG MẬT — không được hiển thị 7f3a"


@dataclass(frozen=True)
class Seeded:
    signed: str  # central-office -> ha-noi, nghe-an; both verify and acknowledge
    from_province: str  # nghe-an -> central-office, signed; accepted
    unsigned: str  # da-nang -> organization-commission
    paper: str  # ha-noi -> propaganda-commission
    tampered: str  # organization-commission -> da-nang: refused, HASH_FAILURE
    secret: str  # propaganda-commission -> ha-noi, classified secret


def metadata(recipients: tuple[str, ...], subject: str, number: str = "",
             classification: Classification = Classification.NORMAL) -> DocumentMetadata:
    return DocumentMetadata(recipients=recipients, subject=subject, message_id=str(uuid.uuid4()), number=number,
                            classification=classification)


def seed(hub: RunningHub, samples: Path, workdir: Path) -> Seeded:
    documents = samples / "documents"
    verifier = node_verifier(KeyStore(hub.keys))

    def receive(body: str, document_id: str, status: ReceiptStatus | None = None) -> None:
        with hub.client(body) as client:
            got = fetch(client, document_id, out_dir=workdir / body, verifier=verifier, at=client.clock)
            acknowledge(client, got)  # the node's own verdict: received, or rejected with why
            if status is not None:
                acknowledge(client, got, status=status)

    with hub.client("central-office") as client:
        signed = client.send(documents / "01-cong-van-bao-cao-cntt.txt", metadata=metadata(
            ("ha-noi", "nghe-an"), "V/v báo cáo kết quả ứng dụng công nghệ thông tin 6 tháng đầu năm",
            "1126-CV/VPTW")).id
    receive("ha-noi", signed)
    receive("nghe-an", signed, ReceiptStatus.ACCEPTED)
    with hub.client("nghe-an") as client:
        from_province = client.send(documents / "03-bao-cao-nghe-an-6-thang.pdf", metadata=metadata(
            ("central-office",), "Báo cáo kết quả ứng dụng CNTT 6 tháng đầu năm 2015", "318-BC/TU")).id
    receive("central-office", from_province, ReceiptStatus.ACCEPTED)
    with hub.client("da-nang") as client:
        unsigned = client.send(documents / "05-ke-hoach-chu-ky-so-da-nang.pdf", sign=False, metadata=metadata(
            ("organization-commission",), "Kế hoạch triển khai chữ ký số năm 2015", "86-KH/TU")).id
    with hub.client("ha-noi") as client:
        paper = client.send_paper(metadata=metadata(("propaganda-commission",), "Công văn gửi bằng giấy",
                                                    "77-CV/TU")).id
    with hub.client("organization-commission") as client:
        original = (documents / "02-quyet-dinh-quy-che-chu-ky-so.txt").read_bytes()
        signature = sign_detached(original, client.credential, at=client.clock())
        altered = original.replace(b"2015", b"2016", 1)  # changed in transit
        with pytest.raises(RejectedError) as refused:
            client.send(altered, signature=signature, filename="02-quyet-dinh.txt", metadata=metadata(
                ("da-nang",), "Quyết định ban hành Quy chế gửi, nhận văn bản điện tử", "312-QĐ/VPTW"))
        tampered = refused.value.detail["document_id"]
    with hub.client("propaganda-commission") as client:  # signed, encrypted to ha-noi, signed again
        store = KeyStore(hub.keys)
        secret = send_secret(client, f"{SECRET_MARKER}\n".encode() * 20, filename="mat.txt", metadata=metadata(
            ("ha-noi",), "Văn bản mật (thử nghiệm)", "9-M/BTG", Classification.SECRET), paths=verifier.paths,
            own_encryption=store.encryption_certificate("propaganda-commission"), at=client.clock()).id
    with hub.client("ha-noi") as client:
        client.register_incoming(from_agency="Bộ Tài chính", scan=documents / "04-thong-bao-tam-ngung-he-thong.pdf",
                                 subject="Công văn về dự toán ngân sách")
        client.register_incoming(from_agency="UBND thành phố Hà Nội", subject="Báo cáo chưa số hóa")
    with hub.client("nghe-an") as client:
        client.register_incoming(from_agency="Sở Nội vụ tỉnh Nghệ An", subject="Giấy mời", entered=False)
    return Seeded(signed, from_province, unsigned, paper, tampered, secret)
