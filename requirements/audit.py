"""`make lint`'s dependency audit: pip-audit over the pinned requirements (runtime.txt, dev.txt).

Exit 1 when a pinned package has a known vulnerability that is not accepted below, or when
only some packages could be audited. When pip-audit's vulnerability service answered for none
of them (a machine that cannot reach it), it says so plainly and exits 0: a `pip-audit` run
there reports "No known vulnerabilities found" after skipping every package, which is no
audit at all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
PINS = ("runtime.txt", "dev.txt")
# Vulnerability id -> why it is accepted (and until when). None today.
ACCEPTED: dict[str, str] = {}


def main() -> int:
    command = [
        *(sys.executable, "-m", "pip_audit", "--format", "json", "--progress-spinner", "off"),
        *("--no-deps", "--disable-pip"),  # the files pin every package: nothing to resolve
        *(arg for pins in PINS for arg in ("-r", str(HERE / pins))),
        *(arg for vuln in ACCEPTED for arg in ("--ignore-vuln", vuln)),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    try:
        packages = json.loads(result.stdout)["dependencies"]
    except (json.JSONDecodeError, KeyError):
        print(
            f"audit: pip-audit failed (exit {result.returncode}):\n{result.stderr}", file=sys.stderr
        )
        return 1
    vulnerable = [p for p in packages if p.get("vulns")]
    skipped = [p for p in packages if "skip_reason" in p]
    for package in vulnerable:
        for vuln in package["vulns"]:
            fixes = ", ".join(vuln["fix_versions"]) or "none yet"
            print(f"audit: {package['name']} {package['version']}: {vuln['id']} (fixed in {fixes})")
    if vulnerable:
        print("audit: upgrade (make lock UPGRADE=1) or accept in requirements/audit.py, saying why")
        return 1
    if skipped and len(skipped) == len(packages):
        print(
            f"audit: SKIPPED, nothing was audited: pip-audit's vulnerability service answered for"
            f" none of the {len(packages)} pinned packages (not reachable from this machine)",
            file=sys.stderr,
        )
        return 0
    if skipped:
        for package in skipped:
            print(f"audit: not audited: {package['name']}: {package['skip_reason']}")
        return 1
    print(f"audit: no known vulnerabilities in the {len(packages)} pinned packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
