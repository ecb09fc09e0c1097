"""Browser sessions: signing in with an API key gives a cookie, not the key.

The cookie holds a random token; the database keeps only its SHA-256, the key it stands
for and a CSRF token that the session's pages send back with every change (the cookie is
SameSite=Strict as well). A revoked key ends its sessions at once, since every lookup
joins the key; signing out deletes the session.
"""

import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, insert

from assay.engine.keys import Principal, authenticate, digest, principal_of
from assay.ids import utc_now
from assay.store.db import Store
from assay.store.sql import Sql, one
from assay.store.tables import web_sessions

SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf: str


def sign_in(store: Store, key: str) -> tuple[str, Session] | None:
    """(cookie token, session) for a valid API key; None for an unknown or revoked one."""
    principal = authenticate(store, key.strip())
    if principal is None:
        return None
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with store.write() as conn:
        conn.execute(
            insert(web_sessions).values(
                token_hash=digest(token),
                key_id=principal.key_id,
                csrf=csrf,
                created_at=utc_now(),
                expires_at=utc_now(SESSION_SECONDS),
            )
        )
    return token, Session(principal, csrf)


_BY_TOKEN = Sql(
    "SELECT k.id, k.role, k.name, w.active, w.skills, s.csrf FROM web_sessions s"
    " JOIN api_keys k ON k.id = s.key_id LEFT JOIN workers w ON w.id = k.id"
    " WHERE s.token_hash = :digest AND s.expires_at > :now AND k.revoked_at IS NULL"
)


def session_of(store: Store, token: str) -> Session | None:
    """The live session a cookie token stands for, or None."""
    with store.read() as conn:
        row = one(conn, _BY_TOKEN, {"digest": digest(token), "now": utc_now()})
    if row is None:
        return None
    return Session(principal_of(row), row.csrf)


def csrf_matches(session: Session, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(session.csrf, sent)


def sign_out(store: Store, token: str) -> None:
    with store.write() as conn:
        conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == digest(token)))
