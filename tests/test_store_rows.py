"""Hand-written SQL reads rows by column name, alike on SQLite and PostgreSQL."""

from assay.store.sql import Sql, all_rows, one, run, scalar


def test_rows_are_read_by_column_name(database):
    _, store = database
    with store.read() as conn:
        row = one(conn, Sql("SELECT 1 AS answers, 'cat' AS label"))
        assert (row.answers, row.label) == (1, "cat")
        assert row._asdict() == {"answers": 1, "label": "cat"}
        many = all_rows(conn, Sql("SELECT 2 AS n UNION ALL SELECT 1 AS n ORDER BY n"))
        assert [r.n for r in many] == [1, 2]
        assert [r.n for r in run(conn, Sql("SELECT 3 AS n"))] == [3]
        assert scalar(conn, Sql("SELECT 7 AS n")) == 7
        assert one(conn, Sql("SELECT 1 AS n WHERE 1 = 0")) is None
        assert scalar(conn, Sql("SELECT 1 AS n WHERE 1 = 0")) is None


def test_a_statement_keeps_its_names_on_both_databases_and_odd_names_do_no_harm(database):
    """The same statement run again reads the same names; a repeated name or an unlabelled
    expression (which each database names its own way) still gives a row, by position."""
    _, store = database
    with store.read() as conn:
        labelled = Sql("SELECT :a AS first, :b AS second")
        assert one(conn, labelled, {"a": 1, "b": 2}).second == 2
        assert one(conn, labelled, {"a": 3, "b": 4}).first == 3
        odd = one(conn, Sql("SELECT 1 AS a, 2 AS a, count(*) FROM (SELECT 1 AS x) q"))
        assert odd.a == 1 and tuple(odd) == (1, 2, 1)
