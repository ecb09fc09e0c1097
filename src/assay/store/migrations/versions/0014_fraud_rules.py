"""fraud rules: a project's spam-control settings; each removal's rule and evidence

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: a batch copy of `projects` would drop a table others reference.
    op.add_column("projects", sa.Column("fraud", sa.Text(), nullable=True))
    op.add_column("worker_removals", sa.Column("code", sa.String(length=32), nullable=True))
    op.add_column("worker_removals", sa.Column("evidence", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("worker_removals", schema=None) as batch_op:
        batch_op.drop_column("evidence")
        batch_op.drop_column("code")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("fraud")
