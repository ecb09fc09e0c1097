"""Speed of the labelling page: from the Enter that submits a task to the next task drawn.

A real `assay serve` on SQLite with one categorization project; headless Chromium (Debian's,
driven by Playwright) signs in as an annotator and labels N tasks with the keyboard only
(a digit, then Enter). In the page, a MutationObserver stamps the moment the widget shows a
new task; the time from the Enter keydown to that moment is one sample (it includes the
widget drawing the task, and the page's layout). Prints p50/p95/max.

Usage:
    python bench/ui.py [--tasks 200] [--port 8791] [--out FILE]
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from rich.console import Console

sys.path.insert(0, str(Path(__file__).parent))
from work_loop import Server, percentile, seed  # noqa: E402

from assay.store.db import Store, database_url  # noqa: E402
from assay.store.migrate import migrate  # noqa: E402

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Stamp the keydown of Enter, and the first moment the widget shows another task.
TIMING_HOOK = """
window.__samples = [];
document.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') window.__pressed = performance.now();
}, true);
new MutationObserver(() => {
  const widget = document.querySelector('#widget');
  const shown = widget.dataset.state === 'ready' && widget.dataset.taskId !== window.__last;
  if (window.__pressed && shown) {
    window.__samples.push(performance.now() - window.__pressed);
    window.__pressed = null;
  }
  window.__last = widget.dataset.taskId;
}).observe(document.querySelector('#widget'), {attributes: true, childList: true});
"""


def label(page, tasks: int) -> list[float]:
    page.wait_for_selector("#widget[data-state=ready]")
    page.evaluate(TIMING_HOOK)
    for _ in range(tasks):
        current = page.get_attribute("#widget", "data-task-id")
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "id => document.querySelector('#widget').dataset.taskId !== id", arg=current
        )
    return page.evaluate("window.__samples")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        store = Store(database_url(Path(data_dir), None))
        migrate(store)
        _, keys = seed(store, args.tasks + 2, 1)
        store.close()
        with Server(["--data-dir", data_dir], args.port) as server, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(base_url=server.url)
            page.goto("/login")
            page.fill("#key", keys[0])
            page.click("button[type=submit]")
            page.wait_for_url("**/work")
            samples = label(page, args.tasks)
            browser.close()
    figures = {
        "tasks": len(samples),
        "p50_ms": percentile(samples, 0.50),
        "p95_ms": percentile(samples, 0.95),
        "max_ms": max(samples),
    }
    Console().print(
        f"submit keypress -> next task drawn, {figures['tasks']} tasks: "
        f"p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms, "
        f"max {figures['max_ms']:.1f} ms"
    )
    if args.out:
        args.out.write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
