"""Entry point for uvicorn (also with several worker processes): settings come from env."""

import gc
import os

from fastapi import FastAPI

from assay.api.app import create_app
from assay.settings import Settings

# Bulk imports allocate millions of short-lived containers; the default gen-0 threshold
# (700) makes the cyclic collector run thousands of times per request for nothing.
GC_THRESHOLDS = (50_000, 20, 20)


SETTINGS_ENV = "ASSAY_SERVE_SETTINGS"
"""How `assay serve` hands its settings to uvicorn's worker processes."""


def app() -> FastAPI:
    gc.set_threshold(*GC_THRESHOLDS)
    return create_app(Settings.from_json(os.environ[SETTINGS_ENV]))
