"""HTTP range requests (RFC 9110 section 14): one `bytes=` range; anything else gets the whole
file, which the RFC allows a server to answer instead."""

from iid_api.kit.errors import RangeNotSatisfiable


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """[start, stop) of the single range asked for, None for the whole file; 416 when the
    range lies outside the file."""
    if header is None:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()):
        return None
    if not first.isdigit() and last.isdigit():  # suffix: the last N bytes
        if int(last) == 0:
            raise _unsatisfiable(header, size)
        return max(size - int(last), 0), size
    if last and not last.isdigit():
        return None
    start = int(first)
    if last and int(last) < start:  # not a valid range: the header is ignored
        return None
    if start >= size:
        raise _unsatisfiable(header, size)
    return start, min(int(last) + 1, size) if last else size


def _unsatisfiable(header: str, size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        f"range {header!r} lies outside the file ({size} bytes)",
        headers={"Content-Range": f"bytes */{size}"},
    )
