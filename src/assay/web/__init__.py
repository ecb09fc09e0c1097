"""The web workspace: server-rendered pages (Jinja2) with small ES modules, served by
`assay serve` itself. Pages hold no business rules: they call the same HTTP API as any
client, signed in by a session cookie (see engine/sessions.py)."""

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
