"""A real HTTP receiver for webhooks on a free loopback port (uvicorn serving a small ASGI app,
in the test's event loop). It verifies every request with the `standardwebhooks` library, as a
receiver would, and behaves as told: accept, fail with 500, answer slowly, or redirect."""

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.support.servers import free_port

Message = MutableMapping[str, Any]


@dataclass
class Received:
    path: str
    webhook_id: str
    event: str
    host: str
    body: bytes
    payload: dict[str, Any]
    answered: int  # the status the receiver answered
    late: bool = False  # after the sender had given up


@dataclass
class Receiver:
    """`mode`: "accept", "fail" (500), "slow" (processes it, answers after `slow_seconds`:
    the sender has given up by then) or "redirect" (307 to `redirect_to`). `secrets`: the
    subscription secret of each path."""

    secrets: dict[str, str] = field(default_factory=dict)
    mode: str = "accept"
    slow_seconds: float = 1.0
    redirect_to: str = ""
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    refused_signatures: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def processed(self) -> list[Received]:
        """What the receiver acted on (accepted, in time or too late)."""
        return [item for item in self.received if item.answered == 200]

    async def __call__(
        self,
        scope: Message,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {key.decode(): value.decode() for key, value in scope["headers"]}
        try:
            payload = Webhook(self.secrets[scope["path"]]).verify(body, headers)
        except (KeyError, WebhookVerificationError):
            self.refused_signatures += 1
            await _answer(send, 400)
            return
        status = {"accept": 200, "fail": 500, "slow": 200, "redirect": 307}[self.mode]
        item = Received(
            scope["path"],
            headers["webhook-id"],
            headers["x-iid-event"],
            headers["host"],
            body,
            payload,
            status,
        )
        self.received.append(item)
        if self.mode == "slow":
            item.late = True
            await asyncio.sleep(self.slow_seconds)
        location = [(b"location", self.redirect_to.encode())] if self.mode == "redirect" else []
        await _answer(send, status, location)


async def _answer(
    send: Callable[[Message], Awaitable[None]], status: int, headers: list[Any] | None = None
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers or []})
    await send({"type": "http.response.body", "body": json.dumps({"status": status}).encode()})


@contextlib.asynccontextmanager
async def serving(receiver: Receiver) -> AsyncIterator[Receiver]:
    # listening before uvicorn runs: early requests wait in the socket's backlog
    listening = socket.create_server(("127.0.0.1", receiver.port))
    config = uvicorn.Config(receiver, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task
        listening.close()
