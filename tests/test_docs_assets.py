"""/docs and /redoc with no internet: every URL they load is the app's own, and the app serves it."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest

from nlq.docs_assets import page_policy

REFERENCE = re.compile(r"""(?:src|href|url|spec-url)\s*[=:]\s*["']([^"']+)["']""")
EXPECTED_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


def references(html: str) -> list[str]:
    return REFERENCE.findall(html)


@pytest.mark.parametrize("path, assets", [
    ("/docs", {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"}),
    ("/redoc", {"redoc.standalone.js", "favicon.png"}),
])
async def test_the_documentation_pages_load_only_same_origin_urls_and_those_are_served(api, path, assets):
    page = await api.client.get(path)
    assert page.status_code == 200
    found = references(page.text)
    assert found, "no references found: the pattern no longer matches the page"
    for url in found:
        assert not urlsplit(url).scheme and not url.startswith("//"), f"{path} loads {url} from another host"
    assert "cdn." not in page.text and "googleapis" not in page.text
    served = {url.rsplit("/", 1)[-1] for url in found}
    assert assets <= served
    for url in found:
        asset = await api.client.get(urljoin(str(page.url), url))
        assert asset.status_code == 200, url
        suffix = "." + url.rsplit(".", 1)[-1]
        if suffix in EXPECTED_TYPES:
            assert EXPECTED_TYPES[suffix] in asset.headers["content-type"], (url, asset.headers["content-type"])
            assert asset.headers["x-content-type-options"] == "nosniff"
            assert len(asset.content) > 1000 or suffix == ".png"
        else:  # the OpenAPI document itself
            assert asset.json()["info"]["title"] == "PFA Vanguard"


async def test_the_docs_pages_allow_only_their_own_origin_and_their_own_inline_script(api):
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        response = await api.client.get(path)
        policy = response.headers["content-security-policy"]
        assert len(response.headers.get_list("content-security-policy")) == 1
        assert "https:" not in policy and "http:" not in policy and "'unsafe-eval'" not in policy, policy
        script_src = re.search(r"script-src ([^;]+)", policy).group(1)
        assert "'unsafe-inline'" not in script_src
        assert policy == page_policy(response.text)
        assert "frame-ancestors 'none'" in policy and response.headers["x-frame-options"] == "DENY"


def test_the_policy_names_the_hash_of_each_inline_script_and_nothing_else():
    policy = page_policy("<script src='/x.js'></script><script>alert(1)</script>")
    # sha256("alert(1)"), base64: what a browser computes for that inline script
    assert "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='" in policy
    assert policy.count("'sha256-") == 1


async def test_the_docs_assets_are_cacheable_static_files(api):
    asset = await api.client.get("/docs-assets/swagger-ui.css")
    assert asset.status_code == 200 and "cache-control" not in asset.headers
    assert (await api.client.get("/docs-assets/nope.js")).status_code == 404
    assert (await api.client.get("/docs-assets/../config.py")).status_code == 404
