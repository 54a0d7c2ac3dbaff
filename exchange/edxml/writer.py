"""Write edXML packages exactly as the Government Office's SDK (the VNPT library) lays them out.

Flavour J of ``docs/edxml.md``: ``<edXML>`` in the QCVN default namespace; the envelope
redeclares it as ``edXML:`` and every element inside carries that prefix; ``AttachmentEncoded``
and its ``Attachment`` children sit outside the envelope without a prefix, except
``edXML:ContentTransferEncoded``, which redeclares it. Two-space indentation, UTF-8 without a
BOM, ``yyyy/MM/dd`` dates and ``yyyy/MM/dd HH:mm:ss`` times, the library's element order.
PDF (and doc, xls, zip) files travel raw; any other file is zipped into one ``<uuid>.<ext>``
entry with ContentType ``application/zip``, as the library does.

The XML signature is added afterwards (:mod:`exchange.edxml.xmlsig`) in the place where the
SDK puts its ``<Signature>``: the last child of ``edXMLHeader``.
"""

from __future__ import annotations

import base64
import io
import uuid
import zipfile
from datetime import date
from xml.sax.saxutils import escape

from exchange.edxml.codes import DSIG_NS, NS, format_date, format_time
from exchange.edxml.model import (
    Attachment,
    Business,
    DocumentPackage,
    Organization,
    ResponseFor,
    StaffInfo,
    StatusPackage,
)

#: The extensions the library sends raw, and their ContentType; everything else is zipped.
RAW_TYPES = {"pdf": "application/pdf", "doc": "application/msword",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "xls": "application/vnd.ms-excel",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "zip": "application/zip"}
#: Where the XML signature goes: :mod:`exchange.edxml.xmlsig` replaces this element.
SIGNATURE_PLACEHOLDER = f'<Signature xmlns="{DSIG_NS}" Id="placeholder"></Signature>'

_Node = tuple[str, "str | list[_Node] | None"]


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, depth: int, text: str) -> None:
        self.lines.append("  " * depth + text)

    def node(self, depth: int, name: str, value: str | list[_Node] | None) -> None:
        """``<edXML:name>`` with text, or with children; None (absent optional) writes nothing."""
        if value is None or (isinstance(value, list) and all(v is None for _, v in value)):
            return  # an absent optional element (or one with nothing in it) is not written
        if isinstance(value, str):
            self.add(depth, f"<edXML:{name}>{escape(value)}</edXML:{name}>")
            return
        self.add(depth, f"<edXML:{name}>")
        for child, child_value in value:
            self.node(depth + 1, child, child_value)
        self.add(depth, f"</edXML:{name}>")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def document_package_xml(package: DocumentPackage, *, signed: bool = True) -> bytes:
    """The package as the SDK writes it (with the signature placeholder when *signed*)."""
    out = _Lines()
    _open(out)
    out.add(3, "<edXML:MessageHeader>")
    out.node(4, "From", _org(package.sender))
    for recipient in package.recipients:
        out.node(4, "To", _org(recipient))
    out.node(4, "DocumentId", package.document_id)
    out.node(4, "Code", [("CodeNumber", package.code_number), ("CodeNotation", package.code_notation)])
    out.node(4, "PromulgationInfo", [("Place", package.place or None),
                                     ("PromulgationDate", _date(package.promulgation_date))])
    out.node(4, "DocumentType", [("Type", _int(package.type_code)), ("TypeDetail", _int(package.type_detail)),
                                 ("TypeName", package.type_name or None)])
    out.node(4, "Subject", package.subject)
    out.node(4, "Content", package.content or package.subject)
    out.node(4, "SignerInfo", [("Competence", package.signer_competence or None),
                               ("Position", package.signer_position or None),
                               ("FullName", package.signer_name or None)])
    out.node(4, "DueDate", _date(package.due_date) or None)
    out.node(4, "OtherInfo", [
        ("Priority", _int(package.priority)), ("SphereOfPromulgation", package.sphere or None),
        ("TyperNotation", package.typer_notation or None),
        ("PromulgationAmount", _int(package.promulgation_amount)), ("PageAmount", _int(package.page_amount)),
        ("Appendixes", [("Appendix", a) for a in package.appendixes] or None)])
    for response in package.response_for:
        out.node(4, "ResponseFor", _response_for(response))
    out.node(4, "SteeringType", _int(package.steering_type))
    if package.to_places:
        out.node(4, "ToPlaces", [("Place", p) for p in package.to_places])
    out.add(3, "</edXML:MessageHeader>")
    out.add(3, "<edXML:TraceHeaderList>")
    for trace in package.traces:
        out.node(4, "TraceHeader", [("OrganId", trace.organ_id),
                                    ("Timestamp", format_time(trace.timestamp) if trace.timestamp else None)])
    out.node(4, "Bussiness", _business(package.business))
    out.add(3, "</edXML:TraceHeaderList>")
    if signed:
        out.add(3, SIGNATURE_PLACEHOLDER)
    out.add(2, "</edXML:edXMLHeader>")
    out.add(2, "<edXML:edXMLBody>")
    out.add(3, '<edXML:edXMLManifest version="1.0">')
    encoded = [_encode(a) for a in package.attachments]
    for attachment, (content_type, _) in zip(package.attachments, encoded, strict=True):
        out.node(4, "Reference", [("ContentId", f"cid:{attachment.content_id}"), ("ContentType", content_type),
                                  ("Description", attachment.description or attachment.name),
                                  ("AttachmentName", attachment.name)])
    out.add(3, "</edXML:edXMLManifest>")
    out.add(2, "</edXML:edXMLBody>")
    out.add(1, "</edXML:edXMLEnvelope>")
    out.add(1, "<AttachmentEncoded>")
    for attachment, (content_type, payload) in zip(package.attachments, encoded, strict=True):
        out.add(2, "<Attachment>")
        out.add(3, f"<ContentId>cid:{escape(attachment.content_id)}</ContentId>")
        out.add(3, f"<AttachmentName>{escape(attachment.name)}</AttachmentName>")
        out.add(3, f"<Description>{escape(attachment.description or attachment.name)}</Description>")
        out.add(3, f"<ContentType>{content_type}</ContentType>")
        out.add(3, f'<edXML:ContentTransferEncoded xmlns:edXML="{NS}">{payload}</edXML:ContentTransferEncoded>')
        out.add(2, "</Attachment>")
    out.add(1, "</AttachmentEncoded>")
    out.add(0, "</edXML>")
    return out.text().encode("utf-8")


