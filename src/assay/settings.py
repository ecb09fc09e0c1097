"""Runtime settings shared by the server and the CLI."""

from dataclasses import dataclass

DEFAULT_DATA_DIR = "./assay-data"
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    database_url: str
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    deliver_callbacks: bool = True
    """Run a callback dispatcher thread in the server (more can run as `assay worker`)."""
    automate: bool = True
    """Run model-in-the-loop cycles in a background thread of the server (otherwise only
    on request, `POST /v1/projects/{id}/automation:run`)."""
    allow_private_urls: bool = False
    """Let outbound requests (callbacks, model endpoints) reach loopback and private
    addresses: for local development only (`assay serve --allow-private-urls`)."""
