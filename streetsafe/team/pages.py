"""Team pages: sign-in, sign-out and the dashboard (its data comes from the team API)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from ..current import current_settings
from ..db import db_session
from ..errors import Unauthorized
from ..i18n import gettext, ngettext
from ..vocabulary import CATEGORIES
from ..web.basemap import current_basemap
from . import audit, programme
from .auth import current_scope, sign_in, sign_in_with_token, sign_out
from .insights import local_today
from .throttle import TooManyAttempts

bp = Blueprint(
    "team",
    __name__,
    url_prefix="/team",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@bp.get("/login")
def login_form() -> ResponseReturnValue:
    """The sign-in form."""
    return render_template("team/login.html", error=None)


@bp.post("/login")
def login() -> ResponseReturnValue:
    """Exchange a team token for a session cookie."""
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        expired = gettext("The form expired; please try again.")
        return render_template("team/login.html", error=expired), 400
    try:
        scope = sign_in_with_token(request.form.get("token", ""), "form")
    except TooManyAttempts as exc:
        minutes = -(-int(exc.headers["Retry-After"]) // 60)
        error = ngettext("Too many failed sign-ins. Please try again in %(num)d min.",
                         "Too many failed sign-ins. Please try again in %(num)d min.", minutes)
        return render_template("team/login.html", error=error), 429, exc.headers
    except Unauthorized:
        return render_template("team/login.html", error=gettext("That token is not valid.")), 401
    sign_in(scope)
    audit.record(db_session(), scope.team_id, "sign_in", {"via": "form"})
    db_session().commit()
    return redirect(url_for(".dashboard"), 303)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session (CSRF-checked like every team form)."""
    scope = current_scope()
    if scope is not None:
        audit.record(db_session(), scope.team_id, "sign_out", {})
    sign_out()
    db_session().commit()
    return redirect(url_for(".login_form"), 303)


@bp.get("")
@bp.get("/")
def dashboard() -> ResponseReturnValue:
    """The dashboard; unauthenticated visitors go to the sign-in form."""
    scope = current_scope()
    if scope is None:
        return redirect(url_for(".login_form"), 303)
    if scope.is_programme:
        return redirect(url_for(".programme_page"), 303)
    audit.record(db_session(), scope.team_id, "dashboard", {})
    db_session().commit()
    settings = current_settings()
    return render_template("team/dashboard.html", scope=scope, basemap=current_basemap(settings))


@bp.get("/programme")
def programme_page() -> ResponseReturnValue:
    """The programme board's page: every area's disclosure-controlled aggregates as tables."""
    scope = current_scope()
    if scope is None:
        return redirect(url_for(".login_form"), 303)
    if not scope.is_programme:
        return redirect(url_for(".dashboard"), 303)
    session, settings = db_session(), current_settings()
    view = programme.overview(session, settings, local_today(session))
    audit.record(session, scope.team_id, "programme_page", {})
    session.commit()
    labels = {category.id: gettext(category.label) for category in CATEGORIES}
    return render_template("team/programme.html", scope=scope, view=view, category_labels=labels)
