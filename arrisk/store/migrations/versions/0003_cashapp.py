"""cashapp: imported bank statements and the cash-application exceptions queue

Revision ID: 0003_cashapp
Revises: 0001_ledger
"""
from alembic import op
import sqlalchemy as sa


revision = "0003_cashapp"
down_revision = "0001_ledger"
branch_labels = ("cashapp",)
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "cashapp_statements",
        sa.Column("statement_id", ID, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("account", sa.String(64), nullable=True),
        sa.Column("bank_statement_id", sa.String(128), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.UniqueConstraint("sha256", name="uq_cashapp_statements_sha256"),
    )
    op.create_table(
        "cashapp_exceptions",
        sa.Column("exception_id", ID, primary_key=True),
        sa.Column("statement_id", ID, sa.ForeignKey("cashapp_statements.statement_id"), nullable=True),
        sa.Column("payment_id", sa.String(64), sa.ForeignKey("payments.payment_id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("suggestions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(64), nullable=True),
    )
    op.create_index("ix_cashapp_exceptions_statement_id", "cashapp_exceptions", ["statement_id"])
    op.create_index("ix_cashapp_exceptions_payment_id", "cashapp_exceptions", ["payment_id"])
    op.create_index("ix_cashapp_exceptions_status", "cashapp_exceptions", ["status"])


def downgrade() -> None:
    op.drop_table("cashapp_exceptions")
    op.drop_table("cashapp_statements")
