"""The pages of the web workspace, and sign-in / sign-out.

Every page needs a session (else it redirects to /login) and a role that may see it (else
a 403 page). Pages render a frame; their ES modules fetch the data from the HTTP API with
the session cookie and the page's CSRF token.
"""

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from assay.api.auth import CSRF_HEADER, SESSION_COOKIE
from assay.api.throttle import client_address
from assay.engine.sessions import SESSION_SECONDS, Session, csrf_matches, session_of, sign_in
from assay.engine.sessions import sign_out as end_session
from assay.enums import MANAGER_ROLES, REVIEWER_ROLES, WORKER_ROLES
from assay.errors import AssayError, FieldError, Invalid
from assay.web.markdown import render_instructions

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

LOGIN_CSRF_COOKIE = "assay_login_csrf"
HOME = {"annotator": "/work", "reviewer": "/review", "manager": "/projects", "admin": "/projects"}
NAV = {
    "annotator": [("/work", "Label"), ("/me", "My work")],
    "reviewer": [("/review", "Review"), ("/work", "Label"), ("/me", "My work")],
    "manager": [("/projects", "Projects"), ("/workers", "Workers")],
    "admin": [("/projects", "Projects"), ("/workers", "Workers"), ("/keys", "Keys")],
}


class PageDenied(Exception):
    """Raised by a page for a visitor who is not signed in, or whose role may not see it."""

    def __init__(self, response: Response):
        self.response = response


async def _session(request: Request) -> Session | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    return await request.app.state.lane(session_of, request.app.state.store, token)


async def visitor(request: Request, roles: tuple[str, ...]) -> Session:
    """The signed-in session, if its role may see the page."""
    session = await _session(request)
    if session is None:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        raise PageDenied(RedirectResponse(f"/login?next={target}", status_code=303))
    if session.principal.role not in roles:
        raise PageDenied(forbidden(request, session))
    return session


def render(request: Request, template: str, session: Session | None, status: int = 200, **ctx):
    who = session.principal if session else None
    context: dict[str, Any] = {
        "who": who,
        "csrf": session.csrf if session else None,
        "csrf_header": CSRF_HEADER,
        "nav": NAV.get(who.role, []) if who else [],
        "path": request.url.path,
    }
    headers = {"Cache-Control": "no-store", "X-Frame-Options": "DENY"}
    response = templates.TemplateResponse(
        request, template, context | ctx, status_code=status, headers=headers
    )
    return response


def forbidden(request: Request, session: Session) -> HTMLResponse:
    return render(request, "forbidden.html", session, status=403)


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another host (an open redirect)."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@router.get("/login")
async def login_page(request: Request, next: str | None = None):
    session = await _session(request)
    if session is not None:
        return RedirectResponse(_safe_next(next) or HOME[session.principal.role], 303)
    return _login_form(request, next, None, 200)


def _login_form(request: Request, next: str | None, error: str | None, status: int):
    token = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", None, status, login_csrf=token, next=_safe_next(next), error=error
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600, path="/login"
    )
    return response


@router.post("/login")
async def login(
    request: Request,
    key: str = Form(""),
    csrf: str = Form(""),
    next: str | None = Form(None),
):
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected or not secrets.compare_digest(expected, csrf):
        return _login_form(request, next, "The form expired; please sign in again.", 400)
    store = request.app.state.store
    signed = await request.app.state.lane(sign_in, store, key) if key.strip() else None
    if signed is None:
        refusal = request.app.state.auth_throttle.failure(client_address(request))
        if refusal is None:
            return _login_form(request, next, "That key is unknown or revoked.", 401)
        wait = refusal.extra["retry_after"]
        message = f"Too many failed sign-ins from your address; try again in {wait} seconds."
        response = _login_form(request, next, message, 429)
        response.headers["Retry-After"] = str(wait)
        return response
    token, session = signed
    response = RedirectResponse(_safe_next(next) or HOME[session.principal.role], 303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, csrf: str = Form("")):
    """End the session and drop its cookie. Without the page's CSRF token the request is
    refused and both are kept: a cookie dropped while its session lives on would look
    like a sign-out that did not happen."""
    session = await _session(request)
    if session is not None:
        if not csrf_matches(session, csrf):
            return render(request, "signout.html", session, status=403)
        token = request.cookies[SESSION_COOKIE]
        await request.app.state.lane(end_session, request.app.state.store, token)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
async def home(request: Request):
    session = await _session(request)
    if session is None:
        return RedirectResponse("/login", 303)
    return RedirectResponse(HOME[session.principal.role], 303)


@router.post("/web/markdown")
async def markdown(request: Request):
    """Render instructions a page already has (its own assignment's) as safe HTML."""
    session = await visitor(request, (*WORKER_ROLES, *MANAGER_ROLES))
    if not csrf_matches(session, request.headers.get(CSRF_HEADER)):
        raise AssayError(f"send the session's {CSRF_HEADER} header", "csrf", 403)
    try:
        body = await request.json()
    except ValueError:
        body = None
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str):
        raise Invalid([FieldError("text", 'send {"text": "..."} with the Markdown to render')])
    return {"html": render_instructions(text)}


@router.get("/work")
async def work_page(request: Request):
    return render(request, "work.html", await visitor(request, WORKER_ROLES))


@router.get("/review")
async def review_page(request: Request):
    return render(request, "review.html", await visitor(request, REVIEWER_ROLES))


@router.get("/me")
async def me_page(request: Request):
    return render(request, "me.html", await visitor(request, WORKER_ROLES))


@router.get("/projects")
async def projects_page(request: Request):
    return render(request, "projects.html", await visitor(request, MANAGER_ROLES))


@router.get("/projects/{project_id}")
async def dashboard_page(request: Request, project_id: str):
    session = await visitor(request, MANAGER_ROLES)
    return render(request, "dashboard.html", session, project_id=project_id)


@router.get("/projects/{project_id}/settings")
async def settings_page(request: Request, project_id: str):
    session = await visitor(request, MANAGER_ROLES)
    return render(request, "settings.html", session, project_id=project_id)


@router.get("/projects/{project_id}/import")
async def import_page(request: Request, project_id: str):
    session = await visitor(request, MANAGER_ROLES)
    return render(request, "import.html", session, project_id=project_id)


@router.get("/workers")
async def workers_page(request: Request):
    return render(request, "workers.html", await visitor(request, MANAGER_ROLES))


@router.get("/keys")
async def keys_page(request: Request):
    return render(request, "keys.html", await visitor(request, ("admin",)))
