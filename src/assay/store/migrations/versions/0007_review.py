"""review layer: sampled or low-confidence results wait for a reviewer's verdict

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_rate", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("review_below", sa.Float(), nullable=True))
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "stage", sa.String(length=16), server_default=sa.text("'label'"), nullable=False
            )
        )
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("discarded", sa.Integer(), nullable=True))
    op.create_table(
        "reviews",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("assignment_id", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("reviewer", sa.String(length=32), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignments.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.ForeignKeyConstraint(["reviewer"], ["workers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("assignment_id", name="ux_reviews_assignment"),
    )
    op.create_index("ix_reviews_task", "reviews", ["task_id"])
    op.create_index(
        "ix_tasks_review",
        "tasks",
        ["project_id", "id"],
        sqlite_where=sa.text("status = 'in_review'"),
        postgresql_where=sa.text("status = 'in_review'"),
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_review", "tasks")
    op.drop_index("ix_reviews_task", "reviews")
    op.drop_table("reviews")
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.drop_column("discarded")
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.drop_column("discarded")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("stage")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("review_below")
        batch_op.drop_column("review_rate")
