"""dunning: runs, decisions, messages, outbox, per-customer overrides

Revision ID: 0002_dunning
Revises: 0001_ledger
"""
from alembic import op
import sqlalchemy as sa

revision = "0002_dunning"
down_revision = "0001_ledger"
branch_labels = ("dunning",)
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MONEY = sa.Numeric(precision=18, scale=2)


def upgrade() -> None:
    op.create_table(
        "dunning_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("send", sa.Boolean(), nullable=False),
        sa.Column("policies", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
    )
    op.create_index("ix_dunning_runs_as_of", "dunning_runs", ["as_of"])
    op.create_table(
        "dunning_decisions",
        sa.Column("decision_id", BIGID, primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("invoice_id", sa.String(64), nullable=False),
        sa.Column("policy", sa.String(160), nullable=True),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("open_amount", MONEY, nullable=False),
        sa.Column("last_level", sa.Integer(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("fee_amount", MONEY, nullable=True),
        sa.Column("message_id", sa.String(160), nullable=True),
    )
    op.create_index("ix_dunning_decisions_run", "dunning_decisions", ["run_id"])
    op.create_index("ix_dunning_decisions_customer", "dunning_decisions", ["customer_id", "run_id"])
    op.create_table(
        "dunning_messages",
        sa.Column("message_id", sa.String(160), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(160), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("invoices", sa.JSON(), nullable=False),
        sa.UniqueConstraint("run_id", "customer_id", name="uq_dunning_message_run_customer"),
    )
    op.create_index("ix_dunning_messages_run_id", "dunning_messages", ["run_id"])
    op.create_index("ix_dunning_messages_customer_id", "dunning_messages", ["customer_id"])
    op.create_table(
        "dunning_outbox",
        sa.Column("outbox_id", BIGID, primary_key=True),
        sa.Column("message_id", sa.String(160), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("artifact", sa.Text(), nullable=True),
        sa.UniqueConstraint("message_id", "channel", name="uq_dunning_outbox_message_channel"),
    )
    op.create_index("ix_dunning_outbox_message_id", "dunning_outbox", ["message_id"])
    op.create_index("ix_dunning_outbox_status", "dunning_outbox", ["status"])
    op.create_table(
        "dunning_overrides",
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("policy", sa.String(160), nullable=True),
        sa.Column("blocked_until", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for name in ("dunning_overrides", "dunning_outbox", "dunning_messages", "dunning_decisions", "dunning_runs"):
        op.drop_table(name)
