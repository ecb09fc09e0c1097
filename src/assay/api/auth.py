"""Bearer API keys and role checks, as FastAPI dependencies."""

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assay.engine.keys import Principal, authenticate
from assay.errors import AssayError
from assay.store.db import Store

bearer = HTTPBearer(auto_error=False, description="An API key from `assay keys create`")


def store_of(request: Request) -> Store:
    return request.app.state.store


def principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> Principal:
    if credentials is None:
        raise AssayError("send 'Authorization: Bearer <api key>'", "unauthenticated", 401)
    found = authenticate(store_of(request), credentials.credentials)
    if found is None:
        raise AssayError("the API key is unknown or revoked", "invalid_key", 401)
    return found


def allow(*roles: str):
    """Dependency that admits only keys with one of `roles`."""

    def check(who: Principal = Depends(principal)) -> Principal:
        if who.role not in roles:
            raise AssayError(
                f"a key with role {who.role!r} may not do this (needs {' or '.join(roles)})",
                "forbidden",
                403,
            )
        return who

    return Depends(check)


ADMIN = allow("admin")
MANAGER = allow("admin", "manager")
WORKER_ROLE = allow("annotator", "reviewer")
