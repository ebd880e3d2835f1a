"""Swagger UI pages that render with no request leaving the host.

FastAPI's own pages load Swagger UI's scripts and styles (and a favicon) from public
hosts, so on a network without internet access they are a blank page. Here the files
come from the ``swagger-ui-bundle-v2`` package (pinned in ``uv.lock``), served by the
app itself under a path that names the Swagger UI version (a new version is a new path,
so browsers may keep a file for a year). The page turns the online validator off and
sends a Content-Security-Policy that lets the browser fetch from this host only.

:func:`swagger_ui_router` serves one page and the files it needs: a service's own
``/docs`` (built by :func:`pms_platform.http_app.create_service_app`) and the gateway's
page of every service.
"""

import base64
import hashlib
import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

# The package ships no type marker; its one name is the folder of the Swagger UI files.
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from pms_platform.errors import NotFoundError

SWAGGER_UI_DIRECTORY = Path(swagger_ui_path)
SWAGGER_UI_VERSION = SWAGGER_UI_DIRECTORY.name.removeprefix("swagger-ui-")
SWAGGER_UI_ASSETS_PATH = f"/docs/swagger-ui/{SWAGGER_UI_VERSION}"
"""Where the files are served; public and GET only, on every service and the gateway."""
# The files a page needs, and their media types; nothing else of the folder is served.
SWAGGER_UI_ASSETS: Mapping[str, str] = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
# A versioned path never changes content: cached a year, not even revalidated.
ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"
# The page itself names the current version: always asked again.
PAGE_CACHE_CONTROL = "no-cache"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-ui-standalone-preset.js"></script>
<script>{script}</script>
</body>
</html>
"""
_SCRIPT = """
window.ui = SwaggerUIBundle(Object.assign({{
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset]
}}, {config}));
"""


class SwaggerUIPage:
    """The HTML of one page and the policy that confines it to this host.

    ``config`` is Swagger UI's (``url`` of one document, or ``urls`` of several with a
    ``layout`` of ``"StandaloneLayout"`` for the selector); ``validatorUrl`` stays off.
    """

    def __init__(self, title: str, config: Mapping[str, Any]) -> None:
        # "<" escaped, so that no text of the configuration can close the script.
        settings = json.dumps({**config, "validatorUrl": None}).replace("<", "\\u003c")
        script = _SCRIPT.format(config=settings)
        self.html = _PAGE.format(
            title=html.escape(title), assets=SWAGGER_UI_ASSETS_PATH, script=script
        )
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        # The one inline script by its hash; Swagger UI sets inline styles and shows
        # inline (data:) images; "Try it out" calls this host.
        self.content_security_policy = (
            "default-src 'none'; "
            f"script-src 'self' 'sha256-{digest}'; "
            "style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; "
            "connect-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )

    def response(self) -> HTMLResponse:
        return HTMLResponse(
            self.html,
            headers={
                "Content-Security-Policy": self.content_security_policy,
                "Cache-Control": PAGE_CACHE_CONTROL,
            },
        )


def swagger_ui_router(page_path: str, title: str, config: Mapping[str, Any]) -> APIRouter:
    """``GET page_path``: Swagger UI with ``config``; ``GET`` of each of its files under
    :data:`SWAGGER_UI_ASSETS_PATH`. Both public, neither in the OpenAPI document."""
    router = APIRouter()
    page = SwaggerUIPage(title, config)

    @router.get(page_path, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return page.response()

    @router.get(SWAGGER_UI_ASSETS_PATH + "/{asset}", include_in_schema=False)
    async def swagger_ui_asset(asset: str) -> FileResponse:
        media_type = SWAGGER_UI_ASSETS.get(asset)
        if media_type is None:
            raise NotFoundError(f"Swagger UI {SWAGGER_UI_VERSION} has no file {asset!r}")
        return FileResponse(
            SWAGGER_UI_DIRECTORY / asset,
            media_type=media_type,
            headers={"Cache-Control": ASSET_CACHE_CONTROL},
        )

    return router
