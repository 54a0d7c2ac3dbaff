"""An independent reader of edXML, written against the Government Office SDK's sample packages
with nothing but ``xml.etree.ElementTree`` and namespace-qualified paths (as an integrator's
parser would). It shares no code with ``exchange.edxml``: agreement between the two is evidence,
not a tautology."""

from __future__ import annotations

import base64
import hashlib
import io
import xml.etree.ElementTree as ET
import zipfile

Q = "{http://www.mic.gov.vn/TBT/QCVN_102_2016}"
HEADER = f"./{Q}edXMLEnvelope/{Q}edXMLHeader/{Q}MessageHeader"


def parse(data: bytes) -> dict:
    root = ET.fromstring(data)
    assert root.tag == f"{Q}edXML"
    head = root.find(HEADER)
    out = {
        "from": head.findtext(f"{Q}From/{Q}OrganId"),
        "to": [t.findtext(f"{Q}OrganId") for t in head.findall(f"{Q}To")],
        "document_id": head.findtext(f"{Q}DocumentId"),
        "code_number": head.findtext(f"{Q}Code/{Q}CodeNumber"),
        "code_notation": head.findtext(f"{Q}Code/{Q}CodeNotation"),
        "promulgation_date": head.findtext(f"{Q}PromulgationInfo/{Q}PromulgationDate"),
        "subject": head.findtext(f"{Q}Subject"),
        "signer": head.findtext(f"{Q}SignerInfo/{Q}FullName"),
        "status": head.findtext(f"{Q}StatusCode"),
        "response_for": head.findtext(f"{Q}ResponseFor/{Q}DocumentId"),
        "business_type": root.findtext(
            f"./{Q}edXMLEnvelope/{Q}edXMLHeader/{Q}TraceHeaderList/{Q}Bussiness/{Q}BussinessDocType"),
        "replaces": [e.text for e in root.iterfind(f".//{Q}ReplacementInfo/{Q}DocumentId")],
        "attachments": {},
    }
    for att in root.iterfind(f"./{Q}AttachmentEncoded/{Q}Attachment"):
        data = base64.b64decode(att.findtext(f"{Q}ContentTransferEncoded"))
        if data[:4] == b"PK\x03\x04":  # the library zips everything but pdf/doc/xls: one entry
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                data = archive.read(archive.namelist()[0])
        out["attachments"][att.findtext(f"{Q}AttachmentName")] = hashlib.sha256(data).hexdigest()
    return out
