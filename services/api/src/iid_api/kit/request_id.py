"""`X-Request-ID`: every request gets an id (the caller's, when it sends a usable one), every
log line written while answering it carries the id (iid_store.logs), and the response returns
it, so a caller's report can be found in the logs."""

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from iid_store.logs import bind_request_id, unbind_request_id

HEADER = b"x-request-id"
# what a proxy or client sends as an id (a UUID, a trace id): nothing that could forge a log line
_USABLE = re.compile(rb"[A-Za-z0-9._:@-]{1,128}")


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == HEADER and _USABLE.fullmatch(value):
            return str(value.decode("ascii"))
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        header = (HEADER, request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = bind_request_id(request_id)
        await self.app(scope, receive, send_with_id)
        # Unbound only on success: an exception goes on to the server's error handler, which
        # logs it in this request's task, under this id (the task ends with the request).
        unbind_request_id(token)
