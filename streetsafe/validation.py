"""Typed values shared by request models."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator

from .i18n import gettext, ngettext

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    """Only YYYY-MM-DD text: pydantic alone would read `0.0` or `1700000000` as a date."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError(gettext("must be a date written YYYY-MM-DD"))
    return value


# A calendar date, written YYYY-MM-DD.
IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def _same(message: str, **variables: object) -> str:
    return message % variables if variables else message


def _same_n(singular: str, plural: str, num: int, **variables: object) -> str:
    return (singular if num == 1 else plural) % {"num": num, **variables}


def _simple_text(kind: str, _: Callable[..., str]) -> str | None:
    """Our wording of pydantic's messages that have no variables."""
    texts = {
        "missing": _("Field required"),
        "float_type": _("Input should be a valid number"),
        "int_type": _("Input should be a valid integer"),
        "string_type": _("Input should be a valid string"),
        "bool_type": _("Input should be a valid boolean"),
        "list_type": _("Input should be a valid list"),
        "dict_type": _("Input should be a valid dictionary"),
        "tuple_type": _("Input should be a valid tuple"),
        "finite_number": _("Input should be a finite number"),
        "timezone_aware": _("Input should have timezone info"),
        "datetime_type": _("Input should be a valid datetime"),
        "date_type": _("Input should be a valid date"),
        "int_parsing": _("Input should be a valid integer, unable to parse string as an integer"),
        "float_parsing": _("Input should be a valid number, unable to parse string as a number"),
        "int_from_float": _("Input should be a valid integer, got a number with a fractional part"),
        "model_attributes_type": _(
            "Input should be a valid dictionary or object to extract fields from"
        ),
        "bool_parsing": _("Input should be a valid boolean, unable to interpret input"),
    }
    return texts.get(kind)


def _number(value: Any) -> Any:
    """A bound as pydantic writes it: 90.0 as 90."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _bounded_text(
    kind: str, ctx: dict[str, Any], _: Callable[..., str], n_: Callable[..., str]
) -> str | None:
    """Our wording of pydantic's messages about a bound, a length or an expected value."""
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        ctx = {name: _number(value) for name, value in ctx.items()}
        texts = {
            "greater_than_equal": _("Input should be greater than or equal to %(bound)s",
                                    bound=ctx.get("ge")),
            "less_than_equal": _("Input should be less than or equal to %(bound)s",
                                 bound=ctx.get("le")),
            "greater_than": _("Input should be greater than %(bound)s", bound=ctx.get("gt")),
            "less_than": _("Input should be less than %(bound)s", bound=ctx.get("lt")),
        }
        return texts[kind]
    if kind == "string_too_short":
        return n_("String should have at least %(num)d character",
                  "String should have at least %(num)d characters", ctx["min_length"])
    if kind == "string_too_long":
        return n_("String should have at most %(num)d character",
                  "String should have at most %(num)d characters", ctx["max_length"])
    if kind == "too_short" and ctx.get("field_type") == "List":
        return n_("List should have at least %(num)d item after validation, not %(actual)d",
                  "List should have at least %(num)d items after validation, not %(actual)d",
                  ctx["min_length"], actual=ctx["actual_length"])
    if kind == "too_long" and ctx.get("field_type") == "List":
        return n_("List should have at most %(num)d item after validation, not %(actual)d",
                  "List should have at most %(num)d items after validation, not %(actual)d",
                  ctx["max_length"], actual=ctx["actual_length"])
    if kind in ("literal_error", "enum"):
        return _("Input should be %(expected)s", expected=ctx["expected"])
    if kind in ("datetime_parsing", "datetime_from_date_parsing"):
        return _("Input should be a valid datetime, %(detail)s", detail=ctx["error"])
    if kind == "date_parsing":
        return _("Input should be a valid date in the format YYYY-MM-DD, %(detail)s",
                 detail=ctx["error"])
    return None


def _pydantic_text(
    error: dict[str, Any], _: Callable[..., str], n_: Callable[..., str]
) -> str | None:
    """Our wording of pydantic's messages by error type (None for a type not listed)."""
    return _simple_text(error["type"], _) or _bounded_text(
        error["type"], error.get("ctx") or {}, _, n_
    )


def error_message(error: dict[str, Any]) -> str:
    """A pydantic error's message in the reader's language, its English exactly pydantic's.

    Our own validators raise already-translated text (they run inside the request); pydantic's
    built-in messages are looked up by type. A type we do not list, or pydantic rewording
    one, leaves its English message as it is.
    """
    message = str(error["msg"])
    if error["type"] == "value_error":
        return message.removeprefix("Value error, ")
    try:
        english = _pydantic_text(error, _same, _same_n)
    except (KeyError, TypeError, ValueError):
        return message
    if english != message:
        return message
    return _pydantic_text(error, gettext, ngettext) or message
