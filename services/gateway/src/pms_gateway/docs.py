"""``/api-docs/{service}`` (each service's OpenAPI document) and ``/docs`` (one Swagger UI
for all of them).

The documents are the services' own, with one addition: a ``servers`` entry pointing at
where the service lives on the gateway (``/api`` for patients), so "Try it out" in the
Swagger UI calls through the gateway.
"""

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse

from pms_gateway.http_connection import UpstreamError
from pms_gateway.routes import ROUTES
from pms_gateway.settings import GatewaySettings
from pms_gateway.upstreams import UpstreamPool, classify_failure
from pms_platform.errors import NotFoundError, problem_response, problem_responses

SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>PMS API documentation</title>
<link rel="stylesheet" href="{ui}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ui}/swagger-ui-bundle.js"></script>
<script src="{ui}/swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  urls: {urls},
  "urls.primaryName": "patients",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout"
}});
</script>
</body>
</html>
"""


def public_bases() -> dict[str, str]:
    """Where each upstream's own paths start on the gateway, from the route table."""
    bases: dict[str, str] = {}
    for rule in ROUTES:
        base = rule.public_base
        if base is not None:
            bases.setdefault(rule.upstream, base)
    return bases


def docs_router(upstreams: UpstreamPool, settings: GatewaySettings) -> APIRouter:
    router = APIRouter(tags=["docs"])
    bases = public_bases()
    documents = [{"name": "gateway", "url": "/openapi.json"}] + [
        {"name": name, "url": f"/api-docs/{name}"} for name in upstreams.upstreams
    ]
    page = _PAGE.format(ui=SWAGGER_UI, urls=json.dumps(documents))

    @router.get(
        "/api-docs/{service}",
        summary="A service's OpenAPI document",
        responses=problem_responses(
            NotFoundError,
            502,
            503,
            504,
            descriptions={
                404: "There is no service of this name",
                502: "The service gave no valid answer",
                503: "The service is not reachable",
                504: "The service did not answer in time",
            },
        ),
    )
    async def service_openapi(service: str) -> JSONResponse:
        upstream = upstreams.upstreams.get(service)
        if upstream is None:
            raise NotFoundError(f"There is no service called {service!r}")
        try:
            document: Any = await upstream.get_json(
                "/openapi.json", settings.upstream_response_timeout_seconds
            )
        except (TimeoutError, UpstreamError, ValueError) as error:
            failure = classify_failure(service, error)
            return problem_response(failure.status, failure.detail, slug=failure.slug)
        if isinstance(document, dict) and service in bases:
            document["servers"] = [{"url": bases[service]}]
        return JSONResponse(document)

    @router.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(page)

    return router
