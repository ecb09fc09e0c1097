"""Bearer API keys and role checks, as FastAPI dependencies."""

from collections.abc import Callable
from typing import Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assay.engine.keys import WORKER_ROLES, Principal, authenticate
from assay.engine.workers import working
from assay.errors import AssayError
from assay.store.db import Store

bearer = HTTPBearer(auto_error=False, description="An API key from `assay keys create`")


async def store_of(request: Request) -> Store:
    return request.app.state.store


def _secret(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None:
        raise AssayError("send 'Authorization: Bearer <api key>'", "unauthenticated", 401)
    return credentials.credentials


def _known(store: Store, secret: str) -> Principal:
    found = authenticate(store, secret)
    if found is None:
        raise AssayError("the API key is unknown or revoked", "invalid_key", 401)
    return found


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
    return await request.app.state.lane(_known, request.app.state.store, _secret(credentials))


async def as_worker(
    request: Request, act: Callable[..., Any], *args: Any, roles: tuple[str, ...] = WORKER_ROLES
) -> Any:
    """Run `act(store, worker, *args)` for the worker whose key the request carries.

    The work loop's routes use this instead of dependencies: the key lookup and the work
    share one trip to the database thread, which halves the cost of these small requests.
    """
    secret = _secret(await bearer(request))
    store = request.app.state.store

    def authenticated_act() -> Any:
        return act(store, working(_with_role(_known(store, secret), roles)), *args)

    return await request.app.state.lane(authenticated_act)


def allow(*roles: str):
    """Dependency that admits only keys with one of `roles`."""

    async def check(who: Principal = Depends(principal)) -> Principal:
        return _with_role(who, roles)

    return Depends(check)


ADMIN = allow("admin")
MANAGER = allow("admin", "manager")
