"""Runtime settings shared by the server and the CLI."""

import json
from dataclasses import asdict, dataclass

DEFAULT_DATA_DIR = "./assay-data"
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_AUTH_FAILURES = "30/minute"
DEFAULT_MAX_IMAGE_PIXELS = 100_000_000


@dataclass(frozen=True)
class Settings:
    database_url: str
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    deliver_callbacks: bool = True
    """Run a callback dispatcher thread in the server (more can run as `assay worker`)."""
    automate: bool = True
    """Run model-in-the-loop cycles in a background thread of the server (otherwise only
    on request, `POST /v1/projects/{id}/automation:run`)."""
    plugins: tuple[str, ...] = ()
    """Python models to register at start, "NAME=module:function" each (`assay serve
    --plugin`), beside those of installed `assay.models` entry points; requests name them."""
    allow_private_urls: bool = False
    """Let outbound requests (callbacks, model endpoints) reach loopback and private
    addresses: for local development only (`assay serve --allow-private-urls`)."""
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
    """Largest image upload, in pixels (width x height), read from its header before any
    pixel is decoded (`assay serve --max-image-pixels`). Pillow itself refuses more than
    twice its own limit (about 179 million) whatever this says."""
    auth_failures: str = DEFAULT_AUTH_FAILURES
    """Failed authentications (unknown keys, refused sign-ins) one client address may make
    in a moving window before further failures get 429 with Retry-After; a `limits`
    expression such as "30/minute" (`assay serve --auth-failures`)."""
    server_timing: bool = False
    """Add `Server-Timing: app;dur=<ms>` to every response (`assay serve --server-timing`),
    for benchmarks and profiling. Off by default: the time a submit takes would tell a
    worker more about the task than its answer should (a gold task completes nothing)."""

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "Settings":
        values = json.loads(text)  # a JSON list is one of the settings' tuples
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
