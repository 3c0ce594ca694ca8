"""`iid-api` / `python -m iid_api`: serve the API with uvicorn on IID_HOST:IID_PORT, in
IID_WEB_CONCURRENCY processes, and its metrics on IID_METRICS_PORT when that is set."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import uvicorn

from iid_api.settings import Settings, get_settings
from iid_store.logs import configure_logging, logging_config


def _prepare_metrics_folder(settings: Settings) -> Path:
    """An empty folder for prometheus-client's multiprocess mode, named in the environment
    before anything imports prometheus-client: the uvicorn processes inherit it."""
    if settings.metrics_dir is None:
        folder = Path(tempfile.mkdtemp(prefix="iid-metrics-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    else:
        folder = settings.metrics_dir
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):  # a previous run's processes
            stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    return folder


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    if settings.metrics_port is not None:
        folder = _prepare_metrics_folder(settings)
        # imported only now: prometheus-client picks its mode when first imported
        from iid_api.metrics import serve_multiprocess_metrics

        serve_multiprocess_metrics(settings.host, settings.metrics_port, folder)
    uvicorn.run(
        "iid_api.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.processes,
        proxy_headers=True,
        timeout_keep_alive=settings.keep_alive_seconds,
        log_config=logging_config(settings.log_format, settings.log_level),
        log_level=settings.log_level.lower(),
    )


if __name__ == "__main__":
    main()
