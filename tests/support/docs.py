"""What an offline browser would load for /docs and /redoc: every asset the page names."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

# Anything the browser may fetch by itself: a script, a style sheet, an image, a font.
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)")
_SCRIPT_URL = re.compile(r"""\burl:\s*['"]([^'"]+)""")  # Swagger UI's spec URL


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in {"src", "href", "spec-url", "data", "srcset", "poster"}:
                self.urls.append(value)

    def handle_data(self, data: str) -> None:
        self.inline.append(data)


def page_references(html: str) -> list[str]:
    """URLs a browser loads for the page: attributes, CSS url(...) and the spec URL."""
    parser = _References()
    parser.feed(html)
    inline = "\n".join(parser.inline)
    return parser.urls + _CSS_URL.findall(inline) + _SCRIPT_URL.findall(inline)


def assert_served_locally(get: Callable[[str], Any], page: str) -> list[str]:
    """Fetch `page` and every asset it references through `get` (the service itself);
    fails on an absolute URL (it would leave the machine) or an asset that is not served."""
    response = get(page)
    assert response.status_code == 200, response.text
    assert "text/html" in response.headers["content-type"]
    urls = page_references(response.text)
    assert urls, f"{page} references nothing: not a documentation page"
    fetched = []
    for url in urls:
        assert not re.match(r"^(?:[a-z]+:)?//", url, re.I), f"{page} loads {url} from outside"
        if url.startswith("data:"):
            continue
        asset = get(url)
        assert asset.status_code == 200, f"{page}: {url} answered {asset.status_code}"
        assert asset.content, f"{page}: {url} is empty"
        if url.endswith(".css"):
            for inner in _CSS_URL.findall(asset.text):
                assert inner.startswith("data:"), f"{url} loads {inner}"
        fetched.append(url)
    return fetched
