"""A multipart upload streamed into storage: never held whole in memory, never on disk beyond
the limit.

Starlette's form parser spools a whole file before the endpoint sees it, which would let an
oversized upload fill the disk before we could answer 413. Here the request body is fed to
python-multipart chunk by chunk; the file part's first bytes decide its kind (and so its size
limit) and every later chunk goes to the storage writer and the hash as it arrives, so reading
stops at the first byte over the limit.
"""

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from iid_api.evidence import kinds
from iid_api.evidence.names import sanitise_filename
from iid_api.kit.errors import BadRequest, ContentTooLarge, InvalidInput, UnsupportedMediaType
from iid_store.storage import ObjectWriter

FILE_FIELD = "file"
MAX_FIELD_BYTES = 4096  # other form fields are ignored, but not read without bound


@dataclass(frozen=True)
class ReceivedFile:
    sha256: str
    size: int
    file_kind: kinds.FileKind
    filename: str


@dataclass
class _Part:
    headers: dict[str, bytes] = field(default_factory=dict)
    is_file: bool = False
    filename: str | None = None


class _Events:
    """python-multipart calls back synchronously; the events of one chunk are collected here
    and handled (asynchronously) once `write` returns, so memory stays one chunk."""

    def __init__(self) -> None:
        self.pending: list[tuple[str, bytes]] = []
        self.ended = False
        self._field = b""
        self._value = b""

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": lambda: self.pending.append(("begin", b"")),
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": lambda: self.pending.append(("headers_done", b"")),
            "on_part_data": lambda data, start, end: self.pending.append(
                ("data", bytes(data[start:end]))
            ),
            "on_part_end": lambda: self.pending.append(("end", b"")),
            "on_end": self._end,
        }

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self.pending.append(("header", self._field.lower() + b"\0" + self._value))
        self._field, self._value = b"", b""

    def _end(self) -> None:
        self.ended = True

    def drain(self) -> list[tuple[str, bytes]]:
        events, self.pending = self.pending, []
        return events


class _FileSink:
    """The file part: sniff, check kind and size, hash, write."""

    def __init__(self, writer: ObjectWriter, limits: Mapping[str, int]) -> None:
        self.writer = writer
        self.limits = limits
        self.hash = hashlib.sha256()
        self.head = b""
        self.size = 0
        self.file_kind: kinds.FileKind | None = None

    async def feed(self, data: bytes) -> None:
        if self.file_kind is None:
            self.head += data
            if len(self.head) < kinds.SNIFF_BYTES:
                return
            data, self.head = self.head, b""
            self._identify(data)
        await self._write(data)

    async def finish(self) -> kinds.FileKind:
        if self.file_kind is None:
            if not self.head:
                raise InvalidInput.at(f"/body/{FILE_FIELD}", "the file is empty")
            data, self.head = self.head, b""
            self._identify(data)
            await self._write(data)
        assert self.file_kind is not None
        return self.file_kind

    def _identify(self, head: bytes) -> None:
        detected = kinds.detect(head)
        if detected is None:
            raise UnsupportedMediaType(f"the file is not a {kinds.DESCRIPTION} file")
        if detected.kind not in self.limits:
            accepted = ", ".join(sorted(self.limits)) or "no files (a video link only)"
            raise UnsupportedMediaType(
                f"the file is a {detected.label}; this indicator accepts {accepted}"
            )
        self.file_kind = detected

    async def _write(self, data: bytes) -> None:
        assert self.file_kind is not None
        self.size += len(data)
        limit = self.limits[self.file_kind.kind]
        if self.size > limit:
            raise ContentTooLarge(
                f"a {self.file_kind.label} may have at most {limit} bytes; this one is larger"
            )
        self.hash.update(data)
        await self.writer.write(data)


def _boundary(request: Request) -> bytes:
    _, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if not boundary:
        raise BadRequest("multipart/form-data without a boundary")
    return boundary


def _disposition(part: _Part) -> tuple[str | None, str | None]:
    _, params = parse_options_header(part.headers.get("content-disposition"))
    name = params.get(b"name")
    filename = params.get(b"filename")
    return (
        name.decode(errors="replace") if name is not None else None,
        filename.decode(errors="replace") if filename is not None else None,
    )


async def receive_file(
    request: Request, writer: ObjectWriter, limits: Mapping[str, int]
) -> ReceivedFile:
    """Stream the request's `file` part into `writer` (not committed); raise a Problem when the
    body is malformed, truncated, of a refused kind, or too large."""
    events = _Events()
    parser = MultipartParser(_boundary(request), events.callbacks())  # type: ignore[arg-type]
    sink = _FileSink(writer, limits)
    state = _Reader(sink)
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            await state.handle(events.drain())
        parser.finalize()
        await state.handle(events.drain())
    except MultipartParseError as exc:
        raise BadRequest(f"the multipart body is malformed: {exc}") from exc
    except ClientDisconnect as exc:
        raise BadRequest("the upload was interrupted before it was complete") from exc
    if not events.ended:
        raise BadRequest("the upload ended before the multipart body was complete")
    if state.filename is None:
        raise InvalidInput.at(f"/body/{FILE_FIELD}", "a file part named 'file' is required")
    file_kind = await sink.finish()
    return ReceivedFile(
        sha256=sink.hash.hexdigest(),
        size=sink.size,
        file_kind=file_kind,
        filename=sanitise_filename(state.filename, file_kind.extension),
    )


class _Reader:
    """Routes the parser's events: the `file` part to the sink, other fields (bounded) away."""

    def __init__(self, sink: _FileSink) -> None:
        self.sink = sink
        self.part = _Part()
        self.filename: str | None = None
        self.field_bytes = 0

    async def handle(self, events: list[tuple[str, bytes]]) -> None:
        for event, payload in events:
            if event == "begin":
                self.part = _Part()
            elif event == "header":
                name, _, value = payload.partition(b"\0")
                self.part.headers[name.decode("latin-1")] = value
            elif event == "headers_done":
                self._start_part()
            elif event == "data":
                await self._data(payload)

    def _start_part(self) -> None:
        name, filename = _disposition(self.part)
        if name != FILE_FIELD:
            return
        if self.filename is not None:
            raise InvalidInput.at(f"/body/{FILE_FIELD}", "send one file per request")
        self.part.is_file = True
        self.filename = filename or ""

    async def _data(self, data: bytes) -> None:
        if self.part.is_file:
            await self.sink.feed(data)
            return
        self.field_bytes += len(data)
        if self.field_bytes > MAX_FIELD_BYTES:
            raise ContentTooLarge(f"form fields other than the file exceed {MAX_FIELD_BYTES} bytes")
