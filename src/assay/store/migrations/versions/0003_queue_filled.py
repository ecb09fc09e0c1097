"""tasks.filled: tasks whose every slot is taken leave the work-queue index

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD_QUEUE = "status = 'pending' AND ready = 1 AND gold IS NULL"
NEW_QUEUE = OLD_QUEUE + " AND filled = 0"


def _queue_index(where: str) -> None:
    op.create_index(
        "ix_tasks_queue",
        "tasks",
        ["project_id", sa.text("priority DESC"), "id"],
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("filled", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    op.execute(
        "UPDATE tasks SET filled = 1 WHERE status = 'pending' AND answers + leases >="
        " (SELECT overlap FROM projects WHERE projects.id = tasks.project_id)"
    )
    op.drop_index("ix_tasks_queue", "tasks")
    _queue_index(NEW_QUEUE)


def downgrade() -> None:
    op.drop_index("ix_tasks_queue", "tasks")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("filled")
    _queue_index(OLD_QUEUE)
