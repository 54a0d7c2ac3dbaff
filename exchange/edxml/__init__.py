"""edXML (QCVN 102:2016/BTTTT): the package model, its reader, writer and XML signature.

Knows nothing of HTTP or the database; the hub, the node and the CLI sit on top.
See ``docs/edxml.md``.
"""

from exchange.edxml.codes import NS, BusinessDocType, StatusCode
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
    join_code,
    split_code,
)
from exchange.edxml.reader import DEFAULT_MAX_PACKAGE, read_package
from exchange.edxml.writer import document_package_xml, status_package_xml
from exchange.edxml.xmlsig import (
    XmlSignatureReport,
    XmlSignatureStatus,
    sign_package,
    verify_package,
)

__all__ = [
    "DEFAULT_MAX_PACKAGE", "NS", "Attachment", "Business", "BusinessDocType", "DocumentPackage",
    "Organization", "Package", "Replacement", "ResponseFor", "StaffInfo", "StatusCode", "StatusPackage",
    "Trace", "UpdateInfo", "XmlSignatureReport", "XmlSignatureStatus", "document_package_xml", "join_code",
    "read_package", "sign_package", "split_code", "status_package_xml", "verify_package",
]
