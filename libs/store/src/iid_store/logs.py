"""One logging configuration for every IID process (the API under uvicorn, the arq worker, the
scripts): readable lines in development, one JSON object per line in production
(`IID_LOG_FORMAT=json`), each carrying the id of the request it belongs to.

The request id lives in a context variable: the API binds it for each request (from the
caller's `X-Request-ID`, or a new one); code that hands work to the worker reads it with
`current_request_id()` and the job binds it again with `bound_request_id()`, so one save can
be followed to its recompute.
"""

import logging
import logging.config
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

LogFormat = Literal["text", "json"]

_request_id: ContextVar[str | None] = ContextVar("iid_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request (or job) the running code serves, if any."""
    return _request_id.get()


def bind_request_id(request_id: str | None) -> Token[str | None]:
    """Log what follows in this task under `request_id`, until `unbind_request_id`."""
    return _request_id.set(request_id)


def unbind_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


@contextmanager
def bound_request_id(request_id: str | None) -> Iterator[None]:
    """Log everything inside the block under `request_id` (a job started by a request)."""
    token = bind_request_id(request_id)
    try:
        yield
    finally:
        unbind_request_id(token)


class JsonFormatter(logging.Formatter):
    """timestamp (ISO 8601 UTC), level, logger, message, request_id; the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": current_request_id(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """`2026-11-30 10:00:00,123 INFO     uvicorn.access [3f2a...] message`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-8s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = current_request_id() or "-"
        return super().format(record)


def logging_config(log_format: LogFormat, level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` document: one handler on the root logger, to which
    uvicorn's, arq's and our own loggers propagate. uvicorn takes it as its `log_config`."""
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    propagate = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": formatter}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": level},
        # uvicorn's own configuration gives these handlers of their own: send them to root
        "loggers": {name: propagate for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }


def configure_logging(log_format: LogFormat, level: str) -> None:
    logging.config.dictConfig(logging_config(log_format, level))
