"""Benchmark (not a test): the public innovation directory at national size.

    .venv/bin/python bench/bench_directory.py --database URL [--innovations 40000]

On a database it prepares (migrated and seeded like a deployment's), a published year of
`--innovations` public innovations over every assessable region, with Indonesian names and
texts drawn from word lists by a seeded RNG, the regions' verified scorecards (their points
reach the directory through the scorecard trigger) and the feed's `published` changes,
numbered by the worker's sequencer. Then, through the application in this process (FastAPI,
the public's session, JSON out), as the public:
- `GET /v1/directory` for a set of realistic queries, with and without filters, facets
  included (every one counts the whole result): p50 and p95 over all calls, and per query;
- the feed read a page (100 changes) at a time from its start, its middle and its end, at
  half the feed and at the whole feed: the cost of a page must not grow with the feed.
Prints JSON (bench_national.py runs it in its own process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import national_db  # noqa: E402
from asgi_lifespan import LifespanManager  # noqa: E402
from httpx import ASGITransport, AsyncClient  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker  # noqa: E402

from iid_api.main import create_app  # noqa: E402
from iid_api.settings import Settings  # noqa: E402
from iid_scoring import URUSAN, load_edition  # noqa: E402
from iid_store.config import CommonSettings  # noqa: E402
from iid_store.db import create_engine, create_session_factory, models  # noqa: E402
from iid_worker.data import sequence_changes  # noqa: E402
from tests.e2e.stack import prepare_database  # noqa: E402

YEAR = 2025
SENT = datetime(YEAR, 8, 1, tzinfo=UTC)
EDITION = "iid-2026"
CALLS_PER_QUERY = 25
FEED_PAGE = 100
QUERIES: dict[str, dict[str, str]] = {
    "words": {"q": "layanan kesehatan"},
    "one_word": {"q": "stunting"},
    "typo": {"q": "puskesmass"},
    "partial_word": {"q": "e-kinerj"},
    "words_in_province": {"q": "sampah", "province": "35"},
    "words_kota_by_score": {"q": "perizinan", "region_kind": "kota", "sort": "score"},
    "words_with_evidence": {"q": "digital", "has_evidence": "true"},
    "urusan_main": {"urusan": "pendidikan", "urusan_match": "main"},
    "rating_and_stage": {"rating": "sangat_inovatif", "stage": "penerapan"},
    "cluster_by_name": {"cluster": "kota", "sort": "name"},
    "everything": {},
}
# Names: a kind of thing, what it is about (a topic with its own words), how (some have none)
KINDS = ("Layanan", "Sistem", "Aplikasi", "Gerakan", "Program", "Klinik", "Pusat", "Rumah")
KINDS += ("Kampung", "Sekolah", "Posyandu", "Puskesmas", "Gerai", "Forum", "Inovasi")
TOPICS: dict[str, tuple[str, ...]] = {
    "Kesehatan Ibu dan Anak": ("kesehatan", "ibu", "hamil", "bayi", "bidan", "persalinan"),
    "Penurunan Stunting": ("stunting", "gizi", "balita", "posyandu", "kader", "timbang"),
    "Pendidikan Inklusif": ("pendidikan", "sekolah", "guru", "murid", "disabilitas"),
    "Perizinan Terpadu": ("perizinan", "izin", "usaha", "investasi", "berusaha"),
    "Pengelolaan Sampah": ("sampah", "daur", "ulang", "bank", "kompos", "lingkungan"),
    "Administrasi Kependudukan": ("kependudukan", "akta", "kelahiran", "ktp", "dukcapil"),
    "Pajak Daerah": ("pajak", "retribusi", "pendapatan", "bayar", "tagihan"),
    "E-Kinerja ASN": ("kinerja", "pegawai", "asn", "absensi", "penilaian"),
    "Pelayanan Publik Terpadu": ("pelayanan", "publik", "antrean", "loket", "pengaduan"),
    "Pemberdayaan UMKM": ("umkm", "usaha", "pemasaran", "produk", "pelatihan"),
    "Penanggulangan Kemiskinan": ("kemiskinan", "bantuan", "sosial", "keluarga", "miskin"),
    "Air Bersih": ("air", "bersih", "sanitasi", "sumur", "pipa"),
    "Pertanian Organik": ("pertanian", "petani", "pupuk", "organik", "panen"),
    "Pariwisata Desa": ("pariwisata", "wisata", "desa", "homestay", "budaya"),
    "Keselamatan Jalan": ("jalan", "lalu", "lintas", "kecelakaan", "keselamatan"),
    "Layanan Kesehatan Keliling": ("kesehatan", "puskesmas", "keliling", "pemeriksaan"),
    "Perpustakaan Keliling": ("perpustakaan", "buku", "membaca", "literasi"),
    "Lansia Sehat": ("lansia", "sehat", "senam", "pemeriksaan", "kesehatan"),
    "Ketahanan Pangan": ("pangan", "beras", "cadangan", "lumbung", "harga"),
    "Kebencanaan": ("bencana", "banjir", "siaga", "evakuasi", "kebakaran"),
}
HOW = ("Digital", "Terpadu", "Berbasis Masyarakat", "Online", "Keliling", "Cepat", "Gratis")
FILLER = [
    "warga",
    "kecamatan",
    "kelurahan",
    "program",
    "kegiatan",
    "meningkatkan",
    "kualitas",
    "masyarakat",
    "pemerintah",
    "daerah",
    "melalui",
    "dengan",
    "secara",
    "bersama",
    "setiap",
    "tahun",
    "dukungan",
    "perangkat",
    "koordinasi",
]


def _text(rng: random.Random, topic: str, words: int) -> str:
    vocabulary = TOPICS[topic]
    chosen = (rng.choice(vocabulary if rng.random() < 0.3 else FILLER) for _ in range(words))
    return " ".join(chosen).capitalize() + "."


def _name(rng: random.Random, topic: str) -> str:
    parts = [rng.choice(KINDS), topic]
    if rng.random() < 0.6:
        parts.append(rng.choice(HOW))
    return " ".join(parts)


ENTRY_COLUMNS = (
    "id",
    "innovation_id",
    "period_year",
    "region_code",
    "agency_id",
    "name",
    "stage",
    "initiator",
    "kind",
    "form",
    "theme",
    "urusan",
    "design",
    "goal",
    "benefit",
    "result",
    "status",
    "review_state",
    "registration_number",
    "sent_at",
    "has_evidence",
    "created_by",
)
URUSAN_CODES = tuple(URUSAN)
RATINGS = ("sangat_inovatif", "inovatif", "kurang_inovatif")


class Nation:
    """Rows of the public year, from a seeded RNG."""

    def __init__(self, regions: list[models.Region], count: int) -> None:
        self.rng = random.Random(17)
        self.agencies = [
            (uuid.uuid4(), region.code, f"Bappeda {region.name}", "opd") for region in regions
        ]
        self.innovations: list[tuple[Any, ...]] = []
        self.entries: list[tuple[Any, ...]] = []
        self.points: dict[str, list[tuple[uuid.UUID, str]]] = {r.code: [] for r in regions}
        for number in range(count):
            agency, code = self.agencies[number % len(regions)][:2]
            self.innovations.append((innovation := uuid.uuid4(), code))
            entry = uuid.uuid4()
            self.entries.append(self._entry(entry, innovation, code, agency, number))
            self.points[code].append((entry, f"{self.rng.uniform(0, 60):.2f}"))

    def _entry(
        self,
        entry: uuid.UUID,
        innovation: uuid.UUID,
        code: str,
        agency: uuid.UUID,
        number: int,
    ) -> tuple[Any, ...]:
        rng = self.rng
        topic = rng.choice(tuple(TOPICS))
        return (
            entry,
            innovation,
            YEAR,
            code,
            agency,
            _name(rng, topic),
            rng.choice(("inisiatif", "uji_coba", "penerapan", "penerapan")),
            rng.choice(("kepala_daerah", "perangkat_daerah", "asn", "masyarakat")),
            rng.choice(("digital", "non_digital")),
            rng.choice(("tata_kelola_pemerintahan", "pelayanan_publik", "inovasi_daerah_lainnya")),
            rng.choice((None, "digitalisasi_layanan", "penanggulangan_kemiskinan")),
            rng.sample(URUSAN_CODES, rng.randint(1, 3)),
            _text(rng, topic, 320),
            _text(rng, topic, 25),
            _text(rng, topic, 25),
            _text(rng, topic, 20),
            "sent",
            "approved",
            f"{YEAR}/{code}/{number:06d}",
            SENT + timedelta(seconds=number),  # the feed's halves are ranges of it
            rng.random() < 0.7,
            "bench",
        )

    def scorecards(self) -> list[dict[str, Any]]:
        cards = []
        for code, points in self.points.items():
            index = Decimal(f"{self.rng.uniform(20, 90):.2f}")
            cards.append(
                {
                    "period_year": YEAR,
                    "region_code": code,
                    "basis": "verified",
                    "edition_code": EDITION,
                    "index": index,
                    "rating": self.rng.choice(RATINGS),
                    "total_score": index,
                    "undecided_answers": 0,
                    "payload": {"innovations": [{"id": str(e), "points": p} for e, p in points]},
                    "inputs_hash": "0" * 64,
                    "generation": 0,
                }
            )
        return cards


async def _copy(session: AsyncSession, nation: Nation) -> None:
    """The rows by COPY (triggers off: the feed's changes are written as publication does)."""
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    await raw.execute("SET LOCAL session_replication_role = replica")
    await raw.copy_records_to_table(
        "agencies", records=nation.agencies, columns=("id", "region_code", "name", "kind")
    )
    await raw.copy_records_to_table(
        "innovations", records=nation.innovations, columns=("id", "region_code")
    )
    await raw.copy_records_to_table(
        "innovation_entries", records=nation.entries, columns=ENTRY_COLUMNS
    )
    await raw.execute("SET LOCAL session_replication_role = origin")


async def _load(factory: async_sessionmaker[AsyncSession], count: int) -> None:
    """The published year, its public innovations and the regions' verified scorecards."""
    edition = load_edition(EDITION)
    async with factory() as session:
        regions = await national_db.prepare(session, edition)
        start, end = edition.implementation_window
        period = models.Period(
            year=YEAR,
            edition_code=EDITION,
            status="published",
            reporting_opens_on=date(YEAR, 6, 1),
            reporting_closes_on=date(YEAR, 8, 31),
            implementation_starts_on=start,
            implementation_ends_on=end,
        )
        session.add(period)
        await session.flush()
        members = [
            {"period_year": YEAR, "cluster": cluster, "region_code": region.code}
            for region in regions
            for cluster in national_db.clusters_of(region)
        ]
        await session.execute(insert(models.ClusterMembership), members)
        nation = Nation(regions, count)
        await _copy(session, nation)
        await session.execute(insert(models.Scorecard), nation.scorecards())
        await session.commit()


_PUBLISHED = text(
    "INSERT INTO change_log (kind, action, period_year, region_code, object_id, data)"
    " SELECT 'directory', 'published', period_year, region_code, innovation_id::text,"
    "        jsonb_build_object('entry_id', id, 'year', period_year)"
    " FROM innovation_entries WHERE sent_at >= :first AND sent_at < :last"
)


async def _publish_feed(factory: async_sessionmaker[AsyncSession], first: int, last: int) -> int:
    """The feed's `published` changes of entries `first` to `last` (not included), numbered
    by the sequencer."""
    span = {"first": SENT + timedelta(seconds=first), "last": SENT + timedelta(seconds=last)}
    async with factory() as session:
        await session.execute(_PUBLISHED, span)
        await session.commit()
    numbered = 0
    while True:
        async with factory() as session:
            done = await sequence_changes(session)
            await session.commit()
        if not done:
            return numbered
        numbered += done


async def _analyze(database_url: str) -> None:
    engine = create_engine(CommonSettings(database_url=database_url))
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM ANALYZE"))
    await engine.dispose()


def _ms(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered) * 1000, 1), "p95": round(p95 * 1000, 1)}


