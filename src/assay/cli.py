"""The `assay` command line: run the server, manage keys, import and export tasks,
aggregate crowd answers."""

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from assay.client import DEFAULT_URL, AssayAPIError, Client
from assay.settings import DEFAULT_DATA_DIR, DEFAULT_MAX_BODY_BYTES, Settings
from assay.store.db import Store, database_url
from assay.store.migrate import SchemaTooNew, migrate

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
console = Console()
err = Console(stderr=True)

DataDir = Annotated[
    Path, typer.Option(envvar="ASSAY_DATA_DIR", help="Where the SQLite database lives.")
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url", envvar="ASSAY_DATABASE_URL", help="e.g. postgresql+psycopg://user@host/db"
    ),
]
Url = Annotated[str, typer.Option(envvar="ASSAY_URL", help="The assay server.")]
Key = Annotated[str | None, typer.Option(envvar="ASSAY_KEY", help="An API key.")]


def _open_store(data_dir: Path, url: str | None) -> Store:
    """Open and migrate the store, or exit with a clear message."""
    store = Store(database_url(data_dir, url))
    try:
        migrate(store)
    except SchemaTooNew as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    return store


def _client(url: str, key: str | None) -> Client:
    if not key:
        err.print("[red]error:[/] pass --key or set ASSAY_KEY")
        raise typer.Exit(2)
    return Client(url, key)


def _fail(exc: AssayAPIError) -> None:
    err.print(f"[red]error:[/] {exc}")
    for e in exc.problem.get("errors", []):
        err.print(f"  {e.get('field')}: {e.get('message')}")
    raise typer.Exit(1)


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    data_dir: DataDir = Path(DEFAULT_DATA_DIR),
    database_url_: DatabaseUrl = None,
    sample: Annotated[
        bool, typer.Option(help="On an empty database, create an admin key and a sample project.")
    ] = False,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    workers: Annotated[int, typer.Option(help="Server processes.")] = 1,
):
    """Run the API server (migrating the database first)."""
    import uvicorn

    from assay.engine.sample import seed_sample

    url = database_url(data_dir, database_url_)
    store = _open_store(data_dir, database_url_)
    seeded = seed_sample(store) if sample else None
    store.close()
    base = f"http://{host}:{port}"
    console.print(f"assay serving on [bold]{base}[/]  (API docs: {base}/docs)")
    if seeded:
        console.print(f"sample project: {seeded['project']}")
        console.print(f"to label it, open [bold]{base}/login[/] and sign in with this key:")
        console.print(seeded["annotator_key"], highlight=False, soft_wrap=True)
        console.print("admin key (shown once, keep it):")
        console.print(seeded["key"], highlight=False, soft_wrap=True)
    elif sample:
        console.print("the database already has keys; make another with `assay keys create`")
    settings = Settings(database_url=url, max_body_bytes=max_body_bytes)
    _run(settings, host, port, workers, uvicorn)


def _run(settings: Settings, host: str, port: int, workers: int, uvicorn) -> None:
    import os

    os.environ["ASSAY_SERVE_DATABASE_URL"] = settings.database_url
    os.environ["ASSAY_SERVE_MAX_BODY_BYTES"] = str(settings.max_body_bytes)
    uvicorn.run(
        "assay.api.serve:app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="admin, manager, annotator or reviewer")],
    name: Annotated[str | None, typer.Option(help="A label for the key.")] = None,
    data_dir: DataDir = Path(DEFAULT_DATA_DIR),
    database_url_: DatabaseUrl = None,
):
    """Create a key in the database directly; the key is the last line printed."""
    from assay.engine.keys import ROLES, create_key

    if role not in ROLES:
        err.print(f"[red]error:[/] --role must be one of {', '.join(ROLES)}")
        raise typer.Exit(2)
    created = create_key(_open_store(data_dir, database_url_), role, name)
    console.print(f"created {role} key {created['id']} (the secret is shown only now):")
    print(created["key"])


