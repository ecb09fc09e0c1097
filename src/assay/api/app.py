"""The HTTP API: FastAPI application factory."""

import gc
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from sqlalchemy import text

from assay.api import errors
from assay.api.headers import SecurityHeaders
from assay.api.lane import QuickLane
from assay.api.limits import BodySizeLimit, RejectNulInUrl
from assay.api.openapi import document_problems
from assay.api.responses import OrjsonResponse
from assay.api.routes import batches, keys, kinds, media, projects, tasks, work, workers
from assay.api.throttle import AuthThrottle
from assay.api.timing import ServerTiming
from assay.automation.models.plugins import register_plugins
from assay.dispatcher import Dispatcher
from assay.engine.automation import Automator
from assay.engine.refit import Refitter
from assay.outbound import OutboundPolicy
from assay.settings import Settings
from assay.store.db import Store
from assay.store.migrate import migrate
from assay.web import STATIC_DIR, pages

DESCRIPTION = """
The assay task API. Authenticate with `Authorization: Bearer <api key>`.
Errors are RFC 9457 problem JSON with a machine `code` and `errors[].field` paths.
Lists paginate with `limit` and the `next_token` of the previous page.
"""


def create_app(settings: Settings) -> FastAPI:
    outbound = OutboundPolicy(allow_private=settings.allow_private_urls)
    register_plugins(settings.plugins)  # at start only: requests name them, never import

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        store = Store(settings.database_url)
        migrate(store)
        app.state.store = store
        app.state.lane = QuickLane(store.dialect)
        checkpointer = store.start_checkpoints()
        refitter = Refitter(store).start()
        automator = Automator(store, outbound=outbound).start() if settings.automate else None
        dispatcher = Dispatcher(store, outbound) if settings.deliver_callbacks else None
        if dispatcher:
            dispatcher.start()
        # What exists now lives as long as the server: out of the collector's sight, a
        # full collection no longer walks it, which took tens of ms in one request.
        gc.freeze()
        yield
        if dispatcher:
            dispatcher.stop()
        refitter.stop()
        if automator:
            automator.stop()
        app.state.lane.close()
        if checkpointer:
            checkpointer.stop()
        store.close()

    # The API docs page serves its own copy of Swagger UI: it works without internet access.
    app = FastAPIOffline(
        title="assay",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=OrjsonResponse,
    )
    app.state.settings = settings
    app.state.outbound = outbound
    errors.install(app)
    document_problems(app)
    app.add_middleware(RejectNulInUrl)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.server_timing:
        app.add_middleware(ServerTiming)  # added late: outside the rest, so it times them
    app.add_middleware(SecurityHeaders)  # outside even that: no response goes without them
    app.state.auth_throttle = AuthThrottle(settings.auth_failures)
    # Routes are matched in order: the work loop's, by far the most frequent, go first.
    for module in (work, tasks, projects, batches, workers, keys, kinds, media):
        app.include_router(module.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(pages.PageDenied)
    async def page_denied(request, exc: pages.PageDenied):
        return exc.response

    @app.get("/healthz", tags=["health"])
    def healthz():
        """Liveness and database reachability; needs no key."""
        with app.state.store.read() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    return app
