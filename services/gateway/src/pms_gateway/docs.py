"""``/api-docs/{service}`` (each service's OpenAPI document) and ``/docs`` (one Swagger UI
for all of them).

The documents are the services' own as a client of the gateway meets them (``served``):
a ``servers`` entry pointing at where the service lives on the gateway (``/api`` for
patients), so "Try it out" in the Swagger UI calls through the gateway; only the
operations the gateway forwards (a service's ``/health`` and ``/metrics`` are not
public); and, on each, the answers the gateway gives itself (a refused token or role,
its rate limits, a body too large, a service that is down or slow). The page's Swagger UI
files are served by the gateway itself (:mod:`pms_platform.swagger_ui`), not a CDN.
"""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from pms_gateway.http_connection import UpstreamError
from pms_gateway.routes import ROUTES, RouteRule, find_route, is_internal
from pms_gateway.settings import GatewaySettings
from pms_gateway.upstreams import UpstreamPool, classify_failure
from pms_platform.errors import (
    ROLE_REFUSALS,
    NotFoundError,
    ProblemError,
    TooManyRequestsError,
    problem_response,
    problem_responses,
)
from pms_platform.openapi import status_order
from pms_platform.swagger_ui import swagger_ui_router

_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
UPSTREAM_FAILURES = {
    502: "The service gave no valid answer",
    503: "The service is not reachable, or failing and paused (see Retry-After)",
    504: "The service did not answer in time",
}


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

    @router.get(
        "/api-docs/{service}",
        summary="A service's OpenAPI document",
        responses=problem_responses(
            NotFoundError,
            *UPSTREAM_FAILURES,
            descriptions={404: "There is no service of this name", **UPSTREAM_FAILURES},
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
            document = served(document, bases[service], settings)
        return JSONResponse(document)

    # The selector of the standalone layout switches between the documents.
    config = {"urls": documents, "urls.primaryName": "patients", "layout": "StandaloneLayout"}
    router.include_router(swagger_ui_router("/docs", "PMS API documentation", config))
    return router


def served(document: dict[str, Any], base: str, settings: GatewaySettings) -> dict[str, Any]:
    """``document`` (changed in place) as clients of the gateway meet it under ``base``."""
    document["servers"] = [{"url": base}]
    for path, item in list(document.get("paths", {}).items()):
        operations = [method for method in item if method in _METHODS]
        public_path = base.rstrip("/") + path
        for method in operations:
            rule = find_route(method.upper(), public_path)
            if rule is None or is_internal(rule.rewrite(public_path)):
                del item[method]
            else:
                _add_gateway_answers(item[method], rule, settings)
        if operations and not any(method in _METHODS for method in item):
            del document["paths"][path]
    return document


def _add_gateway_answers(
    operation: dict[str, Any], rule: RouteRule, settings: GatewaySettings
) -> None:
    """The problems the gateway answers itself, before or instead of the service; a
    status the service documents keeps the service's description."""
    answers: list[type[ProblemError] | int] = [*UPSTREAM_FAILURES]
    limited = settings.max_concurrent_requests_per_client > 0 or (
        settings.rate_limit_login_per_address or settings.rate_limit_login_per_email
        if rule.login
        else rule.roles is not None and settings.rate_limit_api_per_user
    )
    if rule.roles is not None:
        answers += ROLE_REFUSALS
    if limited:
        answers.append(TooManyRequestsError)
    if "requestBody" in operation:
        answers += [408, 413]
    descriptions = {
        **UPSTREAM_FAILURES,
        408: "The request body did not arrive in time",
        413: "The request body is larger than the gateway takes",
    }
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status, response in problem_responses(*answers, descriptions=descriptions).items():
        responses.setdefault(str(status), response)
    operation["responses"] = dict(sorted(responses.items(), key=status_order))
