"""Bring a database to the schema this code expects, refusing one that is newer."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from assay.store.db import Store

MIGRATIONS = Path(__file__).parent / "migrations"
PG_MIGRATION_LOCK = 0x61737361  # any constant; serialises concurrent starts on one database


class SchemaTooNew(RuntimeError):
    pass


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def current_revision(store: Store) -> str | None:
    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(store: Store) -> str:
    """Upgrade to head; return the head revision."""
    cfg = _config()
    script = ScriptDirectory.from_config(cfg)
    head = script.get_current_head()
    current = current_revision(store)
    known = {rev.revision for rev in script.walk_revisions()}
    if current is not None and current not in known:
        raise SchemaTooNew(
            f"the database schema is at revision {current}, newer than this version of "
            f"assay knows (its newest is {head}). Upgrade assay, or point it at another "
            "database."
        )
    with store.write() as conn:
        if store.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return head
