"""worker removals: low-quality workers taken off a project's queue, reversibly

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("min_worker_quality", sa.Float(), nullable=True))
    op.create_table(
        "worker_removals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("worker_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("removed_at", sa.String(length=32), nullable=False),
        sa.Column("restored_at", sa.String(length=32), nullable=True),
        sa.Column("restored_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"]),
        sa.ForeignKeyConstraint(["restored_by"], ["api_keys.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ux_worker_removals_active",
        "worker_removals",
        ["project_id", "worker_id"],
        unique=True,
        sqlite_where=sa.text("restored_at IS NULL"),
        postgresql_where=sa.text("restored_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ux_worker_removals_active", "worker_removals")
    op.drop_table("worker_removals")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("min_worker_quality")
