"""callback destinations: the scheme, host and port each callback goes to, so a
dispatcher can give every destination its own queue and leave out the busy ones

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for callbacks queued before: they are never left out of a claim.
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("destination", sa.String(length=2100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.drop_column("destination")
