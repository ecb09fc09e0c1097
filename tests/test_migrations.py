import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect, text

from assay.store.db import Store
from assay.store.migrate import SchemaTooNew, current_revision, migrate
from assay.store.tables import metadata


def _search_path(schema: str):
    def set_path(dbapi_conn, _record):
        with dbapi_conn.cursor() as cur:
            cur.execute(f"SET search_path TO {schema}")
        dbapi_conn.commit()

    return set_path


@pytest.fixture
def fresh_store(backend, tmp_path, pg_url):
    """A store on an empty database: a new SQLite file, or a new PostgreSQL schema."""
    if backend == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    else:
        store = Store(pg_url)
        with store.write() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
            conn.execute(text("CREATE SCHEMA migration_check"))
        store.close()  # new connections get the search path below
        event.listen(store.engine, "connect", _search_path("migration_check"))
    yield store
    store.close()


# Alembic cannot compare indexes on expressions (priority DESC); they are checked by name.
EXPRESSION_INDEXES = {"ix_tasks_queue"}


def _comparable(_obj, name, type_, _reflected, _compare_to) -> bool:
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


def test_migrations_build_exactly_the_declared_schema(fresh_store):
    head = migrate(fresh_store)
    assert current_revision(fresh_store) == head
    with fresh_store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _comparable})
        diff = compare_metadata(context, metadata)
        indexes = {i["name"] for i in inspect(conn).get_indexes("tasks")}
    assert diff == []
    assert indexes >= EXPRESSION_INDEXES
    assert migrate(fresh_store) == head  # running again is a no-op


def test_newer_schema_refuses_to_start(fresh_store):
    migrate(fresh_store)
    with fresh_store.write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'fffffffffff'"))
    with pytest.raises(SchemaTooNew, match="newer than this version of assay"):
        migrate(fresh_store)


def test_sqlite_runs_in_wal_mode(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(store)
    with store.read() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    store.close()


def _insert_filled_row(conn, table: str, **values) -> None:
    """Insert a row giving every required column a value of its type (the schema of an
    older revision is read from the database, not from today's tables)."""
    for column in inspect(conn).get_columns(table):
        name = column["name"]
        if name in values or column["nullable"] or column.get("default") is not None:
            continue
        python_type = column["type"].python_type
        values[name] = 0 if python_type in (int, float, bool) else f"{table}-{name}"
    names = ", ".join(values)
    conn.execute(
        text(f"INSERT INTO {table} ({names}) VALUES ({', '.join(':' + n for n in values)})"),
        values,
    )


def test_upgrades_keep_a_database_with_rows_that_reference_each_other(fresh_store):
    """Each migration since the first release runs on a database holding a project that
    batches and tasks reference: a table copy that drops `projects` would fail here."""
    from alembic import command

    from assay.store.migrate import _config

    cfg = _config()
    with fresh_store.write() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0010")
    with fresh_store.write() as conn:
        _insert_filled_row(conn, "projects", id="p1")
        _insert_filled_row(conn, "batches", id="b1", project_id="p1")
        _insert_filled_row(conn, "tasks", id="t1", project_id="p1", batch_id="b1")
    head = migrate(fresh_store)
    assert current_revision(fresh_store) == head
    with fresh_store.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM tasks")).scalar() == 1
