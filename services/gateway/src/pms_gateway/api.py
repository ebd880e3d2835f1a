"""The gateway's own readiness: it is ready when it works itself.

The launcher starts the gateway last and waits for every service's 200, and in a
cluster a gateway pulled out of rotation because one upstream is down would turn a
partial outage into a total one. So ``/health/ready`` answers 200 whenever the gateway
runs, and reports each upstream (its ``/health/live``, probed with a short timeout) and
its circuit in the body, for people and dashboards: the platform's readiness route
serves :func:`readiness_report` instead of running checks.
"""

from typing import Any

from pms_gateway.upstreams import UpstreamPool
from pms_platform.health import ReadinessReport


def readiness_report(upstreams: UpstreamPool) -> ReadinessReport:
    async def gateway_ready() -> dict[str, Any]:
        upstream_health = await upstreams.health()
        return {
            "status": "UP",
            "components": {name: state["status"] for name, state in upstream_health.items()},
            "circuits": {name: state["circuit"] for name, state in upstream_health.items()},
        }

    return gateway_ready
