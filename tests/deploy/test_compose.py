"""deploy/compose.yaml is valid under the Compose Specification's JSON schema (as vendored by
check-jsonschema), runs what the image provides, and names only settings that exist."""

import json
import re
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.deploy.support import DEPLOY, env_file_keys, known_settings

COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / "compose.env.example"
IID_SERVICES = ("migrate", "api", "worker")
# ${NAME}, ${NAME:-default}, ${NAME:?message}; `$$` escapes a dollar for the container
INTERPOLATION = re.compile(r"(?<!\$)\$\{(\w+)(:?[-?][^}]*)?\}")


def _compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())  # resolves the `<<` merges
    return document


def _compose_schema() -> dict[str, Any]:
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema: dict[str, Any] = json.loads(vendored.read_text())
    return schema


def test_compose_file_is_valid_under_the_compose_specification() -> None:
    schema = _compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(_compose())
    ]
    assert errors == []


def test_one_image_runs_api_worker_and_migrations() -> None:
    services = _compose()["services"]
    assert set(services) == {*IID_SERVICES, "postgres", "redis", "s3", "s3-bucket"}
    assert {services[name]["image"] for name in IID_SERVICES} == {"${IID_IMAGE:-iid:0.1.0}"}
    assert services["migrate"]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert services["api"]["command"] == ["iid-api"]
    assert services["worker"]["command"] == ["iid-worker", "run"]
    assert "alembic upgrade head" in services["migrate"]["command"][-1]
    bin_folder = Path(sys.executable).parent  # the console scripts the commands start
    assert (bin_folder / "iid-api").exists() and (bin_folder / "iid-worker").exists()
    for name in ("api", "worker"):
        after = services[name]["depends_on"]
        assert after["migrate"] == {"condition": "service_completed_successfully"}
        assert after["postgres"] == {"condition": "service_healthy"}
        assert services[name]["env_file"] == "compose.env"
        assert services[name]["read_only"] is True
    assert services["worker"]["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_services_check_their_health_and_keep_their_data() -> None:
    services = _compose()["services"]
    for name in ("api", "worker", "postgres", "redis", "s3"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    assert services["migrate"]["healthcheck"] == {"disable": True}
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    for name in IID_SERVICES:
        assert "evidence:/var/lib/iid/storage" in services[name]["volumes"]
    assert services["s3"]["profiles"] == services["s3-bucket"]["profiles"] == ["s3"]
    # the worker's health check asks the port its settings open
    worker_check = " ".join(services["worker"]["healthcheck"]["test"])
    port = env_file_keys(ENV_EXAMPLE)["IID_WORKER_METRICS_PORT"]
    assert f"127.0.0.1:{port}/healthz" in worker_check


def test_env_example_names_real_settings_and_every_value_compose_needs() -> None:
    example = env_file_keys(ENV_EXAMPLE)
    used = set(INTERPOLATION.findall(COMPOSE.read_text()))
    interpolated = {name for name, _default in used}
    unknown = {key for key in example if key not in known_settings() | interpolated}
    assert unknown == set()
    required = {name for name, default in used if not default.startswith(":-")}
    assert required <= set(example)
    # the secrets ship empty: a service refuses to start until they are filled in
    secrets = (
        "POSTGRES_PASSWORD",
        "IID_SECRET_KEY",
        "IID_WEBHOOK_SECRET_KEY",
        "IID_BOOTSTRAP_ADMIN_PASSWORD",
    )
    assert all(example[name] == "" for name in secrets)
