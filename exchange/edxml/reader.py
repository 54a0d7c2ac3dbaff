"""Read an edXML package from bytes: tolerant in what it accepts, refusing what is hostile.

Tolerant (as real packages need): any namespace prefix or none, both spellings of Bussiness,
every date style, missing optional elements, zipped or raw attachments whatever their
ContentType says, the SDK's placeholder ``<Signature>``. Refused with a
:class:`~exchange.errors.MalformedError` (code ``invalid-edxml``, ``xml-attack`` or
``bad-attachment``) or a :class:`~exchange.errors.TooLargeError`: anything that is not a QCVN
102 package, a package over the size limit, an attachment that does not decode, and any DTD
(external entities, billion laughs): QCVN packages never carry one, so none is parsed.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import zipfile
from collections.abc import Iterator

from lxml import etree

from exchange.edxml.codes import DSIG_NS, BusinessDocType, StatusCode, parse_date, parse_time
from exchange.edxml.model import (
    Attachment,
    Business,
    DocumentPackage,
    Organization,
    Package,
    Replacement,
    ResponseFor,
    StaffInfo,
    StatusPackage,
    Trace,
    UpdateInfo,
    split_code,
)
from exchange.errors import MalformedError, TooLargeError

#: A package larger than this is refused before parsing (base64 of a 50 MiB document ≈ 67 MiB).
DEFAULT_MAX_PACKAGE = 80 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_WHITESPACE = re.compile(rb"\s+")


def _parser() -> etree.XMLParser:
    # Security: no DTD is loaded, no entity is expanded, nothing is fetched from the network,
    # and libxml2's limits on huge documents stay on.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True)


def parse_xml(data: bytes, *, max_size: int = DEFAULT_MAX_PACKAGE) -> etree._Element:
    """The root element of *data*, refused if oversized, malformed or carrying a DTD."""
    if len(data) > max_size:
        raise TooLargeError(f"the edXML package is {len(data):,} bytes, over the limit of {max_size:,}",
                            code="too-large")
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        raise MalformedError("not an edXML package: the file is not XML", code="invalid-edxml")
    # A DTD has no place in a QCVN 102 package: refusing it outright stops external
    # entities (XXE) and entity expansion bombs (billion laughs) before any parsing.
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise MalformedError("refused: the XML declares a DTD or entities (an XML attack such as XXE or "
                             "billion laughs); edXML packages never carry one", code="xml-attack")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedError(f"not an edXML package: the XML is malformed ({exc.msg})",
                             code="invalid-edxml") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise MalformedError("refused: the XML declares a DTD", code="xml-attack")
    return root


def read_package(data: bytes, *, max_size: int = DEFAULT_MAX_PACKAGE) -> Package:
    """What the package *data* says; raises MalformedError / TooLargeError saying why not."""
    root = parse_xml(data, max_size=max_size)
    if _local(root) != "edXML":
        raise MalformedError(f"not an edXML package: the root element is <{_local(root)}>, not <edXML> "
                             "(QCVN 102:2016)", code="invalid-edxml")
    envelope = _child(root, "edXMLEnvelope")
    header = _child(envelope, "edXMLHeader") if envelope is not None else None
    message = _child(header, "MessageHeader") if header is not None else None
    if message is None:
        raise MalformedError("not an edXML package: no edXMLEnvelope/edXMLHeader/MessageHeader",
                             code="invalid-edxml")
    signature = _signature_kind(header)
    if _child(message, "StatusCode") is not None:
        return _status(message, signature)
    if _child(message, "Subject") is None and _child(message, "Code") is None:
        raise MalformedError("edXML MessageHeader has neither Subject/Code (a document) nor StatusCode "
                             "(a status)", code="invalid-edxml")
    return _document(root, header, message, signature)


# -- documents -------------------------------------------------------------------------------


def _document(root: etree._Element, header: etree._Element, message: etree._Element,
              signature: str) -> DocumentPackage:
    sender = _org(_child(message, "From"))
    if sender is None:
        raise MalformedError("edXML document without From", code="invalid-edxml")
    code = _child(message, "Code")
    number, notation = _text(code, "CodeNumber"), _text(code, "CodeNotation")
    if code is not None and not number and not notation and (code.text or "").strip():
        number, notation = split_code(code.text or "")  # a flat <Code>7816/VPCP</Code>
    promulgation = _child(message, "PromulgationInfo")
    doc_type = _child(message, "DocumentType")
    signer = _child(message, "SignerInfo")
    other = _child(message, "OtherInfo")
    traces_list = _child(header, "TraceHeaderList")
    return DocumentPackage(
        sender=sender,
        recipients=tuple(o for o in (_org(e) for e in _children(message, "To")) if o is not None),
        document_id=_text(message, "DocumentId"),
        code_number=number, code_notation=notation,
        subject=_text(message, "Subject"),
        promulgation_date=parse_date(_text(promulgation, "PromulgationDate"), field="PromulgationDate"),
        place=_text(promulgation, "Place"),
        type_code=_int(doc_type, "Type"), type_detail=_int(doc_type, "TypeDetail"),
        type_name=_text(doc_type, "TypeName"),
        content=_text(message, "Content"),
        signer_competence=_text(signer, "Competence"), signer_position=_text(signer, "Position"),
        signer_name=_text(signer, "FullName"),
        due_date=parse_date(_text(message, "DueDate"), field="DueDate"),
        priority=_int(other, "Priority"), sphere=_text(other, "SphereOfPromulgation"),
        typer_notation=_text(other, "TyperNotation"),
        promulgation_amount=_int(other, "PromulgationAmount"), page_amount=_int(other, "PageAmount"),
        appendixes=tuple(_strip(e.text) for e in _descendants(_child(other, "Appendixes"), "Appendix")),
        steering_type=_int(message, "SteeringType"),
        to_places=tuple(_strip(e.text) for e in _descendants(_child(message, "ToPlaces"), "Place")),
        response_for=tuple(_response_for(e) for e in _children(message, "ResponseFor")),
        traces=tuple(Trace(_text(t, "OrganId"), parse_time(_text(t, "Timestamp"), field="TraceHeader/Timestamp"))
                     for t in _children(traces_list, "TraceHeader")),
        business=_business(traces_list),
        attachments=tuple(_attachments(root)),
        signature=signature,
    )


def _business(traces: etree._Element | None) -> Business:
    node = _child(traces, "Bussiness") if traces is not None else None
    if node is None and traces is not None:
        node = _child(traces, "Business")  # Bkav's internal spelling
    if node is None:
        return Business()  # absent in several real packages: a new document
    kind_text = _text(node, "BussinessDocType") or _text(node, "BusinessDocType") or "0"
    try:
        kind = BusinessDocType(kind_text.strip())
    except ValueError:
        raise MalformedError(f"edXML BussinessDocType {kind_text!r} is not 0, 1, 2 or 3",
                             code="invalid-edxml") from None
    info = _child(node, "BussinessDocumentInfo")
    if info is None:
        info = _child(node, "BusinessDocumentInfo")
    update = None
    if info is not None:
        update = UpdateInfo(
            document_info=_text(info, "DocumentInfo") == "1",
            document_receiver=_text(info, "DocumentReceiver") == "1",
            receivers=tuple((_text(r, "OrganId"), _text(r, "ReceiverType"))
                            for r in _descendants(_child(info, "ReceiverList"), "Receiver")))
    replaces = tuple(
        Replacement(_text(r, "DocumentId"),
                    tuple(_strip(o.text) for o in _descendants(_child(r, "OrganIdList"), "OrganId")))
        for r in _descendants(_child(node, "ReplacementInfoList"), "ReplacementInfo"))
    staff = _child(node, "StaffInfo")
    return Business(
        doc_type=kind,
        reason=_text(node, "BussinessDocReason") or _text(node, "BusinessDocReason"),
        document_id=_text(node, "DocumentId"),
        paper=_text(node, "Paper") == "1",
        staff=_staff(staff) if staff is not None else None,
        update=update, replaces=replaces)


def _attachments(root: etree._Element) -> Iterator[Attachment]:
    encoded = _child(root, "AttachmentEncoded")
    for node in _children(encoded, "Attachment"):
        content_id = _cid(_text(node, "ContentId"))
        name = _text(node, "AttachmentName") or content_id or "attachment"
        where = f"attachment {name!r}"
        raw_text = _text(node, "ContentTransferEncoded", strip=False).encode("ascii", "replace")
        try:
            data = base64.b64decode(_WHITESPACE.sub(b"", raw_text), validate=True)
        except (binascii.Error, ValueError):
            raise MalformedError(f"{where}: ContentTransferEncoded is not base64", code="bad-attachment") from None
        data, zipped = _unzip(data, name, where)
        yield Attachment(content_id=content_id, name=name, data=data,
                         content_type=_text(node, "ContentType") or "application/octet-stream",
                         description=_text(node, "Description"), zipped=zipped)


def _unzip(data: bytes, name: str, where: str) -> tuple[bytes, bool]:
    """Trust the bytes, not ContentType: a zip (by its magic) is opened unless the name says
    .zip; a single entry is the attachment (the library names it <uuid>.<ext>)."""
    if not data.startswith(_ZIP_MAGIC) or name.lower().endswith(".zip"):
        return data, False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = [i for i in archive.infolist() if not i.is_dir()]
            if len(entries) != 1:
                return data, False  # several files: keep the archive as it came
            entry = entries[0]
            # A zip bomb is refused by its declared size; the read is bounded too.
            if entry.file_size > DEFAULT_MAX_PACKAGE:
                raise MalformedError(f"{where}: the zipped file claims {entry.file_size:,} bytes, over the limit",
                                     code="bad-attachment")
            with archive.open(entry) as stream:
                content = stream.read(DEFAULT_MAX_PACKAGE + 1)
            if len(content) > DEFAULT_MAX_PACKAGE:
                raise MalformedError(f"{where}: the zipped file is over the limit", code="bad-attachment")
            return content, True
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError):
        raise MalformedError(f"{where}: the attachment looks zipped but does not unzip",
                             code="bad-attachment") from None
    except OSError:
        raise MalformedError(f"{where}: the zipped attachment is corrupt", code="bad-attachment") from None


# -- statuses --------------------------------------------------------------------------------


def _status(message: etree._Element, signature: str) -> StatusPackage:
    sender = _org(_child(message, "From"))
    response = _child(message, "ResponseFor")
    if sender is None or response is None:
        raise MalformedError("edXML status without From or ResponseFor", code="invalid-edxml")
    code = _text(message, "StatusCode")
    try:
        status: StatusCode | str = StatusCode(code.zfill(2))
    except ValueError:
        status = code  # kept verbatim: no source defines 07–12 or 14
    staff = _child(message, "StaffInfo")
    return StatusPackage(
        sender=sender, response_for=_response_for(response), status=status,
        timestamp=parse_time(_text(message, "Timestamp"), field="Timestamp"),
        description=_text(message, "Description"),
        staff=_staff(staff) if staff is not None else None, signature=signature)


# -- helpers ---------------------------------------------------------------------------------


def _signature_kind(header: etree._Element) -> str:
    for child in header:
        if not isinstance(child.tag, str):
            continue
        local = _local(child)
        if local == "Signature":
            if etree.QName(child).namespace == DSIG_NS:
                return "xmldsig"
            # The SDK writes an XMLDSig-shaped element in the QCVN namespace with static
            # placeholder values: no verifier can check it, and nobody does.
            return "sdk-placeholder" if len(child) else "empty"
        if local == "DigitalSignature":
            return "empty" if not len(child) else "sdk-placeholder"
    return "none"


def _org(node: etree._Element | None) -> Organization | None:
    if node is None:
        return None
    return Organization(organ_id=_text(node, "OrganId"), name=_text(node, "OrganName"),
                        in_charge=_text(node, "OrganizationInCharge"), address=_text(node, "OrganAdd"),
                        email=_text(node, "Email"), telephone=_text(node, "Telephone"),
                        fax=_text(node, "Fax"), website=_text(node, "Website"))


def _response_for(node: etree._Element) -> ResponseFor:
    return ResponseFor(organ_id=_text(node, "OrganId"), code=_text(node, "Code"),
                       promulgation_date=parse_date(_text(node, "PromulgationDate"),
                                                    field="ResponseFor/PromulgationDate"),
                       document_id=_text(node, "DocumentId"))


def _staff(node: etree._Element) -> StaffInfo:
    return StaffInfo(department=_text(node, "Department"), staff=_text(node, "Staff"),
                     email=_text(node, "Email"), mobile=_text(node, "Mobile"))


def _cid(value: str) -> str:
    """A ContentId without ``cid:`` or angle brackets, so both flavours match."""
    value = value.strip().strip("<>")
    return value[4:] if value.lower().startswith("cid:") else value


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname


def _children(node: etree._Element | None, name: str) -> list[etree._Element]:
    """Children by local name, whatever their namespace or prefix."""
    if node is None:
        return []
    return [c for c in node if isinstance(c.tag, str) and _local(c) == name]


def _descendants(node: etree._Element | None, name: str) -> list[etree._Element]:
    return _children(node, name)


def _child(node: etree._Element | None, name: str) -> etree._Element | None:
    found = _children(node, name)
    return found[0] if found else None


def _text(node: etree._Element | None, name: str, *, strip: bool = True) -> str:
    child = _child(node, name)
    if child is None:
        return ""
    text = "".join(child.itertext())
    return _strip(text) if strip else text


def _strip(text: str | None) -> str:
    return (text or "").strip()


def _int(node: etree._Element | None, name: str) -> int | None:
    text = _text(node, name)
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return None  # an integer field with words in it is informational: keep none
