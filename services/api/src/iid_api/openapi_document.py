"""`python -m iid_api.openapi_document PATH`: write the service's OpenAPI document (what
/openapi.json serves) to PATH, without starting the service (`make client` generates the
Python client from it)."""

import json
import sys
from pathlib import Path

from iid_api.main import create_app
from iid_api.settings import Settings


def main() -> None:
    document = create_app(Settings()).openapi()
    Path(sys.argv[1]).write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
