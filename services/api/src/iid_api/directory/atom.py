"""The newest public innovations as an Atom feed (RFC 4287) for people's feed readers."""

from collections.abc import Sequence
from datetime import UTC, datetime
from xml.etree import ElementTree

from iid_api.directory.schemas import DirectoryHit

MEDIA_TYPE = "application/atom+xml"
ENTRIES = 50
_NS = "http://www.w3.org/2005/Atom"


def _add(
    parent: ElementTree.Element, tag: str, text: str | None = None, **attributes: str
) -> ElementTree.Element:
    child = ElementTree.SubElement(parent, tag, attributes)
    child.text = text
    return child


def render(hits: Sequence[DirectoryHit], base_url: str) -> bytes:
    feed = ElementTree.Element("feed", {"xmlns": _NS})
    _add(feed, "id", f"{base_url}/v1/feeds/innovations.atom")
    _add(feed, "title", "Direktori Inovasi Daerah: inovasi terbaru")
    updated = max((hit.sent_at for hit in hits), default=datetime(2000, 1, 1, tzinfo=UTC))
    _add(feed, "updated", updated.isoformat())
    _add(feed, "link", rel="self", href=f"{base_url}/v1/feeds/innovations.atom")
    _add(_add(feed, "author"), "name", "IID service")
    for hit in hits:
        entry = ElementTree.SubElement(feed, "entry")
        _add(entry, "id", f"urn:uuid:{hit.public_id}")
        _add(entry, "title", hit.name)
        _add(entry, "updated", hit.sent_at.isoformat())
        _add(entry, "link", href=f"{base_url}/v1/directory/{hit.public_id}")
        _add(_add(entry, "author"), "name", hit.region_name)
        urusan = ", ".join(hit.urusan)
        _add(entry, "summary", f"{hit.region_name}, {hit.year}: {hit.agency_name}; urusan {urusan}")
        for urusan in hit.urusan:
            _add(entry, "category", term=urusan)
    written: bytes = ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
    return written
