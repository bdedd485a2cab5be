"""How a request proves it comes from a team: a Bearer token, or the signed session cookie.

Cookie sessions exist only under /team and /api/v1/team: public pages never set a cookie.
Unsafe methods on a cookie session need the CSRF token (Flask-WTF); Bearer calls do not,
since a browser never adds that header by itself.
"""

from __future__ import annotations

from flask import Flask, Request, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

from ..db import db_session
from ..errors import Unauthorized
from .service import TeamScope, authenticate, scope_of

csrf = CSRFProtect()
SESSION_KEY = "team_id"


class TeamSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, Secure whenever the request came over HTTPS, never on public pages."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)

    def should_set_cookie(self, app: Flask, session_obj: object) -> bool:
        return _is_team_path(request) and super().should_set_cookie(app, session_obj)


def _is_team_path(req: Request) -> bool:
    return req.path.startswith(("/team", "/api/v1/team"))


def init_app(app: Flask) -> None:
    """Session cookie settings and CSRF protection (checked only where team_scope asks)."""
    app.session_interface = TeamSessionInterface()
    app.config.update(
        SESSION_COOKIE_NAME="streetsafe_team",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PATH="/",
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=12 * 3600,
        # Pages send Referrer-Policy: no-referrer, so the HTTPS referrer check cannot apply;
        # SameSite=Strict cookies plus the token carry the protection.
        WTF_CSRF_SSL_STRICT=False,
    )
    csrf.init_app(app)


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer ...` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_scope() -> TeamScope | None:
    """The team making this request, or None (cached for the request)."""
    if "team_scope" in g:
        return g.team_scope
    token = bearer_token()
    scope: TeamScope | None = None
    if token is not None:
        scope = authenticate(db_session(), token)
        if scope is None:
            raise Unauthorized("the token is wrong, unknown or revoked", "Authorization")
    elif SESSION_KEY in session:
        scope = scope_of(db_session(), int(session[SESSION_KEY]))
        if scope is None:
            session.clear()
        elif request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()
    g.team_scope = scope
    return scope


def require_scope() -> TeamScope:
    """The team making this request; 401 when there is none."""
    scope = current_scope()
    if scope is None:
        raise Unauthorized("sign in at /team/login or send Authorization: Bearer TOKEN", None)
    return scope


def sign_in(scope: TeamScope) -> None:
    """Start a cookie session for the team (a fresh session, so no fixation)."""
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = scope.team_id


def sign_out() -> None:
    """End the cookie session."""
    session.clear()
