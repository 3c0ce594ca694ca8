"""Vocabularies shared by editions and inputs: innovation stages and government affairs (urusan)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

STAGES: tuple[str, ...] = ("inisiatif", "uji_coba", "penerapan")


@dataclass(frozen=True)
class Urusan:
    code: str
    name: str
    group: str  # wajib_pelayanan_dasar | wajib_non_pelayanan_dasar | pilihan | penunjang


def _load_urusan() -> Mapping[str, Urusan]:
    text = resources.files("iid_scoring").joinpath("urusan.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO(text))
    return MappingProxyType({r["code"]: Urusan(r["code"], r["name"], r["group"]) for r in rows})


URUSAN: Mapping[str, Urusan] = _load_urusan()
