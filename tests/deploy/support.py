"""What the deployment files are checked against: the repository's paths and the settings the
services really read (a misspelt IID_ variable is ignored silently, so the files are checked)."""

from pathlib import Path

import iid_api.settings
import iid_worker.settings
from iid_store.config import SeedSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def known_settings() -> set[str]:
    """The IID_* variable of every setting the API, the worker and the seed read."""
    classes = (iid_api.settings.Settings, iid_worker.settings.Settings, SeedSettings)
    return {f"IID_{name.upper()}" for cls in classes for name in cls.model_fields}


def env_file_keys(path: Path) -> dict[str, str]:
    """KEY=value lines of an env file (comments and blank lines skipped)."""
    pairs = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs
