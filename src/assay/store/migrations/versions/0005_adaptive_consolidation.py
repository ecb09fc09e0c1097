"""adaptive overlap and model-based consolidation

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consolidation", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("max_overlap", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("target_confidence", sa.Float(), nullable=True))
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target", sa.Integer(), nullable=True))
    op.create_table(
        "project_models",
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("prior", sa.Text(), nullable=False),
        sa.Column("default_confusion", sa.Text(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("last_answer_id", sa.String(length=32), nullable=False),
        sa.Column("fitted_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.PrimaryKeyConstraint("project_id"),
    )
    op.create_table(
        "worker_models",
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("worker_id", sa.String(length=32), nullable=False),
        sa.Column("confusion", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"]),
        sa.PrimaryKeyConstraint("project_id", "worker_id"),
    )


def downgrade() -> None:
    op.drop_table("worker_models")
    op.drop_table("project_models")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("target")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("target_confidence")
        batch_op.drop_column("max_overlap")
        batch_op.drop_column("consolidation")
