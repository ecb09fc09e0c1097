"""The `assay` command line: run the server, manage keys, import and export tasks,
aggregate crowd answers."""

import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated

import typer
from rich.console import Console
from rich.markup import escape
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

from assay.client import DEFAULT_URL, AssayAPIError, AssayConnectionError, Client
from assay.enums import ROLES
from assay.settings import (
    DEFAULT_AUTH_FAILURES,
    DEFAULT_DATA_DIR,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_IMAGE_PIXELS,
    Settings,
)
from assay.store.db import SQLITE_FILE, Store, database_url
from assay.store.migrate import SchemaTooNew, current_revision, migrate

KEYS_HELP = (
    "Create, list and revoke API keys, on a running server or in a database.\n\n"
    "With --url (or ASSAY_URL) the commands ask that server's /v1/keys with an admin --key "
    "(or ASSAY_KEY). Otherwise they open the database of --data-dir (default ./assay-data) "
    "or --database-url directly; it must already exist: they never create one. On the "
    "command line, --data-dir or --database-url wins over ASSAY_URL from the environment."
    "\n\nThe first admin key of an empty database: `assay migrate --data-dir DIR` creates "
    "the database, then `assay keys create --role admin --data-dir DIR` makes the key."
)

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False)
keys_app = typer.Typer(help=KEYS_HELP, no_args_is_help=True)
app.add_typer(keys_app, name="keys")
OFF_TERMINAL_WIDTH = 1_000


def _console(stderr: bool = False) -> Console:
    """A console that never wraps or cuts a line at 80 columns off a terminal (a pipe, a
    file, a CI log), so a message stays on one line and an id stays whole."""
    out = Console(stderr=stderr, soft_wrap=True)
    if not out.is_terminal:
        out.width = OFF_TERMINAL_WIDTH
    return out


console = _console()
err = _console(stderr=True)

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
AllowPrivateUrls = Annotated[
    bool,
    typer.Option(
        "--allow-private-urls",
        envvar="ASSAY_ALLOW_PRIVATE_URLS",
        help="Let callbacks and model endpoints reach loopback and private addresses "
        "(local development only; refused by default).",
    ),
]
PRIVATE_URLS_BANNER = (
    "private URLs are allowed: callbacks and model endpoints may reach loopback and "
    "private addresses (for local development only)"
)
Key = Annotated[str | None, typer.Option(envvar="ASSAY_KEY", help="An API key.")]
KeysUrl = Annotated[
    str | None,
    typer.Option(
        envvar="ASSAY_URL",
        help="Manage the keys of this running server (with an admin --key / ASSAY_KEY).",
    ),
]
KeysDataDir = Annotated[
    Path,
    typer.Option(
        envvar="ASSAY_DATA_DIR",
        help="Manage the keys in the SQLite database here, directly. It must exist.",
    ),
]


def _error(message: object, code: int) -> typer.Exit:
    """Print one `error:` line; the caller raises the returned Exit."""
    err.print(f"[red]error:[/] {escape(str(message))}", highlight=False)
    return typer.Exit(code)


def _connected(data_dir: Path, url: str | None) -> Store:
    """The store, once a connection to it works; else exit with one line."""
    from sqlalchemy.exc import DBAPIError

    store = Store(database_url(data_dir, url))
    try:
        store.engine.connect().close()
    except DBAPIError as exc:
        store.close()
        reason = str(exc.orig).strip().splitlines()[0]
        raise _error(f"cannot reach {_where(data_dir, url)}: {reason}", 2) from None
    return store


def _migrated(store: Store) -> Store:
    try:
        migrate(store)
    except SchemaTooNew as exc:
        store.close()
        raise _error(exc, 1) from None
    return store


def _open_store(data_dir: Path, url: str | None) -> Store:
    """Open and migrate the store, or exit with a clear message."""
    return _migrated(_connected(data_dir, url))


def _where(data_dir: Path, url: str | None) -> str:
    """The database a command opens, as a person would name it (no password)."""
    if url:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    return str(Path(data_dir).expanduser().resolve() / SQLITE_FILE)


