"""Bulk import and export throughput of a running Label Studio, for comparison with assay.

Measures, against a Label Studio server that is already running:
  * bulk import of N text tasks through POST /api/projects/{id}/import, JSON array bodies sent
    in chunks of --chunk tasks, timed end to end from the first request to the last response;
    the task count is checked through the API afterwards;
  * JSON export of all N tasks through GET /api/projects/{id}/export?exportType=JSON, the body
    streamed and counted, repeated --export-repeat times, with the RSS of the server's process
    tree sampled every 10 ms (before, peak, growth).

Results are printed and written to bench/out/peer_label_studio.json.

Install and start Label Studio (outside this repository, default SQLite storage):
    python3.11 -m venv /tmp/ls-venv
    /tmp/ls-venv/bin/pip install label-studio==1.23.2 psutil httpx
    LABEL_STUDIO_BASE_DATA_DIR=/tmp/ls-data /tmp/ls-venv/bin/label-studio start --no-browser \\
        --internal-host 127.0.0.1 --port 8080 --data-dir /tmp/ls-data \\
        --username bench@example.com --password benchpass123 \\
        --user-token <40 hex chars> --enable-legacy-api-token &

Run (PID is the `label-studio start` process; its children are included in the RSS):
    .venv/bin/python bench/peer_label_studio.py --url http://127.0.0.1:8080 \\
        --token <40 hex chars> --pid <PID> --tasks 100000
"""

import argparse
import time
from pathlib import Path

import httpx
import orjson
from rich.console import Console
from rich.table import Table
from rss import RssSampler

LABEL_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="positive"/>
    <Choice value="negative"/>
  </Choices>
</View>"""

MB = 1024 * 1024


def import_tasks(client: httpx.Client, project: int, n: int, chunk: int) -> float:
    """Imports n tasks in chunks; returns the elapsed seconds."""
    start = time.perf_counter()
    for lo in range(0, n, chunk):
        body = orjson.dumps(
            [
                {"data": {"text": f"review a-{i}: the film was fine, the ending less so."}}
                for i in range(lo, min(lo + chunk, n))
            ]
        )
        r = client.post(
            f"/api/projects/{project}/import",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        r.raise_for_status()
    return time.perf_counter() - start


def export_tasks(client: httpx.Client, project: int, pid: int) -> dict:
    """Exports all tasks as JSON with RSS sampling; returns timings, sizes and memory."""
    params = {"exportType": "JSON", "download_all_tasks": "true"}
    chunks = []
    with RssSampler(pid) as rss:
        start = time.perf_counter()
        with client.stream("GET", f"/api/projects/{project}/export", params=params) as r:
            r.raise_for_status()
            for part in r.iter_bytes():
                chunks.append(part)
        seconds = time.perf_counter() - start
    body = b"".join(chunks)
    return {
        "seconds": seconds,
        "tasks": len(orjson.loads(body)),
        "bytes": len(body),
        "rss_before_mb": rss.before / MB,
        "rss_peak_mb": rss.peak / MB,
        "rss_growth_mb": (rss.peak - rss.before) / MB,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--token", required=True, help="legacy API token (Authorization: Token)")
    parser.add_argument("--pid", type=int, required=True, help="Label Studio server process id")
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=10_000, help="tasks per import request")
    parser.add_argument("--export-repeat", type=int, default=2)
    args = parser.parse_args()

    console = Console()
    headers = {"Authorization": f"Token {args.token}"}
    with httpx.Client(base_url=args.url, headers=headers, timeout=None) as client:
        version = client.get("/api/version").json().get("release")
        r = client.post(
            "/api/projects",
            json={"title": f"bench {args.tasks} tasks", "label_config": LABEL_CONFIG},
        )
        r.raise_for_status()
        project = r.json()["id"]

        console.print(f"Label Studio {version}: importing {args.tasks} tasks into {project}")
        import_s = import_tasks(client, project, args.tasks, args.chunk)
        count = client.get(f"/api/projects/{project}").json()["task_number"]
        if count != args.tasks:
            raise SystemExit(f"project holds {count} tasks, expected {args.tasks}")

        exports = []
        for i in range(args.export_repeat):
            console.print(f"export {i + 1}/{args.export_repeat}")
            e = export_tasks(client, project, args.pid)
            if e["tasks"] != args.tasks:
                raise SystemExit(f"export held {e['tasks']} tasks, expected {args.tasks}")
            exports.append(e)

    results = {
        "label_studio_version": version,
        "tasks": args.tasks,
        "import_chunk": args.chunk,
        "import_seconds": import_s,
        "import_tasks_per_s": args.tasks / import_s,
        "exports": [{**e, "tasks_per_s": e["tasks"] / e["seconds"]} for e in exports],
    }

    table = Table(title=f"Label Studio {version}, {args.tasks} tasks, SQLite")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row(
        f"import tasks/s (chunks of {args.chunk})", f"{results['import_tasks_per_s']:,.0f}"
    )
    table.add_row("import seconds", f"{import_s:.1f}")
    for i, e in enumerate(results["exports"], 1):
        table.add_row(f"export {i} tasks/s", f"{e['tasks_per_s']:,.0f}")
        table.add_row(f"export {i} seconds", f"{e['seconds']:.2f}")
        table.add_row(
            f"export {i} RSS before / peak MB", f"{e['rss_before_mb']:.0f} / {e['rss_peak_mb']:.0f}"
        )
        table.add_row(f"export {i} RSS growth MB", f"{e['rss_growth_mb']:.0f}")
    console.print(table)

    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "peer_label_studio.json").write_text(
        orjson.dumps(results, option=orjson.OPT_INDENT_2).decode()
    )


if __name__ == "__main__":
    main()
