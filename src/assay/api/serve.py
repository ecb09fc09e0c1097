"""Entry point for uvicorn (also with several worker processes): settings come from env."""

import os

from fastapi import FastAPI

from assay.api.app import create_app
from assay.settings import Settings


def app() -> FastAPI:
    return create_app(
        Settings(
            database_url=os.environ["ASSAY_SERVE_DATABASE_URL"],
            max_body_bytes=int(os.environ["ASSAY_SERVE_MAX_BODY_BYTES"]),
        )
    )
