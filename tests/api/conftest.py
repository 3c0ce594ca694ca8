"""Fixtures shared by the API tests (the project-wide ones are in tests/conftest.py)."""

from pathlib import Path

import pytest

from iid_api.settings import Settings


@pytest.fixture
def storage_root(tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app stores evidence in this test's own folder."""
    root = tmp_path / "storage"
    monkeypatch.setattr(settings, "storage_dir", root)
    return root