def _existing_store(data_dir: Path, url: str | None) -> Store:
    """Open a database assay has already set up (bringing its schema up to date), or exit
    saying where it looked; never create one."""
    where = _where(data_dir, url)
    hint = (
        "pass --data-dir or --database-url where the server keeps its database, --url to "
        "ask a running server, or create one with `assay migrate`"
    )
    if not url and not Path(where).is_file():
        raise _error(f"no assay database at {where} ({hint})", 1)
    store = _connected(data_dir, url)
    if current_revision(store) is None:
        store.close()
        raise _error(f"{where} is not an assay database ({hint})", 1)
    return _migrated(store)


def _keys_server(ctx: typer.Context, url: str | None) -> str | None:
    """The server whose /v1/keys to use, or None for the local database (see KEYS_HELP)."""

    def on_line(name: str) -> bool:
        # by name: typer may bring its own copy of click's ParameterSource
        return getattr(ctx.get_parameter_source(name), "name", None) == "COMMANDLINE"

    local = on_line("data_dir") or on_line("database_url_")
    if local and on_line("url"):
        raise _error("pass --url or --data-dir/--database-url, not both", 2)
    return None if local else url


@contextmanager
def _server(url: str, key: str | None) -> Iterator[Client]:
    """A client of the server; an unreachable server or an error answer ends the command
    with one line."""
    if not key:
        raise _error("pass --key or set ASSAY_KEY", 2)
    try:
        with Client(url, key) as client:
            yield client
    except AssayConnectionError as exc:
        raise _error(exc, 2) from None
    except AssayAPIError as exc:
        failure = _error(exc, 1)
        for e in exc.problem.get("errors", []):
            err.print(f"  {e.get('field')}: {e.get('message')}", highlight=False, markup=False)
        raise failure from None


def _rate_limit(value: str) -> str:
    from limits import parse

    try:
        parse(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is no rate such as 30/minute") from exc
    return value


def _plugins(entries: list[str] | None) -> list[str]:
    """Import the named plugins now, so a bad one stops the start with its reason."""
    from assay.automation.models.plugins import PluginError, register_plugins

    try:
        register_plugins(entries or ())
    except PluginError as exc:
        raise typer.BadParameter(str(exc)) from None
    return entries or []


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
    max_image_pixels: Annotated[
        int, typer.Option(min=1, help="Largest image upload in pixels (width x height).")
    ] = DEFAULT_MAX_IMAGE_PIXELS,
    auth_failures: Annotated[
        str,
        typer.Option(
            help="Failed authentications per client address before 429, e.g. 30/minute.",
            callback=_rate_limit,
        ),
    ] = DEFAULT_AUTH_FAILURES,
    workers: Annotated[int, typer.Option(help="Server processes.")] = 1,
    plugin: Annotated[
        list[str] | None,
        typer.Option(
            help="Register a Python model as NAME=module:function (repeatable); projects"
            ' name it {"type": "python", "name": NAME}.',
            metavar="NAME=MODULE:FUNCTION",
            callback=_plugins,
        ),
    ] = None,
    allow_private_urls: AllowPrivateUrls = False,
    server_timing: Annotated[
        bool, typer.Option(help="Add Server-Timing to every response (for benchmarks).")
    ] = False,
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
    if allow_private_urls:
        console.print(PRIVATE_URLS_BANNER)
    settings = Settings(
        database_url=url,
        max_body_bytes=max_body_bytes,
        max_image_pixels=max_image_pixels,
        auth_failures=auth_failures,
        plugins=tuple(plugin or ()),
        allow_private_urls=allow_private_urls,
        server_timing=server_timing,
    )
    _run(settings, host, port, workers, uvicorn)


def _run(settings: Settings, host: str, port: int, workers: int, uvicorn) -> None:
    import os

    from assay.api.serve import SETTINGS_ENV

    os.environ[SETTINGS_ENV] = settings.to_json()
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
    ctx: typer.Context,
    role: Annotated[str, typer.Option(help=", ".join(ROLES))],
    name: Annotated[str | None, typer.Option(help="A label for the key.")] = None,
    url: KeysUrl = None,
    key: Key = None,
    data_dir: KeysDataDir = Path(DEFAULT_DATA_DIR),
    database_url_: DatabaseUrl = None,
):
    """Create a key; the key is the last line printed (its secret is shown only then)."""
    from assay.engine.keys import create_key

    if role not in ROLES:
        raise _error(f"--role must be one of {', '.join(ROLES)}", 2)
    server = _keys_server(ctx, url)
    if server:
        with _server(server, key) as client:
            created = client.create_key(role, name)
    else:
        store = _existing_store(data_dir, database_url_)
        created = create_key(store, role, name)
        store.close()
    where = server or _where(data_dir, database_url_)
    console.print(f"created {role} key {created['id']} in {where}:", highlight=False)
    print(created["key"])


