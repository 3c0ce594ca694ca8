"""deploy/k8s: the base and the production overlay, rendered by `kubectl kustomize`, are valid
Kubernetes objects (kubernetes-validate, strict: no unknown field) for the Kubernetes version
below, and have the shape the runbook relies on."""

import shutil
import subprocess
from functools import cache
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.support import DEPLOY, env_file_keys, known_settings

# The oldest Kubernetes release still supported upstream when written (2026-11); the
# manifests use nothing newer than it has.
KUBERNETES_VERSION = "1.35.0"
K8S = DEPLOY / "k8s"
OVERLAYS = ("base", "overlays/production")
SECRET_WORDS = ("SECRET", "PASSWORD", "DATABASE_URL", "REDIS_URL", "ACCESS_KEY")


@cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip(
            "kubectl is not installed, so the Kubernetes manifests were not rendered or "
            "validated (Debian: apt-get install kubectl)"
        )
    result = subprocess.run(
        [kubectl, "kustomize", str(K8S / overlay)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return tuple(yaml.safe_load_all(result.stdout))


def _objects(overlay: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(item["kind"], item["metadata"]["name"]): item for item in rendered(overlay)}


def _pod(objects: dict[tuple[str, str], dict[str, Any]], kind: str, name: str) -> Any:
    return objects[kind, name]["spec"]["template"]["spec"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_manifests_are_valid_kubernetes_objects(overlay: str) -> None:
    failures = []
    for item in rendered(overlay):
        try:
            kubernetes_validate.validate(item, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = "/".join(map(str, error.path))
            failures.append(f"{item['kind']}/{item['metadata']['name']} {where}: {error.message}")
    assert failures == []


def test_production_has_every_part() -> None:
    objects = _objects("overlays/production")
    for key in (
        ("Namespace", "iid"),
        ("Deployment", "iid-api"),
        ("Service", "iid-api"),
        ("HorizontalPodAutoscaler", "iid-api"),
        ("PodDisruptionBudget", "iid-api"),
        ("Deployment", "iid-worker"),
        ("Job", "iid-migrate"),
        ("NetworkPolicy", "iid-default-deny"),
    ):
        assert key in objects, key
    assert all(item["metadata"].get("namespace", "iid") == "iid" for item in objects.values())
    images = {
        container["image"]
        for kind, name in (
            ("Deployment", "iid-api"),
            ("Deployment", "iid-worker"),
            ("Job", "iid-migrate"),
        )
        for container in _pod(objects, kind, name)["containers"]
    }
    assert images == {"registry.example.go.id/iid/iid:0.1.0"}  # one image, three commands
    assert objects["HorizontalPodAutoscaler", "iid-api"]["spec"]["maxReplicas"] == 12


def test_api_probes_resources_security_and_spread() -> None:
    objects = _objects("overlays/production")
    pod = _pod(objects, "Deployment", "iid-api")
    (api,) = pod["containers"]
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"cpu", "memory"} <= set(api["resources"]["requests"])
    assert "memory" in api["resources"]["limits"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert {spread["topologyKey"] for spread in pod["topologySpreadConstraints"]} == {
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    }
    labels = objects["Deployment", "iid-api"]["spec"]["selector"]["matchLabels"]
    assert objects["Service", "iid-api"]["spec"]["selector"] == labels
    assert objects["PodDisruptionBudget", "iid-api"]["spec"]["selector"]["matchLabels"] == labels
    # the Service publishes the API, not the metrics
    assert [port["targetPort"] for port in objects["Service", "iid-api"]["spec"]["ports"]] == [
        "http"
    ]


def _millicores(quantity: str) -> int:
    return int(quantity.removesuffix("m")) if quantity.endswith("m") else int(quantity) * 1000


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_worker_never_outweighs_the_api_for_cpu(overlay: str) -> None:
    """Pods on one node share its CPUs by their requests (the worker's niceness does not cross
    pods): the worker asks for no more than the API, as IID_WORKER_NICE does on one server."""
    objects = _objects(overlay)
    (api,) = _pod(objects, "Deployment", "iid-api")["containers"]
    (worker,) = _pod(objects, "Deployment", "iid-worker")["containers"]
    requested = [
        _millicores(str(container["resources"]["requests"]["cpu"])) for container in (worker, api)
    ]
    assert requested[0] <= requested[1], requested


def test_every_container_is_locked_down_and_configured_from_config_and_secrets() -> None:
    objects = _objects("overlays/production")
    (config_name,) = [name for kind, name in objects if kind == "ConfigMap"]
    for kind, name in (
        ("Deployment", "iid-api"),
        ("Deployment", "iid-worker"),
        ("Job", "iid-migrate"),
    ):
        for container in _pod(objects, kind, name)["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            assert "env" not in container, f"{name}: settings come from the ConfigMap or Secrets"
            sources = container["envFrom"]
            assert {"configMapRef": {"name": config_name}} in sources
            assert {"secretRef": {"name": "iid-secrets"}} in sources


def test_settings_are_real_and_secrets_stay_out_of_the_config_map() -> None:
    objects = _objects("overlays/production")
    (config,) = [item for (kind, _), item in objects.items() if kind == "ConfigMap"]
    settings = config["data"]
    assert set(settings) <= known_settings()
    assert [key for key in settings if any(word in key for word in SECRET_WORDS)] == []
    assert settings["IID_ENV"] == "production" and settings["IID_LOG_FORMAT"] == "json"
    secrets = env_file_keys(K8S / "secrets.example.env")
    assert set(secrets) <= known_settings()
    required = {"IID_DATABASE_URL", "IID_SECRET_KEY", "IID_WEBHOOK_SECRET_KEY"}
    assert required | {"IID_BOOTSTRAP_ADMIN_PASSWORD"} <= set(secrets)
    # the probes and scrapes ask the ports the settings open
    (worker,) = _pod(objects, "Deployment", "iid-worker")["containers"]
    assert worker["command"] == ["iid-worker", "run"]
    assert worker["ports"] == [
        {"name": "metrics", "containerPort": int(settings["IID_WORKER_METRICS_PORT"])}
    ]
    assert worker["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    (api,) = _pod(objects, "Deployment", "iid-api")["containers"]
    assert {"name": "metrics", "containerPort": int(settings["IID_METRICS_PORT"])} in api["ports"]
    (migrate,) = _pod(objects, "Job", "iid-migrate")["containers"]
    assert migrate["command"][-1].startswith("alembic upgrade head")


def test_the_migration_step_applies_everything_the_job_needs() -> None:
    """docs/operations.md applies `-l 'app.kubernetes.io/component in (shared,migrate)'`
    before the rollout: the Job, its ConfigMap, its service account, the egress policy."""
    objects = _objects("overlays/production")
    selected = {
        key
        for key, item in objects.items()
        if item["metadata"].get("labels", {}).get("app.kubernetes.io/component")
        in ("shared", "migrate")
    }
    pod = _pod(objects, "Job", "iid-migrate")
    (config,) = [
        ref["configMapRef"]["name"]
        for ref in pod["containers"][0]["envFrom"]
        if "configMapRef" in ref
    ]
    assert selected == {
        ("Job", "iid-migrate"),
        ("ConfigMap", config),
        ("ServiceAccount", pod["serviceAccountName"]),
        ("NetworkPolicy", "iid-default-deny"),
    }
