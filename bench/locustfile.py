"""Locust users for the deadline rush and the save / read comparisons (run by bench/rush.py).

Environment: IID_BENCH_PLAN (a JSON file: year, API key, regions with their SPD codes, entry ids
and SID codes), IID_BENCH_MODE (`rush`: mostly answer saves, some innovation PATCHes and reads;
`saves`: SPD answer saves only; `reads`: ranking and scorecard reads only) and IID_BENCH_TARGET
(`api`: the real API; `baseline`: bench/baseline_app.py, which has the same operations on
shorter paths). Users wait for nothing between requests: a closed loop at full speed.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path
from typing import Any

from locust import FastHttpUser, task

PLAN: dict[str, Any] = json.loads(Path(os.environ["IID_BENCH_PLAN"]).read_text())
MODE = os.environ.get("IID_BENCH_MODE", "rush")
TARGET = os.environ.get("IID_BENCH_TARGET", "api")
YEAR = PLAN["year"]
_NUMBERS = itertools.count()
# task weights per mode: save_spd, save_sid, patch_innovation, read_ranking, read_scorecard
WEIGHTS = {
    "rush": (45, 35, 8, 6, 6),
    "saves": (1, 0, 0, 0, 0),
    "reads": (0, 0, 0, 1, 1),
}[MODE]


class Operator(FastHttpUser):
    """One region's operator (a national-admin API key: the cheapest credential check, so
    the figure is the write path, not the tenancy lookup)."""

    def on_start(self) -> None:
        number = next(_NUMBERS)
        self.region = PLAN["regions"][number % len(PLAN["regions"])]
        self.rng = random.Random(number)
        self.headers = {"Authorization": f"Bearer {PLAN['key']}"}
        self.actions = [self.save_spd, self.save_sid, self.patch_innovation]
        self.actions += [self.read_ranking, self.read_scorecard]

    @task
    def act(self) -> None:
        self.rng.choices(self.actions, weights=WEIGHTS)[0]()

    def save_spd(self) -> None:
        code, indicator = self.region["code"], self.rng.choice(self.region["spd"])
        body = {"level": self.rng.randint(0, 3)}
        if TARGET == "api":
            path = f"/v1/periods/{YEAR}/regions/{code}/spd-answers/{indicator}"
        else:
            path = f"/spd/{YEAR}/{code}/{indicator}"
        self.client.put(path, json=body, headers=self.headers, name="save_spd")

    def save_sid(self) -> None:
        entry, indicator = self.rng.choice(self.region["entries"]), self.rng.choice(PLAN["sid"])
        body = {"level": self.rng.randint(0, 3)}
        path = f"/v1/innovations/{entry}/answers/{indicator}"
        self.client.put(path, json=body, headers=self.headers, name="save_sid")

    def patch_innovation(self) -> None:
        entry = self.rng.choice(self.region["entries"])
        body = {"name": f"Inovasi {self.rng.randrange(10**6)}", "kind": "digital"}
        self.client.patch(
            f"/v1/innovations/{entry}", json=body, headers=self.headers, name="patch_innovation"
        )

    def read_ranking(self) -> None:
        cluster = self.region["kind"]
        if TARGET == "api":
            path = f"/v1/periods/{YEAR}/rankings?cluster={cluster}&basis=claimed&limit=50"
        else:
            path = f"/rankings/{YEAR}/{cluster}"
        self.client.get(path, headers=self.headers, name="read_ranking")

    def read_scorecard(self) -> None:
        code = self.region["code"]
        if TARGET == "api":
            path = f"/v1/periods/{YEAR}/regions/{code}/scorecard?basis=claimed"
        else:
            path = f"/scorecard/{YEAR}/{code}"
        self.client.get(path, headers=self.headers, name="read_scorecard")
