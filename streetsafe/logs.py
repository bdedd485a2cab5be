"""Structured (JSON) logs. No client address, user agent, cookie or receipt code is ever logged."""

from __future__ import annotations

import logging
import re
import sys

from pythonjsonlogger.json import JsonFormatter

_configured = False

# An IPv4 address, or an IPv6 one (eight groups, or groups around a "::").
_H = "[0-9a-fA-F]{1,4}"
_IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
_IPV6 = re.compile(
    rf"(?<![\w:])(?:(?:{_H}:){{7}}{_H}|(?:{_H}(?::{_H})*)?::(?:{_H}(?::{_H})*)?)"
    rf"(?:%\w+)?(?![\w:])"
)
WITHHELD = "[address withheld]"
# A receipt code in a path (/receipt/CODE) or a query (?code=CODE): whoever holds it can read
# the receipt, so a log line keeps the path without it.
_RECEIPT = re.compile(r"(/receipt/)[^\s\"'?#]+|([?&]code=)[^\s\"'&#]+")
CODE_WITHHELD = "[code withheld]"


def _without_codes(message: str) -> str:
    return _RECEIPT.sub(lambda m: (m.group(1) or m.group(2)) + CODE_WITHHELD, message)


class NoClientAddresses(logging.Filter):
    """Rewrites any IP address (gunicorn's "Invalid request from ip=..." lines and anything
    else) and any receipt code in a record before a handler formats it. Neither is ever worth
    a log line here."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = _without_codes(_IPV6.sub(WITHHELD, _IPV4.sub(WITHHELD, message)))
        if scrubbed != message:
            record.msg, record.args = scrubbed, ()
        return True


def configure(level: int = logging.INFO) -> None:
    """Send every log record to stderr as one JSON object; silence per-request access logs."""
    global _configured
    if _configured:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(NoClientAddresses())
    handler.setFormatter(
        JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", timestamp=False)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Werkzeug's and gunicorn's access logs carry the client address: never on.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # /readyz asks Alembic for the schema revision; its INFO lines would fill the log.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("gunicorn.access").disabled = True
    _configured = True
