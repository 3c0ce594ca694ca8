"""What a file is, read from its first bytes (magic numbers), never from its name or the type
the client claims: a PNG renamed `.pdf` is an image."""

from dataclasses import dataclass

# Enough to see a PDF header that follows a little junk (readers accept it in the first KiB).
SNIFF_BYTES = 1024

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
PDF_SIGNATURE = b"%PDF-"
# ISO base media brands of MP4 and QuickTime video. HEIC/AVIF images and M4A audio use the same
# container with other brands, so the brand list matters.
QUICKTIME_BRANDS = frozenset({b"qt  "})
MP4_BRANDS = frozenset(
    {
        b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1",
        b"M4V ", b"M4VH", b"M4VP", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"dash", b"mmp4",
        b"MSNV", b"XAVC", b"f4v ", b"NDAS",
    }
)  # fmt: skip


@dataclass(frozen=True)
class FileKind:
    kind: str  # the edition's evidence kind: pdf, image, video
    content_type: str
    extension: str
    label: str


PDF = FileKind("pdf", "application/pdf", ".pdf", "PDF")
JPEG = FileKind("image", "image/jpeg", ".jpg", "JPEG image")
PNG = FileKind("image", "image/png", ".png", "PNG image")
MP4 = FileKind("video", "video/mp4", ".mp4", "MP4 video")
MOV = FileKind("video", "video/quicktime", ".mov", "QuickTime video")

FILE_KINDS = ("pdf", "image", "video")
DESCRIPTION = "PDF, JPEG, PNG, MP4 or MOV"


def detect(head: bytes) -> FileKind | None:
    """The kind of a file from its first `SNIFF_BYTES` bytes (fewer when the file is shorter)."""
    if head.startswith(PNG_SIGNATURE):
        return PNG
    if head.startswith(JPEG_SIGNATURE):
        return JPEG
    if PDF_SIGNATURE in head[:SNIFF_BYTES]:
        return PDF
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in QUICKTIME_BRANDS:
            return MOV
        if brand in MP4_BRANDS:
            return MP4
    return None
