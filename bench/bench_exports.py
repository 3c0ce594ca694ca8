"""Benchmark (not a test): exports made by the worker, on a loaded benchmark database.

    .venv/bin/python bench/bench_exports.py --database URL [--audit-rows 100000]

The worker's own path (iid_api.exports.production.produce: the requester's Document read in
one transaction, streamed into the export storage): the national ranking (every cluster, one
workbook) and the audit trail (`--audit-rows` entries, added by SQL when fewer exist) as XLSX
and as CSV. Each export's seconds, and its memory: the process's peak resident size during
the export (VmHWM, reset before it through /proc/self/clear_refs) above its resident size just
before, so the figure is what the export itself needed, whatever the number of rows. Prints
JSON (bench_national.py runs it in its own process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import national_db  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker  # noqa: E402

from iid_api.exports.production import produce  # noqa: E402
from iid_store.config import CommonSettings  # noqa: E402
from iid_store.db import create_engine, create_session_factory  # noqa: E402
from iid_store.db.models import AuditEntry, Export  # noqa: E402
from iid_store.storage import LocalStorage  # noqa: E402

MIB = 1024 * 1024
# an audit entry of a typical save: the answer before and after
_AUDIT = text(
    "INSERT INTO audit_log (actor, action, object_type, object_id, region_code, period_year,"
    " before, after)"
    " SELECT 'user:operator' || (n % 500) || '@parepare.go.id', 'update', 'sid_answer',"
    " md5(n::text), '73.72', :year,"
    " jsonb_build_object('indicator', (16 + n % 20)::text, 'level', n % 4, 'version', n % 9),"
    " jsonb_build_object('indicator', (16 + n % 20)::text, 'level', (n + 1) % 4,"
    "                    'version', n % 9 + 1)"
    " FROM generate_series(1, :rows) AS n"
)


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> None:
    """VmHWM starts again from the current resident size (Linux 4.0 and later)."""
    Path("/proc/self/clear_refs").write_text("5")


async def _ensure_audit_rows(factory: async_sessionmaker[AsyncSession], rows: int) -> int:
    async with factory() as session:
        present = int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
        if present < rows:
            await session.execute(_AUDIT, {"rows": rows - present, "year": national_db.YEAR})
            await session.commit()
        return max(rows, present)


async def _measure(
    factory: async_sessionmaker[AsyncSession],
    storage: LocalStorage,
    what: str,
    fmt: str,
    filters: dict[str, Any],
) -> dict[str, Any]:
    export_id = uuid.uuid4()
    async with factory() as session:
        session.add(
            Export(
                id=export_id,
                what=what,
                format=fmt,
                filters=filters,
                requested_by="bench",
                requester_role="national_admin",
            )
        )
        await session.commit()
    before = _status_kib("VmRSS")
    _reset_peak()
    started = time.perf_counter()
    status = await produce(factory, storage, export_id, timedelta(hours=1), time_limit=3600)
    seconds = time.perf_counter() - started
    peak = _status_kib("VmHWM")
    async with factory() as session:
        done = await session.get(Export, export_id)
        assert done is not None and status == "done", (status, done and done.error)
        rows, size = done.rows_done, done.size_bytes or 0
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "peak_mb": round(max(peak - before, 0) / 1024, 1),
        "file_mb": round(size / MIB, 2),
    }


async def run(database_url: str, audit_rows: int) -> dict[str, Any]:
    engine = create_engine(CommonSettings(database_url=database_url))
    factory = create_session_factory(engine)
    try:
        audit_total = await _ensure_audit_rows(factory, audit_rows)
        with tempfile.TemporaryDirectory(prefix="iid-bench-exports-") as folder:
            storage = LocalStorage(Path(folder))
            period = {"period": national_db.YEAR}
            ranking_xlsx = await _measure(factory, storage, "rankings", "xlsx", period)
            ranking_csv = await _measure(factory, storage, "rankings", "csv", period)
            audit_xlsx = await _measure(factory, storage, "audit", "xlsx", {})
            audit_csv = await _measure(factory, storage, "audit", "csv", {})
    finally:
        await engine.dispose()
    return {
        "export_national_ranking_peak_mb": ranking_xlsx["peak_mb"],
        "export_national_ranking_seconds": ranking_xlsx["seconds"],
        "export_audit_100k_seconds": audit_xlsx["seconds"],
        "export_audit_100k_peak_mb": audit_xlsx["peak_mb"],
        "exports": {
            "audit_rows_in_database": audit_total,
            "national_ranking_xlsx": ranking_xlsx,
            "national_ranking_csv": ranking_csv,
            "audit_xlsx": audit_xlsx,
            "audit_csv": audit_csv,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="a loaded benchmark database")
    parser.add_argument("--audit-rows", type=int, default=100_000)
    arguments = parser.parse_args()
    print(json.dumps(asyncio.run(run(arguments.database, arguments.audit_rows))))


if __name__ == "__main__":
    main()
