"""serving: users and API keys, worklist snapshots, explanation cache, credit-limit reviews

Revision ID: 0004_serving
Revises: 0001_ledger
"""
from alembic import op
import sqlalchemy as sa

revision = "0004_serving"
down_revision = "0001_ledger"
branch_labels = ("serving",)
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MONEY = sa.Numeric(precision=18, scale=2)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("collector_id", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.user_id"), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
    )
    op.create_index("ix_api_keys_user_id", "api_keys", ["user_id"])
    op.create_table(
        "worklist_runs",
        sa.Column("run_id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("models", sa.JSON(), nullable=False),
        sa.Column("feature_version", sa.String(32), nullable=False),
        sa.Column("features_path", sa.Text(), nullable=True),
        sa.Column("policy_version", sa.String(32), nullable=False),
        sa.Column("n_customers", sa.Integer(), nullable=False),
        sa.Column("n_invoices", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
    )
    op.create_index("ix_worklist_runs_as_of", "worklist_runs", ["as_of"])
    op.create_table(
        "worklist_items",
        sa.Column("run_id", BIGID, sa.ForeignKey("worklist_runs.run_id"), primary_key=True),
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("collector_id", sa.String(64), nullable=True),
        sa.Column("segment", sa.String(40), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("tier", sa.String(8), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("priority_score", sa.Float(), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("open_amount", MONEY, nullable=False),
        sa.Column("overdue_amount", MONEY, nullable=False),
        sa.Column("due_soon_amount", MONEY, nullable=False),
        sa.Column("oldest_days_past_due", sa.Integer(), nullable=False),
        sa.Column("p_default", sa.Float(), nullable=False),
        sa.Column("p_late", sa.Float(), nullable=True),
        sa.Column("expected_late_amount", MONEY, nullable=False),
        sa.Column("expected_loss", MONEY, nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("predicted_payment_date", sa.Date(), nullable=True),
        sa.Column("next_action", sa.String(200), nullable=False),
    )
    op.create_index("ix_worklist_items_rank", "worklist_items", ["run_id", "rank"])
    op.create_index("ix_worklist_items_collector", "worklist_items", ["run_id", "collector_id", "rank"])
    op.create_table(
        "worklist_invoices",
        sa.Column("run_id", BIGID, sa.ForeignKey("worklist_runs.run_id"), primary_key=True),
        sa.Column("invoice_id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("open_amount", MONEY, nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("p_late", sa.Float(), nullable=True),
        sa.Column("days_late_p10", sa.Float(), nullable=True),
        sa.Column("days_late_p50", sa.Float(), nullable=True),
        sa.Column("days_late_p90", sa.Float(), nullable=True),
        sa.Column("predicted_payment_date", sa.Date(), nullable=True),
    )
    op.create_index("ix_worklist_invoices_customer", "worklist_invoices", ["run_id", "customer_id"])
    op.create_table(
        "explanation_cache",
        sa.Column("run_id", BIGID, sa.ForeignKey("worklist_runs.run_id"), primary_key=True),
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("model_name", sa.String(64), primary_key=True),
        sa.Column("model_version", sa.Integer(), primary_key=True),
        sa.Column("base_value", sa.Float(), nullable=False),
        sa.Column("raw_score", sa.Float(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("contributions", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "credit_limit_recommendations",
        sa.Column("recommendation_id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String(64), sa.ForeignKey("customers.customer_id"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("run_id", BIGID, nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("current_limit", MONEY, nullable=True),
        sa.Column("requested_limit", MONEY, nullable=True),
        sa.Column("recommended_limit", MONEY, nullable=False),
        sa.Column("p_default", sa.Float(), nullable=False),
        sa.Column("risk_class", sa.String(8), nullable=False),
        sa.Column("review_date", sa.Date(), nullable=False),
        sa.Column("policy_version", sa.String(32), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index(
        "ix_credit_limit_recommendations_customer_id", "credit_limit_recommendations", ["customer_id"]
    )
    op.create_table(
        "credit_limit_decisions",
        sa.Column("decision_id", BIGID, primary_key=True, autoincrement=True),
        sa.Column(
            "recommendation_id",
            BIGID,
            sa.ForeignKey("credit_limit_recommendations.recommendation_id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("final_limit", MONEY, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("decided_at", TS, nullable=False),
    )


def downgrade() -> None:
    for name in (
        "credit_limit_decisions",
        "credit_limit_recommendations",
        "explanation_cache",
        "worklist_invoices",
        "worklist_items",
        "worklist_runs",
        "api_keys",
        "users",
    ):
        op.drop_table(name)
