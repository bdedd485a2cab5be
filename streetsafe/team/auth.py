"""How a request proves it comes from a team: a Bearer token, or a session cookie.

The cookie is Flask's signed cookie holding only a random session id, which must name a
live row of team_sessions (team/sessions.py): sign-out, revocation, the idle timeout and
the absolute timeout end a session on the server, so a replayed cookie is refused. The
cookie is scoped to /team and /api/v1/team and never travels with public requests. Unsafe
methods on a cookie session need the CSRF token (Flask-WTF); Bearer calls do not, since a
browser never adds that header by itself. Failed sign-ins are throttled (team/throttle.py),
refusals are audited, and every team response carries Cache-Control: no-store.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import redis
from flask import Flask, Request, Response, g, request, session
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import SQLAlchemyError

from ..config import Settings
from ..current import current_settings
from ..db import db_session
from ..errors import Forbidden, Unauthorized
from ..i18n import lazy_gettext as _l
from ..limits import WindowKey
from . import audit, sessions
from .service import TeamScope, authenticate, scope_of
from .throttle import SignInThrottle

log = logging.getLogger(__name__)
csrf = CSRFProtect()
SESSION_KEY = "sid"
COOKIE_PATHS = ("/team", "/cy/team", "/api/v1/team")  # /cy/team: the pages in Welsh
REFUSED = (401, 403, 404)


def _is_team_path(req: Request) -> bool:
    return req.path in ("/team", "/cy/team") or req.path.startswith(
        tuple(p + "/" for p in COOKIE_PATHS)
    )


class TeamSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, written for each team path only, Secure under HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)

    def save_session(self, app: Flask, session_obj: SessionMixin, response: Response) -> None:
        if not _is_team_path(request):
            return
        if session_obj.accessed:
            response.vary.add("Cookie")
        name = self.get_cookie_name(app)
        options: dict[str, Any] = {
            "domain": self.get_cookie_domain(app),
            "secure": self.get_cookie_secure(app),
            "samesite": self.get_cookie_samesite(app),
            "httponly": self.get_cookie_httponly(app),
        }
        if not session_obj:
            if session_obj.modified:
                for path in (*COOKIE_PATHS, "/"):  # "/": the cookie of earlier releases
                    response.delete_cookie(name, path=path, **options)
            return
        if not self.should_set_cookie(app, session_obj):
            return
        value = self.get_signing_serializer(app).dumps(dict(session_obj))
        expires = self.get_expiration_time(app, session_obj)
        for path in COOKIE_PATHS:
            response.set_cookie(name, value, expires=expires, path=path, **options)


def init_app(app: Flask) -> None:
    """Session cookie settings, CSRF, the sign-in throttle and the team response hooks."""
    settings: Settings = app.extensions["streetsafe.settings"]
    app.session_interface = TeamSessionInterface()
    lifetime_s = settings.team_session_max_hours * 3600
    app.config.update(
        SESSION_COOKIE_NAME="streetsafe_team",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=lifetime_s,
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=lifetime_s,
        # Pages send Referrer-Policy: no-referrer, so the HTTPS referrer check cannot apply;
        # SameSite=Strict cookies plus the token carry the protection.
        WTF_CSRF_SSL_STRICT=False,
    )
    csrf.init_app(app)
    if settings.redis_url:
        client = redis.Redis.from_url(settings.redis_url, socket_timeout=2)
        app.extensions["streetsafe.signin_throttle"] = SignInThrottle(
            client,
            WindowKey(client, 86_400),
            settings.team_signin_window_minutes * 60,
            settings.team_signin_failures_per_network,
            settings.team_signin_failures_global,
        )
    app.after_request(_team_response)


def _timeouts() -> tuple[timedelta, timedelta]:
    settings = current_settings()
    return (
        timedelta(minutes=settings.team_session_idle_minutes),
        timedelta(hours=settings.team_session_max_hours),
    )


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer ...` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def sign_in_with_token(token: str, via: str) -> TeamScope:
    """The team holding `token`; 429 while sign-ins are throttled, 401 (counted) when wrong."""
    from flask import current_app

    throttle: SignInThrottle | None = current_app.extensions.get("streetsafe.signin_throttle")
    if throttle is not None:
        throttle.check(request.remote_addr)
    scope = authenticate(db_session(), token)
    if scope is None:
        if throttle is not None:
            throttle.failed(request.remote_addr)
        g.refusal = ("sign_in_failed", {"via": via})
        raise Unauthorized(_l("the token is wrong, unknown or revoked"), "Authorization")
    return scope


def current_scope() -> TeamScope | None:
    """The team making this request, or None (cached for the request)."""
    if "team_scope" in g:
        return g.team_scope
    token = bearer_token()
    scope: TeamScope | None = None
    if token is not None:
        scope = sign_in_with_token(token, "bearer")
    elif SESSION_KEY in session:
        team_id = sessions.touch_session(db_session(), str(session[SESSION_KEY]), *_timeouts())
        scope = scope_of(db_session(), team_id) if team_id is not None else None
        if scope is None:
            session.clear()
            g.session_ended = True
        elif request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()
    g.team_scope = scope
    return scope


def require_scope(role: str = "team") -> TeamScope:
    """The team making this request; 401 when there is none, 403 when its role may not call.

    `role` is who may call: "team" (a neighbourhood team), "programme" (the programme
    board, aggregates only) or "any".
    """
    scope = current_scope()
    if scope is None:
        if g.get("session_ended"):
            raise Unauthorized(_l("the session has ended; sign in again at /team/login"), None)
        raise Unauthorized(
            _l("sign in at /team/login or send Authorization: Bearer TOKEN"), None
        )
    if role != "any" and scope.role != role:
        if scope.is_programme:
            raise Forbidden(_l("a programme token reads only /api/v1/team/programme"), None)
        raise Forbidden(_l("only the programme board's token reads the programme view"), None)
    return scope


def sign_in(scope: TeamScope) -> None:
    """Start a session for the team, recorded on the server (a fresh one, so no fixation)."""
    if SESSION_KEY in session:
        sessions.end_session(db_session(), str(session[SESSION_KEY]))
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = sessions.start_session(db_session(), scope.team_id, *_timeouts())


def sign_out() -> None:
    """End the session on the server and drop the cookie."""
    if SESSION_KEY in session:
        sessions.end_session(db_session(), str(session[SESSION_KEY]))
    session.clear()


def _team_response(response: Response) -> Response:
    """On team paths: no caching anywhere, and refused attempts go to the audit trail."""
    if not _is_team_path(request):
        return response
    response.headers["Cache-Control"] = "no-store"
    if response.status_code in REFUSED:
        _audit_refusal(response)
    return response


def _audit_refusal(response: Response) -> None:
    scope: TeamScope | None = g.get("team_scope")
    body = response.get_json(silent=True) if response.is_json else None
    action, detail = g.get("refusal") or ("refused", {})
    detail = {
        **detail,
        "status": response.status_code,
        "method": request.method,
        "path": request.path,
        "reason": (body or {}).get("message"),
    }
    try:
        database = db_session()
        database.rollback()
        audit.record(database, scope.team_id if scope else None, action, detail)
        database.commit()
    except SQLAlchemyError as exc:
        log.warning("could not audit a refused team request: %s", type(exc).__name__)
