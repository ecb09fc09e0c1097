"""Entry point for uvicorn (also with several worker processes): settings come from env."""

import gc
import os

from fastapi import FastAPI

from assay.api.app import create_app
from assay.settings import Settings

# Bulk imports allocate millions of short-lived containers; the default gen-0 threshold
# (700) makes the cyclic collector run thousands of times per request for nothing.
GC_THRESHOLDS = (50_000, 20, 20)


def app() -> FastAPI:
    gc.set_threshold(*GC_THRESHOLDS)
    return create_app(
        Settings(
            database_url=os.environ["ASSAY_SERVE_DATABASE_URL"],
            max_body_bytes=int(os.environ["ASSAY_SERVE_MAX_BODY_BYTES"]),
            auth_failures=os.environ["ASSAY_SERVE_AUTH_FAILURES"],
            max_image_pixels=int(os.environ["ASSAY_SERVE_MAX_IMAGE_PIXELS"]),
            plugins=tuple(os.environ["ASSAY_SERVE_PLUGINS"].split()),
            allow_private_urls=os.environ.get("ASSAY_SERVE_ALLOW_PRIVATE_URLS") == "1",
        )
    )
