"""Answers rendered before the request arrives: stored JSON served as it is, with an ETag, and
304 Not Modified when the client already has it (the mobile app polls these)."""

import gzip
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import orjson
from fastapi import Request, Response

from iid_api.kit.etag import matches

# JSON smaller than this is sent as it is (compressing it saves less than it costs)
GZIP_MINIMUM_BYTES = 2048
# Compressed for each request (the middleware): the cheapest level, about a quarter of level
# 9's CPU for a third more bytes (docs/benchmarks.md); the rush reads are CPU-bound, not
# bandwidth-bound. Kept in a process cache: compressed once, as small as gzip makes it.
GZIP_LEVEL_PER_REQUEST = 1
GZIP_LEVEL_ONCE = 9

NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not Modified: the `ETag` sent in `If-None-Match` is still current"}
}


def render(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)


def splice_object(fields: Mapping[str, Any], stored: bytes) -> bytes:
    """The JSON object `stored` with `fields` added in front, without parsing `stored`."""
    # A stored scorecard is ~12 kB of JSON: copying its text costs a tenth of parsing it and
    # rendering it again, on the read the deadline rush makes most often.
    if not fields:
        return stored
    head = render(fields)
    if stored.strip() == b"{}":
        return head
    return head[:-1] + b"," + stored.lstrip()[1:]


def body_etag(body: bytes) -> str:
    """The strong ETag of a rendered answer: a hash of its bytes."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


@dataclass(frozen=True)
class Rendered:
    """An answer kept to be served many times: its ETag made once, and its gzip form made
    once, when a client first asks for it."""

    body: bytes
    etag: str
    compress_once: bool  # False: too small, or not kept (the middleware compresses per request)

    @classmethod
    def of(cls, body: bytes) -> "Rendered":
        return cls(body, body_etag(body), compress_once=len(body) >= GZIP_MINIMUM_BYTES)

    @cached_property
    def gzipped(self) -> bytes:
        return gzip.compress(self.body, GZIP_LEVEL_ONCE, mtime=0)


def json_response(request: Request, answer: bytes | Rendered) -> Response:
    """The answer with a strong ETag of its bytes; 304 when `If-None-Match` names it. A
    `Rendered` answer goes out in its gzip form to a client that accepts gzip (the GZip
    middleware leaves an encoded answer alone; it compresses the others)."""
    if isinstance(answer, bytes):
        answer = Rendered(answer, body_etag(answer), compress_once=False)
    if matches(request.headers.get("if-none-match"), answer.etag):
        return Response(status_code=304, headers={"ETag": answer.etag})
    headers, body = {"ETag": answer.etag}, answer.body
    if answer.compress_once:
        headers["Vary"] = "Accept-Encoding"
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            body = answer.gzipped
    return Response(body, media_type="application/json", headers=headers)
