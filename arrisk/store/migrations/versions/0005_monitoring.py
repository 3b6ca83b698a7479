"""monitoring: served scores and monitoring results (drift summaries, realised performance)

Revision ID: 0005_monitoring
Revises: 0001_ledger
"""

from alembic import op
import sqlalchemy as sa

revision = "0005_monitoring"
down_revision = "0001_ledger"
branch_labels = ("monitoring",)
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "served_scores",
        sa.Column("score_id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("entity", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.UniqueConstraint(
            "model_name", "model_version", "as_of", "entity", "entity_id", name="uq_served_score"
        ),
        sa.CheckConstraint("entity IN ('customer', 'invoice')", name="ck_served_score_entity"),
        sa.CheckConstraint("probability >= 0 AND probability <= 1", name="ck_served_score_probability"),
    )
    op.create_index("ix_served_scores_model_as_of", "served_scores", ["model_name", "as_of"])
    op.create_table(
        "monitoring_results",
        sa.Column("result_id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.CheckConstraint("kind IN ('drift', 'performance')", name="ck_monitoring_result_kind"),
    )
    op.create_index(
        "ix_monitoring_results_kind_model", "monitoring_results", ["kind", "model_name", "period"]
    )


def downgrade() -> None:
    op.drop_index("ix_monitoring_results_kind_model", table_name="monitoring_results")
    op.drop_table("monitoring_results")
    op.drop_index("ix_served_scores_model_as_of", table_name="served_scores")
    op.drop_table("served_scores")