@keys_app.command("list")
def keys_list(
    ctx: typer.Context,
    url: KeysUrl = None,
    key: Key = None,
    data_dir: KeysDataDir = Path(DEFAULT_DATA_DIR),
    database_url_: DatabaseUrl = None,
):
    """List keys, never their secrets; ids are printed whole, for `keys revoke`."""
    server = _keys_server(ctx, url)
    if server:
        with _server(server, key) as client:
            docs = list(_pages(lambda token: _key_page(client, token)))
    else:
        from assay.engine.keys import list_keys

        store = _existing_store(data_dir, database_url_)
        docs = list(_pages(lambda token: list_keys(store, 100, token)))
        store.close()
    err.print(f"keys in {server or _where(data_dir, database_url_)}:", highlight=False)
    columns = ("id", "role", "name", "prefix", "created_at", "revoked_at")
    rows = [columns, *([doc[c] or "" for c in columns] for doc in docs)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _key_page(client: Client, token: str | None) -> tuple[list[dict], str | None]:
    page = client.list_keys(limit=100, next_token=token)
    return page["docs"], page["next_token"]


def _pages(fetch) -> Iterator[dict]:
    """Every document of a paged listing, following its next_token."""
    token = None
    while True:
        docs, token = fetch(token)
        yield from docs
        if not token:
            return


@keys_app.command("revoke")
def keys_revoke(
    ctx: typer.Context,
    key_id: str,
    url: KeysUrl = None,
    key: Key = None,
    data_dir: KeysDataDir = Path(DEFAULT_DATA_DIR),
    database_url_: DatabaseUrl = None,
):
    """Revoke a key by id (as `keys list` prints it)."""
    server = _keys_server(ctx, url)
    if server:
        with _server(server, key) as client:
            revoked = client.revoke_key(key_id)
    else:
        from assay.engine.keys import revoke_key
        from assay.errors import NotFound

        store = _existing_store(data_dir, database_url_)
        try:
            revoked = revoke_key(store, key_id)
        except NotFound as exc:
            raise _error(exc, 1) from None
        finally:
            store.close()
    where = server or _where(data_dir, database_url_)
    console.print(f"revoked {revoked['id']} at {revoked['revoked_at']} in {where}", highlight=False)


@app.command()
def worker(
    data_dir: DataDir = Path(DEFAULT_DATA_DIR),
    database_url_: DatabaseUrl = None,
    allow_private_urls: AllowPrivateUrls = False,
):
    """Deliver queued callbacks from this database until stopped (Ctrl-C).

    `assay serve` delivers them too; run workers to add delivery capacity or to keep
    delivering while no server runs. Any number may share one database.
    """
    import asyncio

    from assay.dispatcher import Dispatcher
    from assay.outbound import OutboundPolicy

    store = _open_store(data_dir, database_url_)
    console.print("delivering callbacks; Ctrl-C stops")
    if allow_private_urls:
        console.print(PRIVATE_URLS_BANNER)
    try:
        asyncio.run(Dispatcher(store, OutboundPolicy(allow_private=allow_private_urls)).run())
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
    """Create the database or bring its schema up to date (serve does this on start), and
    say which it did."""
    from sqlalchemy import inspect

    store = _connected(data_dir, database_url_)
    before, tables = current_revision(store), set(inspect(store.engine).get_table_names())
    try:
        head = migrate(store)
    except SchemaTooNew as exc:
        raise _error(exc, 1) from None
    finally:
        created = set(inspect(store.engine).get_table_names()) - tables
        store.close()
    where = _where(data_dir, database_url_)
    if before == head:
        done = f"schema is up to date at revision {head}"
    elif before is None:
        done = f"created {len(created)} tables, schema at revision {head}"
    else:
        done = f"upgraded the schema from revision {before} to {head}"
    console.print(f"{where}: {done}", highlight=False)


SHOWN_ERRORS = 50
"""Problems an import prints in full; the rest are summed up by field and by code."""


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
    with _server(url, key) as client, _progress(*columns) as progress:
        rows, total = _task_rows(client, file, project, format)
        bar = progress.add_task("import", total=total)
        report = client.import_tasks(
            project,
            rows,
            batch=batch,
            chunk_rows=chunk_rows,
            on_progress=lambda n: progress.advance(bar, n),
        )
    console.print(
        f"created {report['created']}, duplicate {report['duplicate']}, "
        f"rejected {report['rejected']}"
    )
    shown = report["errors"][:SHOWN_ERRORS]
    for e in shown:
        console.print(f"  line {e['line']}: {e['field']}: {e['message']}", highlight=False)
    if report["error_count"] > len(shown):
        console.print(f"  ... and {report['error_count'] - len(shown)} more problems")
        for title, key in (("by field", "errors_by_field"), ("by code", "errors_by_code")):
            counts = sorted(report[key].items(), key=lambda item: -item[1])
            listed = ", ".join(f"{name} {n}" for name, n in counts)
            console.print(f"  problems {title}: {listed}", highlight=False, soft_wrap=True)
    if report["rejected"]:
        raise typer.Exit(1)


def _task_rows(client: Client, file: Path, project: str, fmt: str | None):
    """(numbered rows, how many) of a task file, in a generic or the project's kind's format."""
    from assay.errors import Invalid
    from assay.exchange.task_readers import READERS, kind_task_rows, open_task_file
    from assay.extras import MissingExtra
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
    except (ValueError, Invalid, MissingExtra) as exc:
        raise _error(exc, 2) from None


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
        raise _error(exc.errors[0].message, 2) from None
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
    """Export a project's tasks, streaming to a file (written whole or not at all)."""
    columns = [TextColumn("exporting"), DownloadColumn(), TransferSpeedColumn()]
    to_stdout = str(output) == "-"
    with (
        _server(url, key) as client,
        _progress(*columns, disable=to_stdout) as progress,
        _output(output) as sink,
    ):
        bar = progress.add_task("export", total=None)
        written = client.export(
            project,
            sink,
            format=format,
            status=status,
            on_progress=lambda n: progress.advance(bar, n),
        )
    if not to_stdout:
        err.print(f"wrote {written} bytes to {output}", highlight=False)


def _progress(*columns, disable: bool = False) -> Progress:
    """A progress bar on stderr, shown only on a terminal (a log gets no bar)."""
    return Progress(*columns, console=err, disable=disable or not err.is_terminal)


@contextmanager
def _output(path: Path) -> Iterator[IO[bytes]]:
    """Stdout for '-'; else a temporary file beside `path`, renamed to it once the block
    succeeds and removed if it fails, so a failed export leaves no file behind."""
    if str(path) == "-":
        yield sys.stdout.buffer
        return
    part_path = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        part = part_path.open("xb")
    except OSError as exc:
        raise _error(f"cannot write {path}: {exc.strerror}", 1) from None
    try:
        with part:
            yield part
    except BaseException:
        part_path.unlink(missing_ok=True)
        raise
    part_path.replace(path)


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
        Path | None,
        typer.Option(
            "--workers",
            help="Write worker,quality,answers here (quality: the chance of a right answer).",
        ),
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
        raise _error(exc, 2) from None
    print(summary, file=sys.stderr)
