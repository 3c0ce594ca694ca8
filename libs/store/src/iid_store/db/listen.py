"""A LISTEN connection that survives PostgreSQL restarts.

The worker listens for committed work (`iid_work`), API processes for changes to what they
cache (`iid_cache`). A notification is only a hint to act sooner: whoever listens must also be
correct without it (the worker polls; caches are dropped while the listener is down).
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

import asyncpg
from sqlalchemy import make_url

logger = logging.getLogger("iid_store.listen")

# How often the idle connection is checked: a dead TCP connection is noticed only on use.
CHECK_SECONDS = 5.0
RETRY_SECONDS = 1.0


def asyncpg_dsn(database_url: str) -> str:
    """The SQLAlchemy URL (postgresql+asyncpg://...) as a DSN asyncpg accepts."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    """Calls `on_notify(channel, payload)` for every notification on `channels`, and
    `on_state(connected)` whenever the connection comes up or goes down, so the owner can
    drop what it may have missed. `run` loops until cancelled."""

    def __init__(
        self,
        database_url: str,
        channels: Sequence[str],
        on_notify: Callable[[str, str], None],
        on_state: Callable[[bool], None] = lambda connected: None,
    ) -> None:
        self.dsn = asyncpg_dsn(database_url)
        self.channels = tuple(channels)
        self.on_notify = on_notify
        self.on_state = on_state
        self.connected = False

    def _notified(self, _connection: object, _pid: int, channel: str, payload: str) -> None:
        self.on_notify(channel, payload)

    def _set_state(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            self.on_state(connected)

    async def run(self) -> None:
        while True:
            try:
                await self._listen_until_lost()
            except asyncio.CancelledError:
                self._set_state(False)
                raise
            except Exception as exc:  # the server is down or restarting: try again soon
                logger.info("LISTEN %s lost (%s); reconnecting", ",".join(self.channels), exc)
            self._set_state(False)
            await asyncio.sleep(RETRY_SECONDS)

    async def _listen_until_lost(self) -> None:
        connection = await asyncpg.connect(self.dsn, timeout=5)
        try:
            for channel in self.channels:
                await connection.add_listener(channel, self._notified)
            self._set_state(True)
            while True:
                await asyncio.sleep(CHECK_SECONDS)
                await connection.execute("SELECT 1", timeout=CHECK_SECONDS)
        finally:
            connection.terminate()  # at once: a polite close could wait on a dead socket


async def follow(
    database_url: str,
    channels: Sequence[str],
    poll_seconds: float,
    step: Callable[[], Awaitable[object]],
    gather_seconds: float = 0.0,
    waiting: Callable[[], Awaitable[bool]] | None = None,
    check_seconds: float = 0.2,
) -> None:
    """Run `step` when one of `channels` is notified, when the listening connection comes up or
    goes down (something may have been missed), when `waiting` (asked every `check_seconds`)
    says work is waiting that its writers do not notify, and at least every `poll_seconds`;
    until cancelled. `step` must be correct without any notification: they only make it
    sooner. Steps start at least `gather_seconds` apart: the first wake-up after a quiet spell
    is served at once, a busy stream in batches of what arrived meanwhile."""
    wake = asyncio.Event()
    listener = Listener(
        database_url, channels, lambda _channel, _payload: wake.set(), lambda _up: wake.set()
    )
    listening = asyncio.create_task(listener.run(), name=f"listen-{'-'.join(channels)}")
    try:
        while True:
            await _woken(wake, poll_seconds, waiting, check_seconds)
            wake.clear()
            started = asyncio.get_running_loop().time()
            await step()
            await _pause_until(started + gather_seconds)
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening


async def _woken(
    wake: asyncio.Event,
    poll_seconds: float,
    waiting: Callable[[], Awaitable[bool]] | None,
    check_seconds: float,
) -> None:
    """Until a notification, work `waiting`, or `poll_seconds` from now. Work is looked for
    at once: after a busy step's gathering pause there usually is some."""
    loop = asyncio.get_running_loop()
    poll_at = loop.time() + poll_seconds
    while not wake.is_set():
        if waiting is not None and await _asked(waiting):
            return
        left = poll_at - loop.time()
        if left <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), min(left, check_seconds) if waiting else left)


async def _asked(waiting: Callable[[], Awaitable[bool]]) -> bool:
    try:
        return await waiting()
    except Exception as exc:  # the database is down: the listener's reconnection wakes us
        logger.debug("checking for waiting work failed: %s", exc)
        return False


async def _pause_until(moment: float) -> None:
    # one step's fixed costs (claiming, re-ranking whole clusters, numbering the change log)
    # are then shared by every change that arrived during the pause, not paid per change
    delay = moment - asyncio.get_running_loop().time()
    if delay > 0:
        await asyncio.sleep(delay)
