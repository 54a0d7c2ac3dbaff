"""The hub's tables keep closed sets as enums in plain string columns, on SQLite and PostgreSQL.

A database written before the columns were typed (plain strings) reads back as members; what
is written is the member's value, so backups, exports and older hubs see the same strings.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import String, create_mock_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from exchange.domain.business import BusinessAction
from exchange.domain.documents import Channel, Classification, DeliveryState, ReceiptStatus
from exchange.domain.indication import Indication
from exchange.hub.store.db import make_engine
from exchange.hub.store.models import (
    BusinessEvent,
    Delivery,
    Document,
    EdxmlAttachment,
    EdxmlImport,
    Incoming,
    Receipt,
    ServedBody,
)
from exchange.hub.store.writes import (
    BusinessEventCreate,
    DocumentCreate,
    EdxmlAttachmentCreate,
    EdxmlImportCreate,
    IncomingCreate,
    ReceiptCreate,
    ServedBodyCreate,
)

from e2e.harness import fresh_database

AT = datetime(2015, 5, 4, 3, 2, 1, tzinfo=UTC)
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _write_plain_strings(engine: Engine) -> None:
    """Rows as a hub wrote them before the columns were typed: plain strings in SQL."""
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO document (id, message_id, sender, number, doc_type, subject, classification, channel, "
            "indication, created_at) VALUES ('d1', 'm1', 'a', '', 'cong-van', '', 'secret', 'signed_valid', "
            "'TOTAL_PASSED', :at)"), {"at": AT})
        connection.execute(text(
            "INSERT INTO delivery (document_id, recipient, state, sent_at, status) "
            "VALUES ('d1', 'b', 'delivered', :at, '13')"), {"at": AT})


@pytest.mark.parametrize("kind", DATABASES)
def test_stored_strings_read_back_as_members(tmp_path: Path, kind: str) -> None:
    with fresh_database(kind, tmp_path) as url:
        engine = make_engine(url)
        try:
            _write_plain_strings(engine)
            with Session(engine) as session:
                doc = session.get(Document, "d1")
                assert doc is not None
                assert doc.channel is Channel.SIGNED_VALID
                assert doc.classification is Classification.SECRET
                assert doc.indication is Indication.TOTAL_PASSED
                delivery = session.get(Delivery, 1)
                assert delivery is not None
                assert delivery.state is DeliveryState.DELIVERED
                assert delivery.status is ReceiptStatus.RECALL
        finally:
            engine.dispose()


@pytest.mark.parametrize("kind", DATABASES)
def test_members_are_stored_as_their_strings(tmp_path: Path, kind: str) -> None:
    with fresh_database(kind, tmp_path) as url:
        engine = make_engine(url)
        try:
            with Session(engine) as session:
                session.add(Document(id="d2", message_id="m2", sender="a", channel=Channel.PAPER,
                                     classification=Classification.NORMAL, created_at=AT))
                session.flush()
                session.add(Delivery(document_id="d2", recipient="b", state=DeliveryState.PAPER, sent_at=AT))
                for table in (Receipt, BusinessEvent):
                    extra = {"status": ReceiptStatus.RECEIVED, "recipient": "b"} if table is Receipt else \
                        {"action": BusinessAction.RECALL, "sender": "a"}
                    session.add(table(document_id="d2", statement=b"{}", signature=b"sig",  # type: ignore[operator]
                                      indication=Indication.TOTAL_PASSED, report_json="{}", stated_at=AT,
                                      created_at=AT, **extra))
                session.commit()
            with engine.connect() as connection:
                stored = connection.execute(text(
                    "SELECT d.channel, d.classification, d.indication, r.state FROM document d "
                    "JOIN delivery r ON r.document_id = d.id")).one()
                assert tuple(stored) == ("paper", "normal", None, "paper")
                assert [type(value) for value in stored[:2]] == [str, str]
                assert connection.execute(text("SELECT status, indication FROM receipt")).one() == ("01", "TOTAL_PASSED")
                assert connection.execute(text("SELECT action, indication FROM businessevent")).one() == \
                    ("recall", "TOTAL_PASSED")
            # Still plain string columns: no database ENUM type, the same lengths.
            columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("delivery")}
            assert isinstance(columns["state"], String) and columns["state"].length == 16
            assert isinstance(columns["status"], String) and columns["status"].length == 2
            if kind == "postgresql":
                with engine.connect() as connection:
                    assert connection.execute(text("SELECT count(*) FROM pg_type WHERE typtype = 'e'")).scalar() == 0
        finally:
            engine.dispose()


def _create_table(dialect: str, table: str) -> str:
    statements: list[str] = []
    engine = create_mock_engine(f"{dialect}://", lambda sql, *a, **k: statements.append(
        str(sql.compile(dialect=engine.dialect)).strip()))
    SQLModel.metadata.create_all(engine, tables=[SQLModel.metadata.tables[table]], checkfirst=False)
    return next(s for s in statements if s.startswith("CREATE TABLE"))


@pytest.mark.parametrize("dialect,blob,stamp,serial", [("sqlite", "BLOB", "DATETIME", "INTEGER"),
                                                       ("postgresql+psycopg", "BYTEA", "TIMESTAMP WITH TIME ZONE",
                                                        "SERIAL")])
def test_signed_statement_tables_keep_their_schema(dialect: str, blob: str, stamp: str, serial: str) -> None:
    """Receipt and BusinessEvent share the signed-statement columns (one mixin), each table
    with its own columns, in the order and types the tables always had."""
    signed = [f"statement {blob} NOT NULL", f"signature {blob} NOT NULL", "indication VARCHAR(16) NOT NULL",
              "report_json VARCHAR NOT NULL", f"stated_at {stamp} NOT NULL", f"created_at {stamp} NOT NULL"]
    receipt = [f"id {serial} NOT NULL", "document_id VARCHAR(36) NOT NULL", "recipient VARCHAR(64) NOT NULL",
               "status VARCHAR(2) NOT NULL", "reason VARCHAR(500) NOT NULL", *signed]
    business = [f"id {serial} NOT NULL", "document_id VARCHAR(36) NOT NULL", "related_id VARCHAR(36)",
                "action VARCHAR(16) NOT NULL", "sender VARCHAR(64) NOT NULL", "reason VARCHAR(500) NOT NULL",
                "changes_json VARCHAR NOT NULL", *signed]
    for table, columns in (("receipt", receipt), ("businessevent", business)):
        lines = [line.strip().rstrip(",").strip() for line in _create_table(dialect, table).splitlines()[1:]]
        assert lines[:len(columns)] == columns
    assert Receipt.__table__.c.stated_at is not BusinessEvent.__table__.c.stated_at  # type: ignore[attr-defined]


@pytest.mark.parametrize("write,table", [
    (DocumentCreate, Document), (ReceiptCreate, Receipt), (IncomingCreate, Incoming),
    (BusinessEventCreate, BusinessEvent), (EdxmlImportCreate, EdxmlImport),
    (EdxmlAttachmentCreate, EdxmlAttachment), (ServedBodyCreate, ServedBody)])
def test_write_models_name_their_table_columns(write: type, table: type) -> None:
    """Each write model names only its table's columns, and every column the table needs a
    value for (not null, no default, not the database's own id)."""
    columns = {c.name: c for c in table.__table__.columns}  # type: ignore[attr-defined]
    names = {f.name for f in fields(write)}
    assert names <= set(columns), names - set(columns)
    needed = {name for name, c in columns.items()
              if not c.nullable and c.default is None and not (c.primary_key and c.autoincrement is True)
              and not (c.primary_key and name == "id" and "id" not in names and c.type.python_type is int)}
    assert needed <= names, needed - names