@keys_app.command("list")
def keys_list(data_dir: DataDir = Path(DEFAULT_DATA_DIR), database_url_: DatabaseUrl = None):
    """List keys (never their secrets)."""
    from assay.engine.keys import list_keys

    store = _open_store(data_dir, database_url_)
    table = Table("id", "role", "name", "prefix", "created", "revoked")
    token = None
    while True:
        docs, token = list_keys(store, 100, token)
        for k in docs:
            table.add_row(
                k["id"],
                k["role"],
                k["name"] or "",
                k["prefix"],
                k["created_at"],
                k["revoked_at"] or "",
            )
        if not token:
            break
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: str, data_dir: DataDir = Path(DEFAULT_DATA_DIR), database_url_: DatabaseUrl = None
):
    """Revoke a key by id."""
    from assay.engine.keys import revoke_key
    from assay.errors import NotFound

    try:
        revoked = revoke_key(_open_store(data_dir, database_url_), key_id)
    except NotFound as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    console.print(f"revoked {revoked['id']} at {revoked['revoked_at']}")


@app.command()
def worker(data_dir: DataDir = Path(DEFAULT_DATA_DIR), database_url_: DatabaseUrl = None):
    """Deliver queued callbacks from this database until stopped (Ctrl-C).

    `assay serve` delivers them too; run workers to add delivery capacity or to keep
    delivering while no server runs. Any number may share one database.
    """
    import asyncio

    from assay.dispatcher import Dispatcher

    store = _open_store(data_dir, database_url_)
    console.print("delivering callbacks; Ctrl-C stops")
    try:
        asyncio.run(Dispatcher(store).run())
    except KeyboardInterrupt:
        pass
    finally:
        store.close()


@app.command("dev-receiver")
def dev_receiver(
    port: int = 9000,
    host: str = "127.0.0.1",
    secret: Annotated[
        str | None, typer.Option(help="The project's callback_secret, to check signatures.")
    ] = None,
):
    """Receive callbacks locally and print them, checking their signatures."""
    from assay.dev_receiver import make_server

    server = make_server(
        host, port, secret, lambda text: console.print(text, highlight=False, soft_wrap=True)
    )
    console.print(f"receiving callbacks on http://{host}:{port}/ ; Ctrl-C stops")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@app.command("migrate")
def migrate_command(data_dir: DataDir = Path(DEFAULT_DATA_DIR), database_url_: DatabaseUrl = None):
    """Bring the database schema up to date (serve does this on start)."""
    _open_store(data_dir, database_url_)
    console.print("schema is up to date")


