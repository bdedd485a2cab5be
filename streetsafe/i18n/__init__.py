"""English and Welsh from one gettext catalogue (Flask-Babel).

Pages choose their language by path (`/cy/...` is Welsh, everything else English); the API
chooses by `Accept-Language` (the best of en and cy) and says which it chose in
`Content-Language`. No cookie and no session ever carries the language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from babel.dates import format_date
from flask import Flask, Response, has_request_context, request
from flask_babel import Babel, get_locale, gettext, lazy_gettext, lazy_ngettext, ngettext
from flask_babel.speaklater import LazyString

from . import scripts

# A message as an error carries it: plain text, or lazy_gettext's, put into words when shown.
Message = str | LazyString

LANGUAGES: tuple[str, ...] = ("en", "cy")
DEFAULT_LANGUAGE = "en"
WELSH_PREFIX = "/cy"
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
# Pages that speak English at their own path and Welsh under WELSH_PREFIX, whatever the
# browser's Accept-Language says: the reader chose by the link, and a shared link stays put.
_PAGE_PREFIXES = ("/team", "/receipt")

__all__ = [
    "LANGUAGES",
    "Message",
    "N_",
    "gettext",
    "init_app",
    "language",
    "lazy_gettext",
    "lazy_ngettext",
    "ngettext",
    "select_language",
]


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here (it is translated where shown)."""
    return message


def path_language(path: str) -> str | None:
    """The language a page's path fixes: cy under /cy, en for the other pages, None for the API."""
    if path == WELSH_PREFIX or path.startswith(WELSH_PREFIX + "/"):
        return "cy"
    if path == "/" or path.startswith(_PAGE_PREFIXES):
        return DEFAULT_LANGUAGE
    return None


def select_language() -> str:
    """The request's language: by path for pages, by Accept-Language for everything else."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    chosen = path_language(request.path)
    if chosen is not None:
        return chosen
    return best_language(request.accept_languages)


def best_language(accepted: Iterable[tuple[str, float]]) -> str:
    """The first of en and cy in the reader's order of preference (en-GB counts as en).

    Werkzeug's best_match prefers an exact match anywhere in the list to a regional one
    first, so `en-GB, cy;q=0.5` would be Welsh.
    """
    for value, quality in accepted:  # Werkzeug keeps them by quality, best first
        primary = value.split("-", 1)[0].lower()
        if quality > 0 and primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


def language() -> str:
    """The language in force (en outside a request: the CLI and logs speak English)."""
    locale = get_locale()
    return str(locale) if locale is not None else DEFAULT_LANGUAGE


@dataclass(frozen=True)
class LanguageLink:
    """The link to the same page in the other language (its name is the language's own)."""

    code: str
    name: str
    url: str


def switch_link(path: str) -> LanguageLink:
    """The same page in the other language: /cy/x <-> /x."""
    if path_language(path) == "cy":
        return LanguageLink("en", "English", path[len(WELSH_PREFIX) :] or "/")
    return LanguageLink("cy", "Cymraeg", WELSH_PREFIX + path)


def page_url(path: str) -> str:
    """A page's path in the language in force: /receipt, or /cy/receipt in Welsh."""
    return WELSH_PREFIX + path if language() == "cy" else path


def local_date(value: date, pattern: str) -> str:
    """A date (or a local datetime, not shifted) in the language in force, CLDR pattern."""
    return format_date(value, pattern, locale=language())


def _template_context() -> dict[str, object]:
    welsh = language() == "cy"
    return {"html_lang": "cy" if welsh else "en-GB", "other_language": switch_link(request.path),
            "page_url": page_url}


def _content_language(response: Response) -> Response:
    """Content-Language on what has words in it (pages, JSON); Vary where the API chose it.

    Tiles, GeoJSON layers and downloads carry no translated text: they stay one cache entry
    whatever a client's Accept-Language says."""
    if response.mimetype not in ("text/html", "application/json"):
        return response
    response.headers.setdefault("Content-Language", language())
    if path_language(request.path) is None:
        # The same URL answers in either language: caches must keep them apart.
        response.vary.add("Accept-Language")
    return response


def init_app(app: Flask) -> None:
    """Flask-Babel with our catalogue and locale selector; Content-Language on every response."""
    Babel(
        app,
        locale_selector=select_language,
        default_locale=DEFAULT_LANGUAGE,
        default_translation_directories=str(TRANSLATIONS_DIR),
    )
    app.after_request(_content_language)
    app.context_processor(_template_context)
    app.jinja_env.filters["local_date"] = local_date
    scripts.init_app(app)
