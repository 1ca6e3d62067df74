"""Initial schema: residents, complaints and their record, outbox, receipts, dead letters.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import core.db.types

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "dead_letters",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=512), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dead_letters_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "inbound_receipts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=512), nullable=False),
        sa.Column("received_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_receipts")),
        sa.UniqueConstraint("channel", "external_id", name="uq_receipt_channel_external_id"),
    )
    op.create_table(
        "residents",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column(
            "preferences",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "adjustments",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "vulnerabilities",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents")),
    )
    op.create_table(
        "complaints",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column(
            "resident_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "representative",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("received_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("since", sa.Text(), nullable=True),
        sa.Column("aware_on", sa.Date(), nullable=True),
        sa.Column(
            "outcomes_sought",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "adjustments",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "vulnerabilities",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column(
            "hazards",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "exclusions_flagged",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("stage1_handler", sa.String(length=120), nullable=True),
        sa.Column("stage1_acknowledge_due_on", sa.Date(), nullable=True),
        sa.Column("stage1_acknowledged_on", sa.Date(), nullable=True),
        sa.Column("stage1_response_due_on", sa.Date(), nullable=True),
        sa.Column("stage1_extended_due_on", sa.Date(), nullable=True),
        sa.Column("stage1_responded_on", sa.Date(), nullable=True),
        sa.Column("stage2_handler", sa.String(length=120), nullable=True),
        sa.Column("stage2_acknowledge_due_on", sa.Date(), nullable=True),
        sa.Column("stage2_acknowledged_on", sa.Date(), nullable=True),
        sa.Column("stage2_response_due_on", sa.Date(), nullable=True),
        sa.Column("stage2_extended_due_on", sa.Date(), nullable=True),
        sa.Column("stage2_responded_on", sa.Date(), nullable=True),
        sa.Column("next_due_on", sa.Date(), nullable=True),
        sa.Column("next_update_due_on", sa.Date(), nullable=True),
        sa.Column(
            "escalation_requested_at", core.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("escalation_reason", sa.Text(), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("closed_at", core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_complaints_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("reference", name=op.f("uq_complaints_reference")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaints_category"), ["category"], unique=False)
        batch_op.create_index(
            "ix_complaints_next_update_due_on", ["next_update_due_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_complaints_received_on"), ["received_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_complaints_resident_id"), ["resident_id"], unique=False
        )
        batch_op.create_index(
            "ix_complaints_status_next_due_on", ["status", "next_due_on"], unique=False
        )

    op.create_table(
        "contact_restrictions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "resident_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "allowed_channels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=120), nullable=False),
        sa.Column("set_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=False),
        sa.Column("lifted_at", core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_contact_restrictions_resident_id_residents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_restrictions")),
    )
    with op.batch_alter_table("contact_restrictions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_restrictions_resident_id"), ["resident_id"], unique=False
        )

    op.create_table(
        "resident_identities",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "resident_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_resident_identities_resident_id_residents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident_identities")),
        sa.UniqueConstraint("channel", "address", name="uq_identity_channel_address"),
    )
    with op.batch_alter_table("resident_identities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resident_identities_resident_id"), ["resident_id"], unique=False
        )

    op.create_table(
        "service_requests",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column(
            "resident_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("received_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("closed_at", core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_service_requests_resident_id_residents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_requests")),
        sa.UniqueConstraint("reference", name=op.f("uq_service_requests_reference")),
    )
    with op.batch_alter_table("service_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_requests_resident_id"), ["resident_id"], unique=False
        )

    op.create_table(
        "complaint_elements",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "complaint_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("stage_added", sa.Integer(), nullable=False),
        sa.Column("added_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_elements_complaint_id_complaints"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_elements")),
    )
    with op.batch_alter_table("complaint_elements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaint_elements_complaint_id"), ["complaint_id"], unique=False
        )

    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "complaint_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "service_request_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "resident_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("occurred_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=120), nullable=True),
        sa.Column("channel", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name=op.f("fk_events_complaint_id_complaints")
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_events_resident_id_residents")
        ),
        sa.ForeignKeyConstraint(
            ["service_request_id"],
            ["service_requests.id"],
            name=op.f("fk_events_service_request_id_service_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_complaint_id"), ["complaint_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_resident_id"), ["resident_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_events_service_request_id"), ["service_request_id"], unique=False
        )

    op.create_table(
        "extensions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "complaint_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("beyond_code_limit", sa.Boolean(), nullable=False),
        sa.Column("previous_due_on", sa.Date(), nullable=False),
        sa.Column("new_due_on", sa.Date(), nullable=False),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notified_at", core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name=op.f("fk_extensions_complaint_id_complaints")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extensions")),
    )
    with op.batch_alter_table("extensions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_extensions_complaint_id"), ["complaint_id"], unique=False
        )

    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column(
            "complaint_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name=op.f("fk_outbox_complaint_id_complaints")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_complaint_id"), ["complaint_id"], unique=False)
        batch_op.create_index(
            "ix_outbox_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "outstanding_actions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "complaint_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_outstanding_actions_complaint_id_complaints"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outstanding_actions")),
    )
    with op.batch_alter_table("outstanding_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outstanding_actions_complaint_id"), ["complaint_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_outstanding_actions_due_on"), ["due_on"], unique=False)

    op.create_table(
        "remedies",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "complaint_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("amount_pence", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name=op.f("fk_remedies_complaint_id_complaints")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remedies")),
    )
    with op.batch_alter_table("remedies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_remedies_complaint_id"), ["complaint_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_remedies_due_on"), ["due_on"], unique=False)

    op.create_table(
        "decisions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "complaint_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "element_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=False),
        sa.Column("decided_at", core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name=op.f("fk_decisions_complaint_id_complaints")
        ),
        sa.ForeignKeyConstraint(
            ["element_id"],
            ["complaint_elements.id"],
            name=op.f("fk_decisions_element_id_complaint_elements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_decisions_complaint_id"), ["complaint_id"], unique=False
        )
    _append_only_events()


EVENTS_APPEND_ONLY_SQLITE = (
    """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only (CHC-5.12)'); END""",
    """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only (CHC-5.12)'); END""",
)
EVENTS_APPEND_ONLY_POSTGRESQL = (
    """CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'events are append-only (CHC-5.12)'; END $$""",
    """CREATE TRIGGER events_no_update_or_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only()""",
)


