"""Annotation throughput of a running Label Studio with concurrent annotators, beside assay.

Measures, against a Label Studio server that is already running:
  * setup: a project with a two-choice text classification config (positive / negative) and
    maximum_annotations=1 (overlap 1), N text tasks imported through
    POST /api/projects/{id}/import; C annotator users (default 8), each a member of the
    organization with its own API token;
  * throughput: C client processes, one per annotator and each with that annotator's token,
    loop for D seconds: GET /api/projects/{id}/next/ (the label stream's next task), then
    POST /api/tasks/{task_id}/annotations/ choosing a label. Counted: successful submits
    (total and per client, per second), next-task latency p50/p99 at the client, submit
    latency p50/p99, errors by request and HTTP status (and how many error bodies say
    'database is locked');
  * server-side lock contention: Label Studio's DatabaseIsLockedRetryMiddleware (SQLite only)
    catches a 'database is locked' 500 inside the server, sleeps 1 s, 1.5 s, 2.25 s, ... and
    replays the request up to 15 times, so clients rarely see these errors: they show up as
    latency. With --server-log (the file the server's output goes to), the lines it writes
    during the run are scanned for 'database is locked' errors (each one a replayed request)
    and for its own "Num takes=... > overlap=..." complaint;
  * correctness: afterwards all tasks are exported (GET /api/projects/{id}/export?exportType=JSON)
    and the tasks holding more than one annotation are counted: with overlap 1 there should be
    none, but the label stream can hand the same task to two annotators at once.

Results are printed and written to bench/out/peer_label_studio_work.json.

Annotators and their tokens: POST /api/users creates users but cannot set a password, and
there is no API to read another user's token, so each annotator signs up the way a person
would. The admin's GET /api/invite gives the organization's invite token; the annotator's
session GETs /user/signup/?token=... (for the CSRF cookie) and POSTs the signup form (email,
password), which creates the user, adds it to the organization and logs the session in; the
session then reads its token from GET /api/current-user/token. On a rerun, where the email is
taken, the session logs in through the /user/login/ form instead. Membership is checked
through the admin's GET /api/users (which lists the organization's members). The tokens are
legacy API tokens (Authorization: Token ...), so the server must be started with
--enable-legacy-api-token.

Install and start Label Studio (outside this repository, default SQLite storage; `start`
serves through Django's threaded development server, one process):
    python3.11 -m venv /tmp/ls-venv
    /tmp/ls-venv/bin/pip install label-studio==1.23.2 psutil httpx
    LABEL_STUDIO_BASE_DATA_DIR=/tmp/ls-data /tmp/ls-venv/bin/label-studio start --no-browser \\
        --internal-host 127.0.0.1 --port 8080 --data-dir /tmp/ls-data \\
        --username bench@example.com --password benchpass123 \\
        --user-token <40 hex chars> --enable-legacy-api-token &

Run (the admin's token is the --user-token above; the server's output, for --server-log,
is wherever `label-studio start` was redirected to, e.g. `> /tmp/ls.log 2>&1`):
    .venv/bin/python bench/peer_label_studio_work.py --url http://127.0.0.1:8080 \\
        --token <40 hex chars> --clients 8 --seconds 60 --tasks 3000 --server-log /tmp/ls.log
"""

import argparse
import collections
import multiprocessing
import os
import random
import time
from pathlib import Path

import httpx
import orjson
from peer_label_studio import import_tasks
from rich.console import Console
from rich.table import Table

LABEL_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="positive"/>
    <Choice value="negative"/>
  </Choices>
