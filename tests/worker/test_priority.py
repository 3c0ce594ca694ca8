"""The worker's CPU priority (IID_WORKER_NICE): raised to the setting, never lowered. Each case
runs in a process of its own: a niceness once raised cannot be lowered again without
privilege."""

import os
import subprocess
import sys

import pytest

CHECK = """
import os, sys
from iid_worker.__main__ import yield_cpu_to_the_api
os.setpriority(os.PRIO_PROCESS, 0, int(sys.argv[1]))
yield_cpu_to_the_api(int(sys.argv[2]))
print(os.getpriority(os.PRIO_PROCESS, 0))
"""


@pytest.mark.parametrize(
    ("started_at", "setting", "runs_at"),
    [(0, 10, 10), (0, 0, 0), (15, 10, 15), (3, 7, 7)],
)
def test_the_worker_runs_at_its_niceness_or_nicer(
    started_at: int, setting: int, runs_at: int
) -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    check = [sys.executable, "-c", CHECK, str(base + started_at), str(base + setting)]
    done = subprocess.run(check, capture_output=True, text=True, check=True, timeout=60)
    assert int(done.stdout) == base + runs_at