async def _timed(
    client: AsyncClient, path: str, params: dict[str, Any], calls: int
) -> tuple[list[float], Any]:
    seconds, body = [], None
    for call in range(calls + 2):  # two to warm up
        began = time.perf_counter()
        response = await client.get(path, params=params)
        elapsed = time.perf_counter() - began
        if response.status_code != 200:
            raise RuntimeError(f"{path} {params}: {response.status_code} {response.text[:300]}")
        body = response.json()
        if call >= 2:
            seconds.append(elapsed)
    return seconds, body


async def _searches(client: AsyncClient) -> dict[str, Any]:
    every: list[float] = []
    per_query = {}
    for name, params in QUERIES.items():
        seconds, body = await _timed(client, "/v1/directory", params, CALLS_PER_QUERY)
        every += seconds
        per_query[name] = {**_ms(seconds), "hits": body["total"]}
    return {"directory_search_ms": _ms(every), "directory_queries": per_query}


async def _feed_pages(client: AsyncClient, size: int) -> dict[str, float]:
    """A page of the feed read at its start, middle and end (p50 of 10 reads, ms)."""
    pages = {}
    for where, after in (("start", 0), ("middle", size // 2), ("end", size - FEED_PAGE)):
        seconds, body = await _timed(
            client, "/v1/feeds/innovations", {"after": after, "limit": FEED_PAGE}, 10
        )
        assert len(body["items"]) == FEED_PAGE, where
        pages[where] = _ms(seconds)["p50"]
    return pages


async def run(database_url: str, count: int) -> dict[str, Any]:
    await prepare_database(database_url)
    engine = create_engine(CommonSettings(database_url=database_url))
    factory = create_session_factory(engine)
    began = time.perf_counter()
    await _load(factory, count)
    feed: dict[str, Any] = {}
    await _publish_feed(factory, 0, count // 2)
    await _analyze(database_url)
    loaded = time.perf_counter() - began
    app = create_app(Settings(database_url=database_url))
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app)  # type: ignore[arg-type]
        async with AsyncClient(transport=transport, base_url="http://bench") as client:
            size = ok_total(await client.get("/v1/feeds/innovations", params={"limit": 1}))
            feed[f"{size}"] = await _feed_pages(client, size)
            await _publish_feed(factory, count // 2, count)
            await _analyze(database_url)
            size = ok_total(await client.get("/v1/feeds/innovations", params={"limit": 1}))
            feed[f"{size}"] = await _feed_pages(client, size)
            searches = await _searches(client)
    await engine.dispose()
    return {
        "directory_innovations": count,
        "directory_load_seconds": round(loaded, 1),
        **searches,
        "directory_search_p95_ms": searches["directory_search_ms"]["p95"],
        "directory_feed_page_ms": feed,
    }


def ok_total(response: Any) -> int:
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--innovations", type=int, default=40_000)
    arguments = parser.parse_args()
    print(json.dumps(asyncio.run(run(arguments.database, arguments.innovations))))


if __name__ == "__main__":
    main()