@app.command("import")
def import_command(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help=".jsonl, .csv or .parquet")
    ],
    project: Annotated[str, typer.Option(help="Project id.")],
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="jsonl, csv or parquet (default: from the file's suffix), or a format of "
            "the project's kind, e.g. coco (boxes) or conll (spans)",
        ),
    ] = None,
    batch: Annotated[str | None, typer.Option(help="Batch id (must be staging).")] = None,
    url: Url = DEFAULT_URL,
    key: Key = None,
    chunk_rows: int = 20_000,
):
    """Import tasks from a file, streaming it in chunks."""
    columns = [TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with _client(url, key) as client, Progress(*columns, console=err) as progress:
        rows, total = _task_rows(client, file, project, format)
        bar = progress.add_task("import", total=total)
        try:
            report = client.import_tasks(
                project,
                rows,
                batch=batch,
                chunk_rows=chunk_rows,
                on_progress=lambda n: progress.advance(bar, n),
            )
        except AssayAPIError as exc:
            _fail(exc)
    console.print(
        f"created {report['created']}, duplicate {report['duplicate']}, "
        f"rejected {report['rejected']}"
    )
    for e in report["errors"][:50]:
        console.print(f"  line {e['line']}: {e['field']}: {e['message']}", highlight=False)
    if len(report["errors"]) > 50:
        console.print(f"  ... and {len(report['errors']) - 50} more")
    if report["rejected"]:
        raise typer.Exit(1)


def _task_rows(client: Client, file: Path, project: str, fmt: str | None):
    """(numbered rows, how many) of a task file, in a generic or the project's kind's format."""
    from assay.errors import Invalid
    from assay.exchange.task_readers import READERS, kind_task_rows, open_task_file
    from assay.kinds import imports

    try:
        if fmt is None or fmt in READERS:
            task_file = open_task_file(file, fmt)
            return task_file.rows(), task_file.rows_estimate
        kind = client.get_project(project)["kind"]
        readers = imports(kind)
        if fmt not in readers:
            allowed = sorted([*READERS, *readers])
            raise ValueError(f"{kind} projects import from one of {allowed}, not {fmt!r}")
        rows = kind_task_rows(readers[fmt].read(file.read_bytes()))
        return iter(rows), len(rows)
    except AssayAPIError as exc:
        _fail(exc)
    except (ValueError, Invalid) as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None


@app.command("kinds")
def kinds_command(
    name: Annotated[str | None, typer.Argument(help="One kind, shown in full.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON, with the schemas.")] = False,
):
    """List the task kinds: what each takes (params, task, response schemas) and the
    formats it imports and exports."""
    import orjson

    from assay.errors import Invalid
    from assay.kinds import KINDS, describe

    try:
        found = [describe(name)] if name else [describe(k) for k in KINDS]
    except Invalid as exc:
        err.print(f"[red]error:[/] {exc.errors[0].message}")
        raise typer.Exit(2) from None
    if as_json or name:
        shown = found[0] if name else found
        sys.stdout.write(orjson.dumps(shown, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table("kind", "what a worker does", "exports", "imports")
    for kind in found:
        table.add_row(
            kind["name"],
            kind["summary"],
            ", ".join(["jsonl", "csv", "parquet", *kind["exports"]]),
            ", ".join(["jsonl", "csv", "parquet", *kind["imports"]]),
        )
    console.print(table)
    console.print("Schemas: assay kinds NAME (or --json for all).")


@app.command("export")
def export_command(
    project: Annotated[str, typer.Option(help="Project id.")],
    format: Annotated[
        str,
        typer.Option(
            "--format",
            help="jsonl, csv or parquet (every task), or a format of the project's kind "
            "(results): conll, spacy, coco, yolo, trl, dpo, openai, messages, ...",
        ),
    ] = "jsonl",
    output: Annotated[
        Path, typer.Option("-o", "--output", help="File to write ('-': stdout).")
    ] = Path("-"),
    status: Annotated[str | None, typer.Option(help="Only tasks with this status.")] = None,
    url: Url = DEFAULT_URL,
    key: Key = None,
):
    """Export a project's tasks, streaming to a file."""
    columns = [TextColumn("exporting"), DownloadColumn(), TransferSpeedColumn()]
    to_stdout = str(output) == "-"
    with (
        _client(url, key) as client,
        Progress(*columns, console=err, disable=to_stdout) as progress,
    ):
        bar = progress.add_task("export", total=None)
        sink = sys.stdout.buffer if to_stdout else output.open("wb")
        try:
            written = client.export(
                project,
                sink,
                format=format,
                status=status,
                on_progress=lambda n: progress.advance(bar, n),
            )
        except AssayAPIError as exc:
            _fail(exc)
        finally:
            if not to_stdout:
                sink.close()
    if not to_stdout:
        err.print(f"wrote {written} bytes to {output}")


if __name__ == "__main__":
    app()


@app.command()
def aggregate(
    answers_csv: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="task,worker,label rows")
    ],
    method: Annotated[
        str,
        typer.Option(
            help="mv, wawa, ds, onecoin, glad, mace (labels); mean, median, lfcn "
            "(numbers); auto picks a label method"
        ),
    ] = "auto",
    gold: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="task,label rows of known answers"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write task,label,confidence here.")
    ] = None,
    workers_csv: Annotated[
        Path | None, typer.Option("--workers", help="Write worker,quality,answers here.")
    ] = None,
):
    """Infer each task's answer from several workers' answers (truth inference).

    Label methods write task,label,confidence (the posterior of the label); numeric
    methods write task,label,std_error. A summary line goes to stderr.
    """
    from assay.quality.aggregate import UnknownMethod, aggregate_files

    try:
        summary = aggregate_files(
            answers_csv, method, gold, out or Path("/dev/stdout"), workers_csv
        )
    except (UnknownMethod, ValueError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    print(summary, file=sys.stderr)
