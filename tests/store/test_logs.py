"""The shared log formats: a JSON object per line with the fields operators search by, or a
readable line; both carry the request id bound where the line was written."""

import json
import logging
import sys

from iid_store.logs import JsonFormatter, TextFormatter, bound_request_id, current_request_id


def _record(message: str, *args: object, exc_info: bool = False) -> logging.LogRecord:
    return logging.getLogger("iid_api.test").makeRecord(
        "iid_api.test",
        logging.WARNING,
        __file__,
        1,
        message,
        args,
        sys.exc_info() if exc_info else None,
    )


def test_json_lines_carry_the_bound_request_id() -> None:
    with bound_request_id("req-1"):
        assert current_request_id() == "req-1"
        line = JsonFormatter().format(_record("saved %s answers", 3))
    assert current_request_id() is None
    entry = json.loads(line)
    assert entry["timestamp"].endswith("+00:00") and "T" in entry["timestamp"]
    assert {key: entry[key] for key in ("level", "logger", "message", "request_id")} == {
        "level": "warning",
        "logger": "iid_api.test",
        "message": "saved 3 answers",
        "request_id": "req-1",
    }
    assert json.loads(JsonFormatter().format(_record("outside")))["request_id"] is None


def test_a_traceback_stays_inside_its_json_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        line = JsonFormatter().format(_record("failed", exc_info=True))
    assert "\n" not in line
    assert "RuntimeError: boom" in json.loads(line)["exception"]


def test_text_lines_show_the_request_id_or_a_dash() -> None:
    with bound_request_id("req-2"):
        assert "iid_api.test [req-2] hello" in TextFormatter().format(_record("hello"))
    assert "iid_api.test [-] hello" in TextFormatter().format(_record("hello"))
