"""`iid-api` / `python -m iid_api`: serve the API with uvicorn on IID_HOST:IID_PORT."""

import uvicorn

from iid_api.settings import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run(
        "iid_api.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        proxy_headers=True,
        timeout_keep_alive=settings.keep_alive_seconds,
        log_level="info",
    )


if __name__ == "__main__":
    main()
