"""initial schema

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("revoked_at", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("overlap", sa.Integer(), nullable=False),
        sa.Column("callback_url", sa.String(length=2000), nullable=True),
        sa.Column("callback_secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("callback_url", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("finalized_at", sa.String(length=32), nullable=True),
        sa.Column("completed_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.create_index("ux_batches_project_name", ["project_id", "name"], unique=True)

    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("unique_id", sa.String(length=256), nullable=True),
        sa.Column("metadata", sa.Text(), nullable=True),
        sa.Column("callback_url", sa.String(length=2000), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("completed_at", sa.String(length=32), nullable=True),
        sa.Column("canceled_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.id"],
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tasks_batch_status",
            ["batch_id", "status"],
            unique=False,
            sqlite_where=sa.text("batch_id IS NOT NULL"),
            postgresql_where=sa.text("batch_id IS NOT NULL"),
        )
        batch_op.create_index("ix_tasks_project", ["project_id", "id"], unique=False)
        batch_op.create_index(
            "ix_tasks_project_status",
            ["project_id", "status", "id"],
            unique=False,
            sqlite_where=sa.text("status <> 'pending'"),
            postgresql_where=sa.text("status <> 'pending'"),
        )
        batch_op.create_index(
            "ux_tasks_project_unique_id",
            ["project_id", "unique_id"],
            unique=True,
            sqlite_where=sa.text("unique_id IS NOT NULL"),
            postgresql_where=sa.text("unique_id IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_tasks_project_unique_id",
            sqlite_where=sa.text("unique_id IS NOT NULL"),
            postgresql_where=sa.text("unique_id IS NOT NULL"),
        )
        batch_op.drop_index("ix_tasks_project_status")
        batch_op.drop_index("ix_tasks_project")
        batch_op.drop_index("ix_tasks_batch_status")

    op.drop_table("tasks")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index("ux_batches_project_name")

    op.drop_table("batches")
    op.drop_table("projects")
    op.drop_table("api_keys")
