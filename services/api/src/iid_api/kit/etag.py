"""Optimistic concurrency: a row's version is its ETag; `If-Match` must name the current one."""

import re
from typing import Annotated, Protocol, TypeVar

from fastapi import Depends, Header, Request, Response

from iid_api.kit.errors import PreconditionFailed

# what etag() writes (a version number, quoted); the quotes may be left out
_VERSION_TAG = re.compile(r'"?([0-9]{1,18})"?', re.ASCII)


def etag(version: int) -> str:
    return f'"{version}"'


class Versioned(Protocol):
    @property
    def version(self) -> int | None: ...


VersionedT = TypeVar("VersionedT", bound=Versioned)


def with_etag(item: VersionedT, response: Response) -> VersionedT:
    """Return `item`, with its version as the response's ETag."""
    assert item.version is not None, "only stored rows carry an ETag"
    response.headers["ETag"] = etag(item.version)
    return item


# `If-Match: *` (RFC 9110): whatever the current version, as long as there is one: such a
# write never creates. No version is negative (review settings not stored yet are at 0).
ANY_VERSION = -1


async def parse_if_match(
    if_match: Annotated[
        str | None,
        Header(
            description='ETag of the version you edited, e.g. "3" (a stale one answers 412),'
            " or * for any version of what must already exist"
        ),
    ] = None,
) -> int | None:
    if if_match is None:
        return None
    if if_match.strip() == "*":
        return ANY_VERSION
    value = if_match.strip()
    if value.startswith("W/"):  # RFC 9110: If-Match compares strongly, a weak tag never matches
        raise PreconditionFailed(f"If-Match {value[:40]!r} is a weak ETag: send the ETag as given")
    if (match := _VERSION_TAG.fullmatch(value)) is None:
        raise PreconditionFailed(
            f'If-Match {value[:40]!r} is not an ETag issued by this API: send one, e.g. "3"'
        )
    return int(match.group(1))


def check_version(expected: int | None, current: int | None, what: str) -> None:
    """412 when the caller edited another version than the stored one (or a missing one)."""
    if expected is None:
        return
    if current is None:
        raise PreconditionFailed(f"{what} does not exist yet; send it without If-Match")
    if current != expected and expected != ANY_VERSION:
        raise PreconditionFailed(
            f"{what} changed: you sent If-Match {etag(expected)}, the current version is "
            f"{etag(current)}; reload it and try again"
        )


IfMatchDep = Annotated[int | None, Depends(parse_if_match)]


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether `If-None-Match` names `tag` (or is `*`): a conditional GET answers 304."""
    if if_none_match is None:
        return False
    given = {part.strip().removeprefix("W/") for part in if_none_match.split(",")}
    return "*" in given or tag.removeprefix("W/") in given


def conditional(item: VersionedT, request: Request, response: Response) -> VersionedT | Response:
    """`item` with its version as the ETag, or 304 when `If-None-Match` names that version (an
    item without a version, not stored yet, has no ETag)."""
    if item.version is None:
        return item
    tag = etag(item.version)
    if matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers={"ETag": tag})
    response.headers["ETag"] = tag
    return item