def status_package_xml(package: StatusPackage, *, signed: bool = True) -> bytes:
    """A status package: no body, no attachments; From, ResponseFor, StaffInfo, StatusCode,
    Description, Timestamp (the library's MessageStatus order)."""
    out = _Lines()
    _open(out)
    out.add(3, "<edXML:MessageHeader>")
    out.node(4, "From", _org(package.sender))
    out.node(4, "ResponseFor", _response_for(package.response_for))
    if package.staff is not None:
        out.node(4, "StaffInfo", _staff(package.staff))
    out.node(4, "StatusCode", package.status_code)
    out.node(4, "Description", package.description or None)
    out.node(4, "Timestamp", format_time(package.timestamp) if package.timestamp else None)
    out.add(3, "</edXML:MessageHeader>")
    if signed:
        out.add(3, SIGNATURE_PLACEHOLDER)
    out.add(2, "</edXML:edXMLHeader>")
    out.add(1, "</edXML:edXMLEnvelope>")
    out.add(0, "</edXML>")
    return out.text().encode("utf-8")


def content_id_for(document_id: str, index: int) -> str:
    """A stable UUID ContentId, so exporting the same document twice writes the same bytes."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"edxml:{document_id}:{index}"))


def _open(out: _Lines) -> None:
    out.lines.append('<?xml version="1.0" encoding="UTF-8"?>')
    out.add(0, f'<edXML xmlns="{NS}">')
    out.add(1, f'<edXML:edXMLEnvelope xmlns:edXML="{NS}">')
    out.add(2, "<edXML:edXMLHeader>")


def _encode(attachment: Attachment) -> tuple[str, str]:
    """(ContentType, one-line base64) as the library sends it: raw or zipped by extension."""
    ext = attachment.name.rsplit(".", 1)[-1].lower() if "." in attachment.name else ""
    if ext in RAW_TYPES:
        return RAW_TYPES[ext], base64.b64encode(attachment.data).decode("ascii")
    buffer = io.BytesIO()
    entry = zipfile.ZipInfo(f"{attachment.content_id}.{ext or 'bin'}", date_time=(2015, 1, 1, 0, 0, 0))
    entry.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(entry, attachment.data)
    return "application/zip", base64.b64encode(buffer.getvalue()).decode("ascii")


def _org(org: Organization) -> list[_Node]:
    return [("OrganId", org.organ_id), ("OrganizationInCharge", org.in_charge or org.name or None),
            ("OrganName", org.name or None), ("OrganAdd", org.address or None), ("Email", org.email or None),
            ("Telephone", org.telephone or None), ("Fax", org.fax or None), ("Website", org.website or None)]


def _response_for(response: ResponseFor) -> list[_Node]:
    return [("OrganId", response.organ_id), ("Code", response.code),
            ("PromulgationDate", _date(response.promulgation_date)), ("DocumentId", response.document_id)]


def _staff(staff: StaffInfo) -> list[_Node]:
    return [("Department", staff.department or None), ("Staff", staff.staff or None),
            ("Email", staff.email or None), ("Mobile", staff.mobile or None)]


def _business(business: Business) -> list[_Node]:
    nodes: list[_Node] = []
    if business.document_id:
        nodes.append(("DocumentId", business.document_id))
    nodes += [("BussinessDocType", business.doc_type.value),
              ("BussinessDocReason", business.reason or business.doc_type.reason_vi),
              ("Paper", "1" if business.paper else "0")]
    if business.update is not None:
        info = business.update
        nodes.append(("BussinessDocumentInfo", [
            ("DocumentInfo", "1" if info.document_info else "0"),
            ("DocumentReceiver", "1" if info.document_receiver else "0"),
            ("ReceiverList", [("Receiver", [("OrganId", o), ("ReceiverType", t)]) for o, t in info.receivers]
             or None)]))
    if business.staff is not None:
        nodes.append(("StaffInfo", _staff(business.staff)))
    if business.replaces:
        nodes.append(("ReplacementInfoList", [
            ("ReplacementInfo", [("DocumentId", r.document_id),
                                 ("OrganIdList", [("OrganId", o) for o in r.organ_ids] or None)])
            for r in business.replaces]))
    return nodes


def _date(value: date | None) -> str:
    return format_date(value) if value else ""


def _int(value: int | None) -> str | None:
    return None if value is None else str(value)


