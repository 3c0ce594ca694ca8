"""Which change of the change log is which webhook event, and what it carries.

The log records every committed change in commit order (iid_store.changes); an event is a view
of one change. Region events are ordered per region (`ordering_key`), national ones (rankings,
periods, national exports) among themselves.
"""

from dataclasses import dataclass
from typing import Any

import orjson

from iid_store.changes import Change


@dataclass(frozen=True)
class Event:
    type: str
    region_code: str | None
    data: dict[str, Any]
    # an event that may happen once per object (a subscription receives it once)
    once_key: str | None = None

    @property
    def ordering_key(self) -> str:
        return self.region_code or ""


def _common(change: Change) -> dict[str, Any]:
    return {"position": change.position, "period": change.period_year}


def _regional(change: Change, **data: Any) -> dict[str, Any]:
    return {**_common(change), "region_code": change.region_code, **data}


def event_of(change: Change) -> Event | None:
    """The webhook event a change is, if any."""
    data, region = change.data, change.region_code
    if change.kind == "scorecard":
        fields = {name: data.get(name) for name in ("basis", "index", "rating", "generation")}
        return Event("scorecard.changed", region, _regional(change, **fields))
    if change.kind == "ranking":
        fields = {"cluster": data.get("cluster"), "basis": data.get("basis")}
        return Event("ranking.changed", None, {**_common(change), **fields})
    if change.kind == "innovation" and change.action == "updated" and data.get("status") == "sent":
        # a sent innovation is frozen: its first change as sent is the sending
        fields = {
            "agency_id": str(change.agency_id),
            "innovation_id": change.object_id,
            "public_id": data.get("public_id"),
            "version": data.get("version"),
        }
        once = f"innovation.sent:{change.object_id}"
        return Event("innovation.sent", region, _regional(change, **fields), once)
    if change.kind in ("decision", "rejection"):
        return Event("verification.decided", region, _regional(change, **_decided(change)))
    if change.kind == "period" and change.action == "status_changed":
        fields = {"status": data.get("status"), "previous_status": data.get("previous_status")}
        return Event("period.status_changed", None, {**_common(change), **fields})
    if change.kind == "export" and change.action == "ready":
        fields = {
            "export_id": change.object_id,
            "what": data.get("what"),
            "format": data.get("format"),
            "href": f"/v1/exports/{change.object_id}",
        }
        return Event("export.ready", region, _regional(change, **fields))
    return None


def _decided(change: Change) -> dict[str, Any]:
    data = change.data
    if change.kind == "rejection":  # the whole innovation
        decision = "withdraw_rejection" if change.action == "deleted" else "reject"
        return {
            "aspect": "innovation",
            "indicator": None,
            "answer_id": None,
            "innovation_id": data.get("innovation_id"),
            "decision": decision,
        }
    return {
        name: data.get(name) for name in ("aspect", "indicator", "answer_id", "innovation_id")
    } | {"decision": data.get("decision")}


def body(event: Event, change: Change) -> str:
    """The message every attempt sends: the type, when it happened, the data."""
    message = {"type": event.type, "timestamp": change.recorded_at, "data": event.data}
    return orjson.dumps(message, option=orjson.OPT_UTC_Z).decode()
