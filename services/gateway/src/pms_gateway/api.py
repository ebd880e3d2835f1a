"""The gateway's own readiness: it is ready when it works itself.

The launcher starts the gateway last and waits for every service's 200, and in a
cluster a gateway pulled out of rotation because one upstream is down would turn a
partial outage into a total one. So ``/health/ready`` answers 200 whenever the gateway
runs, and reports each upstream (its ``/health/live``, probed with a short timeout) and
its circuit in the body, for people and dashboards.
"""

from typing import Any

from fastapi import APIRouter

from pms_gateway.upstreams import UpstreamPool


def readiness_router(upstreams: UpstreamPool) -> APIRouter:
    router = APIRouter(prefix="/health", tags=["health"])

    # Shadows the platform's route of the same path (see app.py), which stays in the
    # OpenAPI document; a second operation there would duplicate it.
    @router.get("/ready", include_in_schema=False)
    async def gateway_ready() -> dict[str, Any]:
        upstream_health = await upstreams.health()
        return {
            "status": "UP",
            "components": {name: state["status"] for name, state in upstream_health.items()},
            "circuits": {name: state["circuit"] for name, state in upstream_health.items()},
        }

    return router
