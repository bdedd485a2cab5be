"""The gettext catalogue: extract the sources into messages.pot, merge it into each .po,
compile the .mo files (committed, so a fresh checkout needs no compile step).

    python -m streetsafe.i18n.catalog extract   # the sources -> translations/messages.pot
    python -m streetsafe.i18n.catalog update    # .pot -> cy/LC_MESSAGES/messages.po
    python -m streetsafe.i18n.catalog compile   # .po -> .mo
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from . import LANGUAGES, TRANSLATIONS_DIR

ROOT = TRANSLATIONS_DIR.parents[1]
MAPPING = ROOT / "babel.cfg"
POT = TRANSLATIONS_DIR / "messages.pot"
# Python: gettext/_ and N_ (Babel's defaults) and the lazy forms errors are raised with.
# JavaScript: t(message, params) and tn(singular, plural, n, params) from i18n.js.
KEYWORDS: dict[str, object] = {
    **DEFAULT_KEYWORDS,
    "lazy_gettext": None,
    "_l": None,
    "lazy_ngettext": (1, 2),
    "n_": (1, 2),
    "t": None,
    "tn": (1, 2),
}
TRANSLATED = tuple(language for language in LANGUAGES if language != "en")


def po_path(language: str) -> Path:
    """Where a language's catalogue lives."""
    return TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po"


def extract(root: Path = ROOT) -> Catalog:
    """Every message the sources mark, as a template catalogue (no translations)."""
    with MAPPING.open() as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, str(MAPPING))
    catalog = Catalog(project="StreetSafe", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        root, method_map, options_map, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    """A .po or .pot file as a Babel catalogue."""
    with path.open("rb") as fileobj:
        return read_po(fileobj, locale=locale)


def _write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fileobj:
        write_po(fileobj, catalog, width=100, sort_output=False, omit_header=False)


def write_template(catalog: Catalog) -> None:
    """Write messages.pot."""
    _write(catalog, POT)


def update(languages: Iterable[str] = TRANSLATED) -> None:
    """Merge messages.pot into each language's .po (new messages empty, gone ones obsolete)."""
    template = read_catalog(POT)
    for language in languages:
        path = po_path(language)
        catalog = read_catalog(path, language) if path.exists() else Catalog(locale=language)
        # A near msgid's translation comes over marked fuzzy: a hint for the translator, and
        # the catalogue test fails until someone has checked it and removed the flag.
        catalog.update(template, update_header_comment=False)
        catalog.obsolete.clear()
        _write(catalog, path)


def compile_mo(languages: Iterable[str] = TRANSLATED) -> None:
    """Compile each language's .po into the .mo Flask-Babel reads."""
    for language in languages:
        catalog = read_catalog(po_path(language), language)
        with po_path(language).with_suffix(".mo").open("wb") as fileobj:
            write_mo(fileobj, catalog, use_fuzzy=False)


def main(argv: list[str]) -> int:
    """The command line: extract, update or compile (or all three with `all`)."""
    steps = {"extract": lambda: write_template(extract()), "update": update,
             "compile": compile_mo}  # fmt: skip
    names = list(steps) if argv == ["all"] else argv
    if not names or any(name not in steps for name in names):
        print(f"usage: python -m streetsafe.i18n.catalog {'|'.join(steps)}|all", file=sys.stderr)
        return 2
    for name in names:
        steps[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
