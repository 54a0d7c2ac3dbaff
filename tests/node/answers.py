"""Whole answers of the hub, as a scripted hub (``httpx.MockTransport``) gives them: the client
reads every answer into its wire model, so a scripted answer must be a complete one."""

from __future__ import annotations

from typing import Any


def document_answer(**fields: Any) -> dict[str, Any]:
    """A document as ``POST /api/documents`` or ``GET /api/documents/{id}`` answers it."""
    return {"id": "doc-1", "message_id": "msg-42", "sender": "ha-noi", "recipients": ["central-office"],
            "number": "", "doc_type": "cong-van", "subject": "s", "doc_date": None, "classification": "normal",
            "channel": "signed_valid", "filename": "document.bin", "sha256": "ab" * 32, "size": 9,
            "indication": "TOTAL_PASSED", "sub_indication": None, "created_at": "2015-03-02T08:00:00Z",
            "deliveries": [], "report": None, "duplicate": False, **fields}


def receipt_answer(**fields: Any) -> dict[str, Any]:
    """A receipt as ``POST /api/documents/{id}/receipts`` answers it."""
    return {"id": 1, "document_id": "doc-1", "recipient": "nghe-an", "status": "02", "status_name": "rejected",
            "reason": "", "stated_at": "2015-03-02T08:00:00Z", "created_at": "2015-03-02T08:00:01Z",
            "indication": "TOTAL_PASSED", "statement": "{}", "signature_b64": "", "report": {}, **fields}
