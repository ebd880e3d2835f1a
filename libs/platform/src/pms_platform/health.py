"""``/health/live`` (the process runs) and ``/health/ready`` (its dependencies answer)."""

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse

ReadinessCheck = Callable[[], Awaitable[None]]
READINESS_TIMEOUT_SECONDS = 2.0


async def _run_check(check: ReadinessCheck) -> str:
    try:
        await asyncio.wait_for(check(), READINESS_TIMEOUT_SECONDS)
    except Exception as error:  # any failure means "not ready"; the reason is reported
        return f"DOWN: {type(error).__name__}"
    return "UP"


def health_router(checks: Mapping[str, ReadinessCheck]) -> APIRouter:
    """Readiness runs every check concurrently, each within a short timeout."""
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get("/live", summary="The process is running")
    async def live() -> dict[str, str]:
        return {"status": "UP"}

    @router.get("/ready", summary="The service and its dependencies answer")
    async def ready() -> JSONResponse:
        names = list(checks)
        results = await asyncio.gather(*(_run_check(checks[name]) for name in names))
        components = dict(zip(names, results, strict=True))
        up = all(result == "UP" for result in results)
        return JSONResponse(
            {"status": "UP" if up else "DOWN", "components": components},
            status_code=200 if up else 503,
        )

    return router
