"""``/health/live`` (the process runs) and ``/health/ready`` (its dependencies answer).

A service that is ready whenever it runs (the gateway: pulling it out of rotation for
one upstream would turn a partial outage into a total one) gives a
:data:`ReadinessReport` instead of checks: ``/health/ready`` is then always 200, with
the report as its body.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

ReadinessCheck = Callable[[], Awaitable[None]]
ReadinessReport = Callable[[], Awaitable[Mapping[str, Any]]]
READINESS_TIMEOUT_SECONDS = 2.0


async def _run_check(check: ReadinessCheck) -> str:
    try:
        await asyncio.wait_for(check(), READINESS_TIMEOUT_SECONDS)
    except Exception as error:  # any failure means "not ready"; the reason is reported
        return f"DOWN: {type(error).__name__}"
    return "UP"


def health_router(
    checks: Mapping[str, ReadinessCheck], report: ReadinessReport | None = None
) -> APIRouter:
    """Readiness runs every check concurrently, each within a short timeout; or, given
    ``report``, answers 200 with what it returns."""
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get("/live", summary="The process is running")
    async def live() -> dict[str, str]:
        return {"status": "UP"}

    @router.get("/ready", summary="The service and its dependencies answer")
    async def ready() -> JSONResponse:
        if report is not None:
            return JSONResponse(dict(await report()))
        names = list(checks)
        results = await asyncio.gather(*(_run_check(checks[name]) for name in names))
        components = dict(zip(names, results, strict=True))
        up = all(result == "UP" for result in results)
        return JSONResponse(
            {"status": "UP" if up else "DOWN", "components": components},
            status_code=200 if up else 503,
        )

    return router
