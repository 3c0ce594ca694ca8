"""Connections only to safe targets: resolve once, check every address, connect to the checked
one (the TLS handshake still names the host: SNI and the certificate are the URL's), and check
the address actually connected to. A name whose DNS answer changes after the check cannot
lead elsewhere, since the connection goes to the address checked, and every new connection is
checked again. Redirects are never followed (iid_worker.webhooks.delivery)."""

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpcore
from httpcore import AnyIOBackend, AsyncNetworkBackend, AsyncNetworkStream

from iid_store.webhooks import refused_address

Resolve = Callable[[str, int], Awaitable[list[str]]]


class RefusedTarget(httpcore.ConnectError):
    """The target resolves to an address deliveries may not go to."""


async def resolve(host: str, port: int) -> list[str]:
    """The host's addresses, in the resolver's order, once each."""
    loop = asyncio.get_running_loop()
    found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(address[4][0]) for address in found))


class SafeTargets(AsyncNetworkBackend):
    """httpcore's network backend, refusing unsafe addresses (loopback only if allowed)."""

    def __init__(
        self,
        *,
        allow_loopback: bool,
        resolver: Resolve = resolve,
        inner: AsyncNetworkBackend | None = None,
    ) -> None:
        self.allow_loopback = allow_loopback
        self.resolver = resolver
        self.inner = inner or AnyIOBackend()

    def _check(self, host: str, address: str) -> None:
        reason = refused_address(address, allow_loopback=self.allow_loopback)
        if reason is not None:
            raise RefusedTarget(f"refused target {host}: {address} is {reason.replace('_', '-')}")

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> AsyncNetworkStream:
        try:
            addresses = await asyncio.wait_for(self.resolver(host, port), timeout)
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        for address in addresses:  # every one: a name half public, half private is refused
            self._check(host, address)
        stream = await self.inner.connect_tcp(
            addresses[0], port, timeout, local_address, socket_options
        )
        peer = stream.get_extra_info("server_addr")
        try:
            self._check(host, str(peer[0]) if peer else "0.0.0.0")
        except RefusedTarget:
            await stream.aclose()
            raise
        return stream

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> AsyncNetworkStream:
        raise RefusedTarget("unix sockets are not webhook targets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
