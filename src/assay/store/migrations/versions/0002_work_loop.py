"""work loop and callbacks

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("skills", sa.Text(), nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("blocked_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["id"],
            ["api_keys.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "project_members",
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("worker_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["workers.id"],
        ),
        sa.PrimaryKeyConstraint("project_id", "worker_id"),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("worker_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("leased_at", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.String(length=32), nullable=False),
        sa.Column("ended_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["workers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "worker_id", name="ux_assignments_task_worker"),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assignments_active_expiry",
            ["expires_at"],
            unique=False,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.create_index("ix_assignments_worker", ["worker_id", "status"], unique=False)

    op.create_table(
        "annotations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("worker_id", sa.String(length=32), nullable=False),
        sa.Column("assignment_id", sa.String(length=32), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["workers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "worker_id", name="ux_annotations_task_worker"),
    )
    op.create_index("ix_annotations_worker", "annotations", ["worker_id"])
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("members_only", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("required_skills", sa.Text(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("lease_seconds", sa.Integer(), server_default=sa.text("600"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("gold_rate", sa.Float(), server_default=sa.text("0.1"), nullable=False)
        )

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("answers", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("leases", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("ready", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
        batch_op.add_column(sa.Column("callback_succeeded_at", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("gold", sa.Text(), nullable=True))
    op.create_table(
        "callbacks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=True),
        sa.Column("batch_id", sa.String(length=32), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.String(length=32), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("delivered_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_callbacks_due",
        "callbacks",
        ["next_attempt_at"],
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_tasks_queue",
        "tasks",
        ["project_id", sa.text("priority DESC"), "id"],
        sqlite_where=sa.text("status = 'pending' AND ready = 1 AND gold IS NULL"),
        postgresql_where=sa.text("status = 'pending' AND ready = 1 AND gold IS NULL"),
    )
    op.create_index(
        "ix_tasks_gold",
        "tasks",
        ["project_id", "id"],
        sqlite_where=sa.text("gold IS NOT NULL AND status = 'pending'"),
        postgresql_where=sa.text("gold IS NOT NULL AND status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_gold", "tasks")
    op.drop_index("ix_annotations_worker", "annotations")
    op.drop_index("ix_callbacks_due", "callbacks")
    op.drop_table("callbacks")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("gold")
        batch_op.drop_column("callback_succeeded_at")
    op.drop_index("ix_tasks_queue", "tasks")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("ready")
        batch_op.drop_column("leases")
        batch_op.drop_column("answers")

    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("gold_rate")
        batch_op.drop_column("lease_seconds")
        batch_op.drop_column("required_skills")
        batch_op.drop_column("members_only")

    op.drop_table("annotations")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_assignments_worker")
        batch_op.drop_index(
            "ix_assignments_active_expiry",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )

    op.drop_table("assignments")
    op.drop_table("project_members")
    op.drop_table("workers")
