"""The JavaScript's messages, from the same catalogue, embedded in the page that loads it.

The scripts call `t("English text", {name: value})` and `tn(singular, plural, n, {...})`;
the page carries a JSON block (not code, so the CSP allows it) with each message in the
page's language, and each plural message's form for every CLDR plural category of the
language (Welsh has six: zero, one, two, few, many, other). The browser picks the category
with Intl.PluralRules, which follows the same CLDR rule as Babel.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale
from babel.messages.extract import extract
from flask import Flask, current_app
from flask_babel import get_locale, get_translations

_PACKAGE = Path(__file__).resolve().parent.parent
# Which scripts each page loads (their messages are embedded in that page).
BUNDLES: dict[str, tuple[Path, ...]] = {
    "web": (_PACKAGE / "web" / "static" / "js",),
    "team": (_PACKAGE / "team" / "static",),
}
JS_KEYWORDS: dict[str, object] = {"t": None, "tn": (1, 2)}
# t() inside a template literal's ${...} is a message too.
JS_OPTIONS = {"parse_template_string": True}


@dataclass(frozen=True)
class ScriptMessages:
    """The msgids of one bundle's scripts: plain messages and (singular, plural) pairs."""

    singular: tuple[str, ...]
    plural: tuple[tuple[str, str], ...]


def scan_bundle(folders: tuple[Path, ...]) -> ScriptMessages:
    """Every t()/tn() message in the bundle's .js files (vendor folders are not ours)."""
    singular: dict[str, None] = {}
    plural: dict[tuple[str, str], None] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.js")):
            with path.open("rb") as fileobj:
                for _line, message, _comments, _context in extract(
                    "javascript", fileobj, keywords=JS_KEYWORDS, options=JS_OPTIONS
                ):
                    if isinstance(message, tuple):
                        plural[(message[0], message[1])] = None
                    else:
                        singular[message] = None
    return ScriptMessages(tuple(singular), tuple(plural))


@cache
def plural_samples(language_code: str) -> dict[str, int]:
    """One number of each CLDR plural category of the language (Babel's rule)."""
    rule = Locale.parse(language_code).plural_form
    samples: dict[str, int] = {}
    for n in range(0, 1000):
        samples.setdefault(rule(n), n)
    return samples


def page_messages(bundle: str) -> dict[str, object]:
    """The JSON a page embeds for its scripts: its language, messages and plural forms."""
    lang = str(get_locale())
    cached = current_app.extensions["streetsafe.i18n.payloads"]
    if (bundle, lang) not in cached:
        scripts = current_app.extensions["streetsafe.i18n.scripts"][bundle]
        translations = get_translations()
        samples = plural_samples(lang)
        cached[(bundle, lang)] = {
            "lang": lang,
            "messages": {msgid: translations.gettext(msgid) for msgid in scripts.singular},
            "plurals": {
                one: {tag: translations.ngettext(one, many, n) for tag, n in samples.items()}
                for one, many in scripts.plural
            },
        }
    return cached[(bundle, lang)]


def init_app(app: Flask) -> None:
    """Scan the scripts once, when the app is built, and offer page_messages to templates."""
    app.extensions["streetsafe.i18n.scripts"] = {
        name: scan_bundle(folders) for name, folders in BUNDLES.items()
    }
    app.extensions["streetsafe.i18n.payloads"] = {}
    app.jinja_env.globals["page_messages"] = page_messages