</View>"""

LABELS = ["positive", "negative"]
PASSWORD = "benchpass123"
IMPORT_CHUNK = 1000
LOCKED = "database is locked"

console = Console()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def create_project(admin: httpx.Client, n: int) -> int:
    """Creates the overlap-1 project and imports n tasks; returns the project id."""
    r = admin.post(
        "/api/projects",
        json={
            "title": f"bench work {n} tasks",
            "label_config": LABEL_CONFIG,
            "maximum_annotations": 1,
        },
    )
    r.raise_for_status()
    project = r.json()["id"]
    import_tasks(admin, project, n, IMPORT_CHUNK)
    info = admin.get(f"/api/projects/{project}").json()
    if info["task_number"] != n or info["maximum_annotations"] != 1:
        raise SystemExit(
            f"project {project} holds {info['task_number']} tasks with overlap "
            f"{info['maximum_annotations']}, expected {n} with overlap 1"
        )
    return project


def annotator_token(url: str, invite: str, email: str) -> str:
    """Signs the annotator up through the invite link (or logs in if it exists); its token."""
    with httpx.Client(base_url=url, timeout=60) as session:
        for page, params, fields in (
            ("/user/signup/", {"token": invite}, {}),
            ("/user/login/", {}, {"persist_session": "on"}),
        ):
            session.get(page, params=params).raise_for_status()
            csrf = session.cookies.get("csrftoken")
            r = session.post(
                page,
                params=params,
                data={"email": email, "password": PASSWORD, "csrfmiddlewaretoken": csrf, **fields},
                headers={"Referer": f"{url}{page}", "X-CSRFToken": csrf},
            )
            if r.status_code == 302:  # the form redirects once the session is logged in
                break
        else:
            raise SystemExit(f"could neither sign up nor log in {email}")
        r = session.get("/api/current-user/token")
        r.raise_for_status()
        return r.json()["token"]


def create_annotators(admin: httpx.Client, url: str, count: int) -> list[tuple[str, str]]:
    """Returns (email, token) for `count` annotators, all members of the organization."""
    invite = admin.get("/api/invite").json()["token"]
    annotators = []
    for i in range(count):
        email = f"annotator{i}@example.com"
        annotators.append((email, annotator_token(url, invite, email)))
    members = admin.get("/api/users").json()
    emails = {u["email"] for u in members}  # a plain list of the organization's users
    missing = [email for email, _ in annotators if email not in emails]
    if missing:
        raise SystemExit(f"not members of the organization: {missing}")
    for email, token in annotators:
        r = httpx.get(f"{url}/api/current-user/whoami", headers={"Authorization": f"Token {token}"})
        r.raise_for_status()
        if r.json()["email"] != email:
            raise SystemExit(f"token of {email} belongs to {r.json()['email']}")
    return annotators


def client(
    index: int, url: str, token: str, project: int, start_at: float, seconds: float, out
) -> None:
    """One annotator: next -> submit until the deadline; puts its tallies on `out`."""
    rng = random.Random(token)
    next_ms: list[float] = []
    submit_ms: list[float] = []
    errors: collections.Counter = collections.Counter()
    locked = 0
    submits = 0
    exhausted = False
    deadline = start_at + seconds
    headers = {"Authorization": f"Token {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
        time.sleep(max(0.0, start_at - time.time()))
        while time.time() < deadline:
            t0 = time.perf_counter()
            try:
                r = http.get(f"/api/projects/{project}/next/")
            except httpx.HTTPError as e:
                errors[f"next {type(e).__name__}"] += 1
                continue
            if r.status_code != 200:
                errors[f"next {r.status_code}"] += 1
                locked += LOCKED in r.text
                if r.status_code == 404:  # no task left for this annotator
                    exhausted = True
                    break
                continue
            next_ms.append((time.perf_counter() - t0) * 1000)
            task = r.json()["id"]
            body = {
                "result": [
                    {
                        "from_name": "sentiment",
                        "to_name": "text",
                        "type": "choices",
                        "value": {"choices": [rng.choice(LABELS)]},
                    }
                ],
                "lead_time": 1.0,
            }
            t0 = time.perf_counter()
            try:
                r = http.post(f"/api/tasks/{task}/annotations/", json=body)
            except httpx.HTTPError as e:
                errors[f"submit {type(e).__name__}"] += 1
                continue
            if r.status_code != 201:
                errors[f"submit {r.status_code}"] += 1
                locked += LOCKED in r.text
                continue
            if time.time() <= deadline:
                submits += 1
                submit_ms.append((time.perf_counter() - t0) * 1000)
    out.put(
        {
            "index": index,
            "submits": submits,
            "next_ms": next_ms,
            "submit_ms": submit_ms,
            "errors": dict(errors),
            "database_locked": locked,
            "exhausted": exhausted,
        }
    )


def run_clients(url: str, project: int, annotators: list[tuple[str, str]], seconds: float):
    """Runs one process per annotator for `seconds`; returns their tallies in order."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 3  # lets every process start before the clock runs
    procs = [
        ctx.Process(target=client, args=(i, url, token, project, start_at, seconds, out))
        for i, (_, token) in enumerate(annotators)
    ]
    for p in procs:
        p.start()
    tallies = [out.get() for _ in procs]  # before join: a full queue would block the child
    for p in procs:
        p.join()
    return sorted(tallies, key=lambda t: t["index"])


def duplicates(admin: httpx.Client, project: int) -> dict:
    """Exports all tasks and counts annotations per task."""
    r = admin.get(
        f"/api/projects/{project}/export",
        params={"exportType": "JSON", "download_all_tasks": "true"},
    )
    r.raise_for_status()
    per_task = [len(t.get("annotations", [])) for t in orjson.loads(r.content)]
    return {
        "tasks": len(per_task),
        "annotations_on_server": sum(per_task),
        "tasks_annotated": sum(1 for n in per_task if n >= 1),
        "tasks_with_multiple_annotations": sum(1 for n in per_task if n > 1),
        "max_annotations_on_a_task": max(per_task, default=0),
    }


