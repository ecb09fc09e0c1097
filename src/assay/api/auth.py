"""Who is calling: a Bearer API key, or a browser session cookie (see engine/sessions);
and role checks, as FastAPI dependencies.

A request with a session cookie that changes anything must carry the session's CSRF token
in the `X-CSRF-Token` header (pages send it from their <meta name="csrf-token">).
"""

from collections.abc import Callable
from typing import Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assay.api.throttle import AuthThrottle, client_address
from assay.engine.keys import Principal, authenticate
from assay.engine.sessions import csrf_matches, session_of
from assay.engine.workers import working
from assay.enums import MANAGER_ROLES, WORKER_ROLES
from assay.errors import AssayError
from assay.outbound import OutboundPolicy
from assay.store.db import Store

bearer = HTTPBearer(auto_error=False, description="An API key from `assay keys create`")


async def store_of(request: Request) -> Store:
    return request.app.state.store


async def outbound_of(request: Request) -> OutboundPolicy:
    """Where this server may send requests (callbacks, model endpoints)."""
    return request.app.state.outbound


SESSION_COOKIE = "assay_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _known(store: Store, secret: str, throttle: AuthThrottle, address: str) -> Principal:
    found = authenticate(store, secret)
    if found is None:
        refusal = throttle.failure(address)
        raise refusal or AssayError("the API key is unknown or revoked", "invalid_key", 401)
    return found


def _from_session(store: Store, token: str, changes: bool, csrf: str | None) -> Principal:
    session = session_of(store, token)
    if session is None:
        raise AssayError("the session has ended; sign in again", "session_ended", 401)
    if changes and not csrf_matches(session, csrf):
        raise AssayError(f"send the session's {CSRF_HEADER} header", "csrf", 403)
    return session.principal


def identify(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Callable[[Store], Principal]:
    """A lookup of the caller, to run on the database thread: the Bearer key if there is
    one, else the session cookie."""
    if credentials is not None:
        secret = credentials.credentials
        throttle, address = request.app.state.auth_throttle, client_address(request)
        return lambda store: _known(store, secret, throttle, address)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        changes = request.method not in SAFE_METHODS
        csrf = request.headers.get(CSRF_HEADER)
        return lambda store: _from_session(store, token, changes, csrf)
    raise AssayError("send 'Authorization: Bearer <api key>'", "unauthenticated", 401)


def _with_role(who: Principal, roles: tuple[str, ...]) -> Principal:
    if who.role not in roles:
        raise AssayError(
            f"a key with role {who.role!r} may not do this (needs {' or '.join(roles)})",
            "forbidden",
            403,
        )
    return who


async def principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> Principal:
    return await request.app.state.lane(identify(request, credentials), request.app.state.store)


async def as_worker(
    request: Request, act: Callable[..., Any], *args: Any, roles: tuple[str, ...] = WORKER_ROLES
) -> Any:
    """Run `act(store, worker, *args)` for the worker whose key the request carries.

    The work loop's routes use this instead of dependencies: the key lookup and the work
    share one trip to the database thread, which halves the cost of these small requests.
    """
    caller = identify(request, await bearer(request))
    store = request.app.state.store

    def authenticated_act() -> Any:
        return act(store, working(_with_role(caller(store), roles)), *args)

    return await request.app.state.lane(authenticated_act)


def allow(*roles: str):
    """Dependency that admits only keys with one of `roles`."""

    async def check(who: Principal = Depends(principal)) -> Principal:
        return _with_role(who, roles)

    return Depends(check)


ADMIN = allow("admin")
MANAGER = allow(*MANAGER_ROLES)
