"""Register rows across the wire: the domain's records survive the JSON, whose times keep the
text the API has always written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from exchange.domain.bodies import Body, BodyKind
from exchange.domain.documents import Channel, ReceiptStatus
from exchange.domain.register import IncomingEntry, RegisterEntry
from exchange.wire import BodyPublic, IncomingRow, RegisterPublic, RegisterRow

SENT = datetime(2015, 3, 2, 8, 0, tzinfo=UTC)


def test_a_register_row_and_an_incoming_row_survive_the_json() -> None:
    entry = RegisterEntry("d-1", "ha-noi", "nghe-an", Channel.SIGNED_VALID, SENT, True, True,
                          ReceiptStatus.ACCEPTED, SENT + timedelta(hours=2))
    incoming = IncomingEntry("i-1", "nghe-an", "Bộ Tài chính", SENT, True, True, electronic=True)
    text = RegisterPublic(entries=[RegisterRow.from_entry(entry)],
                          incoming=[IncomingRow.from_entry(incoming)]).model_dump_json()
    back = RegisterPublic.model_validate_json(text)
    assert [r.to_entry() for r in back.entries] == [entry]
    assert [r.to_entry() for r in back.incoming] == [incoming]
    assert '"sent_at":"2015-03-02T08:00:00+00:00"' in text  # isoformat, as the API always wrote it


def test_a_time_from_another_zone_is_read_as_the_same_instant_in_utc() -> None:
    row = RegisterRow.model_validate({"document_id": "d", "sender": "a", "recipient": "b", "channel": "paper",
                                      "sent_at": "2015-03-02T15:00:00+07:00", "delivered": False})
    assert row.to_entry().sent_at == SENT and row.to_entry().sent_at.tzinfo is UTC


def test_a_body_survives_the_json() -> None:
    body = Body(id="nghe-an", kind=BodyKind.PROVINCIAL, name_vi="Tỉnh ủy Nghệ An", name_en="Nghe An")
    assert BodyPublic.model_validate_json(BodyPublic.from_body(body).model_dump_json()).to_body() == body
