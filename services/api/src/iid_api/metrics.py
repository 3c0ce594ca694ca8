"""The API's Prometheus metrics: requests by route template, method and status, their
latency, requests in flight, and the database pools' use.

`iid-api` serves them on a port of its own (`IID_METRICS_PORT`), added up over its processes
with prometheus-client's multiprocess mode: every process writes its values to files in one
folder (`IID_METRICS_DIR`) and the serving process reads them all. Gauges add up over the live
processes only; the files of a process that died are forgotten when it is found gone.
"""

import os
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# a request no route matched: one label value, not one per path a scanner tries
UNMATCHED = "unmatched"

REQUESTS = Counter(
    "iid_http_requests",
    "HTTP requests answered, by route template, method and status code",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "iid_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route template and method",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
IN_FLIGHT = Gauge(
    "iid_http_requests_in_flight", "Requests being answered now", multiprocess_mode="livesum"
)
# database: "primary" (IID_DATABASE_URL), "replica" (IID_DATABASE_READ_URL, when set)
POOL_IN_USE = Gauge(
    "iid_db_pool_connections_in_use",
    "Database connections checked out of the processes' pools now",
    ["database"],
    multiprocess_mode="livesum",
)
POOL_LIMIT = Gauge(
    "iid_db_pool_connections_limit",
    "Database connections the processes' pools may open",
    ["database"],
    multiprocess_mode="livesum",
)


class MetricsMiddleware:
    """Counts and times every HTTP request under its route template (`/v1/regions/{code}`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the server answers when the application raises

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            IN_FLIGHT.dec()
            # the router left the matched route in the scope
            route = getattr(scope.get("route"), "path", UNMATCHED)
            REQUESTS.labels(route, scope["method"], str(status)).inc()
            REQUEST_SECONDS.labels(route, scope["method"]).observe(time.perf_counter() - started)


def instrument_pool(engine: AsyncEngine, limit: int, database: str) -> Callable[[], None]:
    """Follow the engine's pool in the pool gauges; returns what undoes it (at shutdown)."""
    pool = engine.sync_engine.pool
    in_use, ceiling = POOL_IN_USE.labels(database), POOL_LIMIT.labels(database)

    def checked_out(*_: object) -> None:
        in_use.inc()

    def checked_in(*_: object) -> None:
        in_use.dec()

    event.listen(pool, "checkout", checked_out)
    event.listen(pool, "checkin", checked_in)
    ceiling.inc(limit)

    def undo() -> None:
        event.remove(pool, "checkout", checked_out)
        event.remove(pool, "checkin", checked_in)
        ceiling.dec(limit)

    return undo


_LIVE_GAUGE_FILE = re.compile(r"gauge_live\w*?_(\d+)\.db")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


class LiveProcessesCollector(Collector):
    """prometheus-client's multiprocess collector, after forgetting the gauges of processes
    that are gone (one killed without a clean shutdown leaves its in-flight and pool values).
    prometheus_client.multiprocess has no type hints, hence the ignores."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._files = MultiProcessCollector(None, str(folder))  # type: ignore[no-untyped-call]

    def collect(self) -> Iterable[Metric]:
        for file in self._folder.glob("gauge_live*.db"):
            match = _LIVE_GAUGE_FILE.fullmatch(file.name)
            if match and not _pid_alive(int(match.group(1))):
                mark_process_dead(int(match.group(1)), str(self._folder))  # type: ignore[no-untyped-call]
        metrics: Iterable[Metric] = self._files.collect()  # type: ignore[no-untyped-call]
        return metrics


def serve_multiprocess_metrics(host: str, port: int, folder: Path) -> None:
    """Serve at http://host:port/metrics what every process writing to `folder` recorded
    (a thread of the calling process)."""
    registry = CollectorRegistry()
    registry.register(LiveProcessesCollector(folder))
    start_http_server(port, addr=host, registry=registry)
