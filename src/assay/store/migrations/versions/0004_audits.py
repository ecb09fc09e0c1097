"""audits: a customer's verdict on a delivered result

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audits",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=True),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("auditor", sa.String(length=32), nullable=False),
        sa.Column("audited_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"]),
        sa.ForeignKeyConstraint(["auditor"], ["api_keys.id"]),
        sa.PrimaryKeyConstraint("task_id"),
    )
    op.create_index("ix_audits_project", "audits", ["project_id"])
    op.create_index("ix_audits_batch", "audits", ["batch_id"])


def downgrade() -> None:
    op.drop_index("ix_audits_batch", "audits")
    op.drop_index("ix_audits_project", "audits")
    op.drop_table("audits")
