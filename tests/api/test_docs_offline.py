"""/docs and /redoc work without the internet: every script, stylesheet and icon the pages
load comes from the service itself and answers 200."""

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from httpx import AsyncClient


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.urls.append(str(found["src"]))
        if tag == "link" and found.get("href"):
            self.urls.append(str(found["href"]))


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_documentation_pages_load_only_same_origin_assets(
    public: AsyncClient, page: str
) -> None:
    response = await public.get(page)
    assert response.status_code == 200
    parser = _Assets()
    parser.feed(response.text)
    assert any(url.endswith(".js") for url in parser.urls)
    for url in parser.urls:
        absolute = urljoin(str(response.url), url)
        assert urlsplit(absolute).netloc == "iid.test", f"{page} loads {url} from elsewhere"
        asset = await public.get(absolute)
        assert asset.status_code == 200, url
        assert len(asset.content) > 0
    # the pages' scripts fetch nothing from the internet either (fonts, the document)
    assert "https://" not in response.text.replace("https://iid.test", "")
