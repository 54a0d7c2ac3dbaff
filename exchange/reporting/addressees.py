"""Who sends each report to whom, in the decision's words (Decision 260-QĐ/TW, section E).

- E.2: the Central Party Office (Văn phòng Trung ương Đảng) "xây dựng báo cáo định kỳ 6 tháng
  gửi Thường trực Ban Bí thư, đề xuất các điều chỉnh nội dung Chương trình": a six-monthly
  report to the Standing Secretariat, proposing adjustments to the programme.
- E.5: the provincial and city Party committees and the Party bodies under the Centre
  "định kỳ hằng năm báo cáo Ban Bí thư (qua Văn phòng Trung ương Đảng)": a yearly report to the
  Secretariat, through the Central Party Office.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Addressing:
    """The sender and addressee of a report, in Vietnamese and English, and the clause."""

    sender_vi: str
    sender_en: str
    recipient_vi: str
    recipient_en: str
    via_vi: str
    via_en: str
    clause: str  # "E.2"
    basis_vi: str  # the decision's words that ask for the report

    @property
    def to_line(self) -> str:
        """``Thường trực Ban Bí thư (the Standing Secretariat)``, with the channel if any."""
        text = f"{self.recipient_vi} ({self.recipient_en})"
        return f"{text}, qua {self.via_vi} (through the {self.via_en})" if self.via_vi else text

    @property
    def from_line(self) -> str:
        """The sender as the report's heading names it: Vietnamese, then English in brackets."""
        return f"{self.sender_vi} ({self.sender_en})"


SIX_MONTHLY = Addressing(
    sender_vi="Văn phòng Trung ương Đảng",
    sender_en="Central Party Office, standing agency of the IT Steering Committee of Party bodies",
    recipient_vi="Thường trực Ban Bí thư", recipient_en="the Standing Secretariat",
    via_vi="", via_en="", clause="E.2",
    basis_vi="xây dựng báo cáo định kỳ 6 tháng gửi Thường trực Ban Bí thư, đề xuất các điều chỉnh nội "
             "dung Chương trình cho phù hợp với tình hình ứng dụng công nghệ thông tin trong các cơ quan đảng",
)


def yearly(sender_vi: str, sender_en: str) -> Addressing:
    """A body's yearly report (E.5): from the body to the Secretariat, through the Central Party Office."""
    return Addressing(
        sender_vi=sender_vi, sender_en=sender_en,
        recipient_vi="Ban Bí thư", recipient_en="the Secretariat",
        via_vi="Văn phòng Trung ương Đảng", via_en="Central Party Office", clause="E.5",
        basis_vi="định kỳ hằng năm báo cáo Ban Bí thư (qua Văn phòng Trung ương Đảng)",
    )