def scan_server_log(path: Path, offset: int) -> dict:
    """Counts lock errors and overlap complaints the server logged past `offset`."""
    with path.open("rb") as f:
        f.seek(offset)
        lines = f.read().decode(errors="replace").splitlines()
    return {
        "server_log_database_locked": sum(
            1 for line in lines if "custom_exception_handler" in line and LOCKED in line
        ),
        "server_log_overlap_exceeded": sum(
            1 for line in lines if "Num takes=" in line and "> overlap=" in line
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--token", required=True, help="admin's legacy API token")
    parser.add_argument("--tasks", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--server-log", type=Path, help="file the server's output goes to")
    args = parser.parse_args()

    headers = {"Authorization": f"Token {args.token}"}
    with httpx.Client(base_url=args.url, headers=headers, timeout=None) as admin:
        version = admin.get("/api/version").json().get("release")
        console.print(f"Label Studio {version}: project with {args.tasks} tasks, overlap 1")
        project = create_project(admin, args.tasks)
        console.print(f"{args.clients} annotators")
        annotators = create_annotators(admin, args.url, args.clients)
        console.print(f"{args.clients} clients, {args.seconds:g} s on project {project}")
        log_offset = args.server_log.stat().st_size if args.server_log else 0
        load_before = os.getloadavg()
        tallies = run_clients(args.url, project, annotators, args.seconds)
        load_after = os.getloadavg()
        log = scan_server_log(args.server_log, log_offset) if args.server_log else {}
        server = duplicates(admin, project)

    next_ms = [v for t in tallies for v in t["next_ms"]]
    submit_ms = [v for t in tallies for v in t["submit_ms"]]
    errors: collections.Counter = collections.Counter()
    for t in tallies:
        errors.update(t["errors"])
    submits = sum(t["submits"] for t in tallies)
    results = {
        "label_studio_version": version,
        "storage": "sqlite",
        "server": "label-studio start (Django threaded development server)",
        "cpu_count": os.cpu_count(),
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "project": project,
        "tasks": args.tasks,
        "overlap": 1,
        "clients": args.clients,
        "seconds": args.seconds,
        "submits": submits,
        "submits_per_s": submits / args.seconds,
        "per_client_submits_per_s": [t["submits"] / args.seconds for t in tallies],
        "next_ms_p50": percentile(next_ms, 0.50),
        "next_ms_p99": percentile(next_ms, 0.99),
        "submit_ms_p50": percentile(submit_ms, 0.50),
        "submit_ms_p99": percentile(submit_ms, 0.99),
        "errors": dict(sorted(errors.items())),
        "errors_database_locked": sum(t["database_locked"] for t in tallies),
        "clients_out_of_tasks": sum(t["exhausted"] for t in tallies),
        **log,
        **server,
    }

    table = Table(title=f"Label Studio {version}, {args.clients} annotators, overlap 1, SQLite")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row(f"submits/s ({args.seconds:g} s)", f"{results['submits_per_s']:,.1f}")
    table.add_row(
        "per client submits/s",
        " ".join(f"{v:.1f}" for v in results["per_client_submits_per_s"]),
    )
    table.add_row(
        "next p50 / p99 ms", f"{results['next_ms_p50']:.0f} / {results['next_ms_p99']:.0f}"
    )
    table.add_row(
        "submit p50 / p99 ms", f"{results['submit_ms_p50']:.0f} / {results['submit_ms_p99']:.0f}"
    )
    table.add_row("errors", ", ".join(f"{k}: {v}" for k, v in results["errors"].items()) or "none")
    table.add_row(
        "client errors saying 'database is locked'", str(results["errors_database_locked"])
    )
    if log:
        table.add_row(
            "server log: 'database is locked' (replayed)", str(log["server_log_database_locked"])
        )
        table.add_row("server log: 'Num takes > overlap'", str(log["server_log_overlap_exceeded"]))
    table.add_row("annotations on server", f"{server['annotations_on_server']:,}")
    table.add_row("tasks annotated", f"{server['tasks_annotated']:,}")
    table.add_row("tasks with >1 annotation", f"{server['tasks_with_multiple_annotations']:,}")
    table.add_row("load average before / after", f"{load_before[0]:.1f} / {load_after[0]:.1f}")
    console.print(table)

    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "peer_label_studio_work.json").write_text(
        orjson.dumps(results, option=orjson.OPT_INDENT_2).decode()
    )


if __name__ == "__main__":
    main()
