"""Logging for the long-running commands (``serve``, ``worker``, ``run-batch``).

Every app-layer module logs through ``logging.getLogger(__name__)``; this module only
configures the root handler once per process: plain text for a terminal, or one JSON
object per line (python-json-logger) for systemd's journal, Kubernetes and log shippers.
Structured fields travel in ``extra=`` and become JSON keys. At INFO nothing carries a
token or a lead's own data (ids, counts, engine, timings only).
"""

from __future__ import annotations

import logging
import sys
from enum import StrEnum
from typing import Final

from solver.errors import InputError

TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS: Final = ("asctime", "levelname", "name", "message")
LEVELS: Final = ("debug", "info", "warning", "error")


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def _formatter(fmt: LogFormat) -> logging.Formatter:
    if fmt is LogFormat.TEXT:
        return logging.Formatter(TEXT_FORMAT)
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level",
                                                     "name": "logger"},
                         json_default=str)


def configure_logging(fmt: str = "text", level: str = "info") -> None:
    """Root handler on stderr with the chosen format; replaces an earlier configuration."""
    try:
        chosen = LogFormat(fmt.lower())
    except ValueError:
        raise InputError(f"--log-format: expected json or text, got {fmt!r}",
                         source="command line") from None
    if level.lower() not in LEVELS:
        raise InputError(f"--log-level: expected one of {', '.join(LEVELS)}, got {level!r}",
                         source="command line")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_formatter(chosen))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # third-party chatter (SQL, HTTP clients, request lines with lead ids) only when debugging
    quiet = logging.DEBUG if level.lower() == "debug" else logging.WARNING
    for name in ("httpx", "httpcore", "uvicorn.access", "sqlalchemy", "alembic"):
        logging.getLogger(name).setLevel(quiet)
