"""Client file names made harmless: they are only shown back (Content-Disposition), never used
as a path, but they still must not carry folders, control characters or a misleading
extension."""

import re
import unicodedata

MAX_NAME_BYTES = 200
FALLBACK_STEM = "evidence"
_UNSAFE = re.compile(r"[^\w .()\-+,]")
_SPACES = re.compile(r"\s+")


def sanitise_filename(raw: str | None, extension: str) -> str:
    """`../../etc/passwd.pdf` -> `passwd.pdf`; the extension is the detected kind's."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]  # the last path segment, for either separator
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    stem = _SPACES.sub(" ", _UNSAFE.sub("_", stem)).strip(" .")
    stem = _truncate(stem, MAX_NAME_BYTES - len(extension)) or FALLBACK_STEM
    return stem + extension


def _truncate(text: str, max_bytes: int) -> str:
    encoded = text.encode()[:max_bytes]
    return encoded.decode(errors="ignore").strip(" .")
