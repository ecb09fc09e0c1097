"""Alembic environment: always run on the connection (and transaction) assay hands over."""

from alembic import context

from assay.store.tables import metadata

context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=metadata,
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
