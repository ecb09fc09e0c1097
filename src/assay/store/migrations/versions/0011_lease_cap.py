"""lease cap: how many tasks one worker may hold at once in a project

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch copy of `projects` would drop a table that others reference.
    op.add_column(
        "projects",
        sa.Column(
            "max_leases_per_worker", sa.Integer(), server_default=sa.text("2"), nullable=False
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("max_leases_per_worker")
