"""Baseline: the hub's schema as ``SQLModel.metadata.create_all`` made it before migrations.

A database made by create_all (no ``alembic_version`` table) is recognised as this revision
by :func:`exchange.hub.store.schema.upgrade` once its tables are checked, and stamped.
Never edit this file: a change of the schema is a new revision (see docs/migrations.md).

Revision ID: 0001_baseline
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create every table, index and constraint of the hub as of the baseline."""
    op.create_table(
        "accessevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_accessevent_action"), "accessevent", ["action"], unique=False)
    op.create_index("ix_accessevent_actor_at", "accessevent", ["actor", "at"], unique=False)
    op.create_index(op.f("ix_accessevent_outcome"), "accessevent", ["outcome"], unique=False)
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("body", sa.String(length=64), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name")
    )
    op.create_table(
        "document",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("doc_type", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("doc_date", sa.Date(), nullable=True),
        sa.Column("classification", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("media_type", sa.String(length=128), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("signature_sha256", sa.String(length=64), nullable=True),
        sa.Column("indication", sa.String(length=16), nullable=True),
        sa.Column("sub_indication", sa.String(length=48), nullable=True),
        sa.Column("report_json", sa.String(), nullable=True),
        sa.Column("signer", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender", "message_id", name="uq_document_sender_message")
    )
    op.create_index(op.f("ix_document_channel"), "document", ["channel"], unique=False)
    op.create_index(op.f("ix_document_sender"), "document", ["sender"], unique=False)
    op.create_table(
        "edxmlimport",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("body", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("edxml_document_id", sa.String(length=255), nullable=False),
        sa.Column("business_type", sa.String(length=2), nullable=False),
        sa.Column("status_code", sa.String(length=4), nullable=False),
        sa.Column("from_organ", sa.String(length=64), nullable=False),
        sa.Column("from_name", sa.String(length=255), nullable=False),
        sa.Column("header_json", sa.String(), nullable=False),
        sa.Column("xml_signature", sa.String(length=32), nullable=False),
        sa.Column("xml_signature_json", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("incoming_id", sa.String(length=36), nullable=True),
        sa.Column("document_id", sa.String(length=36), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_edxmlimport_body"), "edxmlimport", ["body"], unique=False)
    op.create_index(op.f("ix_edxmlimport_document_id"), "edxmlimport", ["document_id"], unique=False)
    op.create_index(op.f("ix_edxmlimport_edxml_document_id"), "edxmlimport", ["edxml_document_id"], unique=False)
    op.create_index(op.f("ix_edxmlimport_incoming_id"), "edxmlimport", ["incoming_id"], unique=False)
    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=True),
        sa.Column("detail", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_event_document_id"), "event", ["document_id"], unique=False)
    op.create_table(
        "incoming",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("body", sa.String(length=64), nullable=False),
        sa.Column("from_agency", sa.String(length=200), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scanned", sa.Boolean(), nullable=False),
        sa.Column("entered", sa.Boolean(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("electronic", sa.Boolean(), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_incoming_body"), "incoming", ["body"], unique=False)
    op.create_table(
        "log_checkpoint",
        sa.Column("size", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.LargeBinary(), nullable=False),
        sa.Column("cms", sa.LargeBinary(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size")
    )
    op.create_table(
        "log_entry",
        sa.Column("index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=True),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("index")
    )
    op.create_index(op.f("ix_log_entry_document_id"), "log_entry", ["document_id"], unique=False)
    op.create_table(
        "log_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "log_node",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "index")
    )
    op.create_table(
        "served_body",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name_vi", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("population_millions", sa.Float(), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("body_id", "since", name="uq_served_body_since")
    )
    op.create_index(op.f("ix_served_body_body_id"), "served_body", ["body_id"], unique=False)
    op.create_table(
        "accountsession",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_accountsession_account_id"), "accountsession", ["account_id"], unique=False)
    op.create_table(
        "businessevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("related_id", sa.String(length=36), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("changes_json", sa.String(), nullable=False),
        sa.Column("statement", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("indication", sa.String(length=16), nullable=False),
        sa.Column("report_json", sa.String(), nullable=False),
        sa.Column("stated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_businessevent_document_id"), "businessevent", ["document_id"], unique=False)
    op.create_index(op.f("ix_businessevent_related_id"), "businessevent", ["related_id"], unique=False)
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=True),
        sa.Column("status", sa.String(length=2), nullable=True),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "recipient", name="uq_delivery_document_recipient"),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"]),
    )
    op.create_index("ix_delivery_recipient_state", "delivery", ["recipient", "state"], unique=False)
    op.create_table(
        "edxmlattachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["edxmlimport.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_edxmlattachment_import_id"), "edxmlattachment", ["import_id"], unique=False)
    op.create_table(
        "receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=2), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("statement", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("indication", sa.String(length=16), nullable=False),
        sa.Column("report_json", sa.String(), nullable=False),
        sa.Column("stated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_receipt_document_id"), "receipt", ["document_id"], unique=False)


def downgrade() -> None:
    """Drop every table of the baseline (children first)."""
    for table in ("receipt", "edxmlattachment", "delivery", "businessevent", "accountsession",
                  "served_body", "log_node", "log_head", "log_entry", "log_checkpoint",
                  "incoming", "event", "edxmlimport", "document", "account", "accessevent"):
        op.drop_table(table)