def _append_only_events() -> None:
    """Make the record tamper-evident at the database: events cannot be changed or removed."""
    dialect = op.get_bind().dialect.name
    statements = (
        EVENTS_APPEND_ONLY_POSTGRESQL if dialect == "postgresql" else EVENTS_APPEND_ONLY_SQLITE
    )
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_no_update_or_delete ON events")
        op.execute("DROP FUNCTION IF EXISTS events_append_only()")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_complaint_id"))

    op.drop_table("decisions")
    with op.batch_alter_table("remedies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_remedies_due_on"))
        batch_op.drop_index(batch_op.f("ix_remedies_complaint_id"))

    op.drop_table("remedies")
    with op.batch_alter_table("outstanding_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outstanding_actions_due_on"))
        batch_op.drop_index(batch_op.f("ix_outstanding_actions_complaint_id"))

    op.drop_table("outstanding_actions")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_outbox_complaint_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("extensions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_extensions_complaint_id"))

    op.drop_table("extensions")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_service_request_id"))
        batch_op.drop_index(batch_op.f("ix_events_resident_id"))
        batch_op.drop_index(batch_op.f("ix_events_complaint_id"))

    op.drop_table("events")
    with op.batch_alter_table("complaint_elements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_elements_complaint_id"))

    op.drop_table("complaint_elements")
    with op.batch_alter_table("service_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_requests_resident_id"))

    op.drop_table("service_requests")
    with op.batch_alter_table("resident_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resident_identities_resident_id"))

    op.drop_table("resident_identities")
    with op.batch_alter_table("contact_restrictions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_restrictions_resident_id"))

    op.drop_table("contact_restrictions")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_status_next_due_on")
        batch_op.drop_index(batch_op.f("ix_complaints_resident_id"))
        batch_op.drop_index(batch_op.f("ix_complaints_received_on"))
        batch_op.drop_index("ix_complaints_next_update_due_on")
        batch_op.drop_index(batch_op.f("ix_complaints_category"))

    op.drop_table("complaints")
    op.drop_table("residents")
    op.drop_table("inbound_receipts")
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_letters_created_at"))

    op.drop_table("dead_letters")
