"""Answers rendered before the request arrives: stored JSON served as it is, with an ETag, and
304 Not Modified when the client already has it (the mobile app polls these)."""

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import Request, Response

from iid_api.kit.etag import matches

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


def json_response(request: Request, body: bytes) -> Response:
    """`body` with a strong ETag of its bytes; 304 when `If-None-Match` names it."""
    tag = body_etag(body)
    if matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers={"ETag": tag})
    return Response(body, media_type="application/json", headers={"ETag": tag})
