"""edXML (QCVN 102:2016/BTTTT) constants: the namespace, business types, status codes, dates.

Sources for every value are in ``docs/edxml.md`` (the Government Office SDK's samples, the VNPT
library behind it and integrators' parsers); nothing here depends on HTTP or a database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum

from exchange.domain.documents import ReceiptStatus
from exchange.errors import InputError

#: The one namespace of QCVN 102:2016 (both the Java and the .NET flavours use it).
NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
#: XML Signature (XMLDSig) namespace: where a *real* envelope signature lives.
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
#: Vietnam's local time: edXML timestamps carry no zone and are read as Hanoi time.
VIETNAM = timezone(timedelta(hours=7), "ICT")
#: The formats the VNPT library writes (DEFAULT_DATE_FORMAT, DEFAULT_DATETIME_FORMAT).
DATE_FORMAT = "%Y/%m/%d"
DATETIME_FORMAT = "%Y/%m/%d %H:%M:%S"
#: What readers meet in the wild besides those (Bkav's dd/MM/yyyy, C# yyyy-MM-dd, ISO 8601).
_READ_DATES = ("%Y/%m/%d", "%d/%m/%Y", "%Y-%m-%d")
_READ_TIMES = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S")


class BusinessDocType(StrEnum):
    """``Bussiness/BussinessDocType``: what a document package does."""

    NEW = "0"  # văn bản mới
    REVOKE = "1"  # thu hồi
    UPDATE = "2"  # cập nhật
    REPLACE = "3"  # thay thế

    @property
    def reason_vi(self) -> str:
        """The ``BussinessDocReason`` the SDK samples write for this type."""
        return {"0": "Văn bản điện tử mới", "1": "Thu hồi văn bản điện tử",
                "2": "Cập nhật văn bản điện tử", "3": "Văn bản thay thế"}[self.value]


#: ``StatusCode`` of a status package: the domain's receipt statuses are edXML's own codes
#: (01–06 from a receiver, 13 from the sender, 15/16 answers), so the two are one enum.
StatusCode = ReceiptStatus


def status_description_vi(code: ReceiptStatus) -> str:
    """The ``Description`` text the SDK samples give status *code*."""
    return _STATUS_VI[code.value]


_STATUS_VI = {
    "01": "Đã đến - phần mềm quản lý văn bản đã nhận nhưng văn thư chưa xử lý",
    "02": "Từ chối tiếp nhận văn bản điện tử",
    "03": "Đã tiếp nhận - vào sổ văn bản đến",
    "04": "Lãnh đạo: Phân công xử lý",
    "05": "Đang xử lý",
    "06": "Văn thư: Ban hành văn bản đến, hoàn thành xử lý",
    "13": "Văn thư yêu cầu lấy lại văn bản điện tử kèm lý do",
    "15": "Đồng ý yêu cầu cập nhật, lấy lại văn bản điện tử",
    "16": "Từ chối yêu cầu cập nhật, lấy lại văn bản điện tử",
}

#: Our document types (``DocumentMetadata.doc_type``) as ``DocumentType/Type`` and ``TypeName``.
#: The Type numbers are our own mapping (the sources disagree; receivers rely on TypeName).
DOCUMENT_TYPES: dict[str, tuple[int, str]] = {
    "cong-van": (1, "Công văn"), "quyet-dinh": (2, "Quyết định"), "bao-cao": (3, "Báo cáo"),
    "thong-bao": (4, "Thông báo"), "ke-hoach": (5, "Kế hoạch"), "to-trinh": (6, "Tờ trình"),
    "giay-moi": (7, "Giấy mời"), "chi-thi": (8, "Chỉ thị"), "nghi-quyet": (9, "Nghị quyết"),
    "khac": (10, "Văn bản khác"),
}


def doc_type_of(type_name: str) -> str:
    """Our document type for a package's ``TypeName`` (``khac`` when we do not know it)."""
    wanted = type_name.strip().casefold()
    return next((slug for slug, (_, name) in DOCUMENT_TYPES.items() if name.casefold() == wanted), "khac")


def format_date(value: date) -> str:
    """*value* as edXML writes dates (``yyyy/MM/dd``)."""
    return value.strftime(DATE_FORMAT)


def format_time(value: datetime) -> str:
    """``yyyy/MM/dd HH:mm:ss`` in Vietnam time, as the library writes TraceHeader timestamps."""
    return value.astimezone(VIETNAM).strftime(DATETIME_FORMAT)


def parse_date(text: str | None, *, field: str) -> date | None:
    """A date in any style met in real packages; empty means none. InputError names the field."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    for fmt in _READ_DATES:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            pass
    moment = parse_time(value, field=field)
    return moment.astimezone(VIETNAM).date() if moment else None


def parse_time(text: str | None, *, field: str) -> datetime | None:
    """A timestamp in any style met in real packages (zone-less means Vietnam time)."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    for fmt in _READ_TIMES + _READ_DATES:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=VIETNAM)
        except ValueError:
            pass
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"edXML {field}: {value!r} is not a date (yyyy/MM/dd, dd/MM/yyyy, "
                         "yyyy-MM-dd or ISO 8601)", code="invalid-edxml") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=VIETNAM)


def utc(value: datetime) -> datetime:
    """*value* (timezone-aware) in UTC."""
    return value.astimezone(UTC)
