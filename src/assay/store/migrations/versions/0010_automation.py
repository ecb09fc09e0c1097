"""model in the loop: predictions, embeddings, calibration sample, active-learning boost

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

QUEUE = "status = 'pending' AND ready = 1 AND gold IS NULL AND filled = 0"


def upgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("automation", sa.Text(), nullable=True))
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kept_hypothesis", sa.Integer(), nullable=True))
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calibration", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("boost", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    # The queue index orders by boost too, within a priority.
    op.drop_index("ix_tasks_queue", table_name="tasks")
    op.create_index(
        "ix_tasks_queue",
        "tasks",
        ["project_id", sa.text("priority DESC"), sa.text("boost DESC"), "id"],
        sqlite_where=sa.text(QUEUE),
        postgresql_where=sa.text(QUEUE),
    )
    op.create_table(
        "predictions",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("task_id"),
    )
    op.create_index("ix_predictions_project", "predictions", ["project_id", "confidence"])
    op.create_table(
        "embeddings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "automation_state",
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("fitted_at", sa.String(length=32), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("report", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.PrimaryKeyConstraint("project_id"),
    )


def downgrade() -> None:
    op.drop_table("automation_state")
    op.drop_table("embeddings")
    op.drop_index("ix_predictions_project", table_name="predictions")
    op.drop_table("predictions")
    op.drop_index("ix_tasks_queue", table_name="tasks")
    op.create_index(
        "ix_tasks_queue",
        "tasks",
        ["project_id", sa.text("priority DESC"), "id"],
        sqlite_where=sa.text(QUEUE),
        postgresql_where=sa.text(QUEUE),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("boost")
        batch_op.drop_column("calibration")
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.drop_column("kept_hypothesis")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("automation")
