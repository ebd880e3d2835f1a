"""What the container run reads from deploy/compose.yaml: start order, health checks, builds.

podman-compose (Debian's 1.0.3) neither waits for a ``depends_on`` condition nor runs a
health check on a machine without systemd, so the run does both itself from the file:
services start in stages (each after every service it depends on), a one-shot service
(``restart: "no"``) is waited for until it exits 0, a long-running one until its
``healthcheck.test`` succeeds inside it (``podman exec``).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration_seconds(text: str | int | float | None, default: float) -> float:
    """A Compose duration (``"1m30s"``, ``"5s"``, ``"500ms"``) in seconds."""
    if text is None:
        return default
    if isinstance(text, int | float):
        return float(text)
    parts = _DURATION.findall(text.strip())
    if not parts or "".join(number + unit for number, unit in parts) != text.strip():
        raise ValueError(f"not a Compose duration: {text!r}")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


@dataclass(frozen=True)
class HealthCheck:
    argv: tuple[str, ...]
    interval: float
    timeout: float
    retries: int
    start_period: float

    @property
    def deadline_seconds(self) -> float:
        """How long a start may take before the service counts as unhealthy."""
        return self.start_period + self.retries * (self.interval + self.timeout)


@dataclass(frozen=True)
class ImageBuild:
    image: str
    dockerfile: str
    args: Mapping[str, str]
    target: str | None


@dataclass(frozen=True)
class ServicePlan:
    name: str
    one_shot: bool
    health: HealthCheck | None
    build: ImageBuild | None
    depends_on: tuple[str, ...] = field(default=())


def health_argv(test: str | list[str]) -> tuple[str, ...] | None:
    """The command of a ``healthcheck.test`` (``CMD``, ``CMD-SHELL`` or a string)."""
    if isinstance(test, str):
        return ("/bin/sh", "-c", test)
    kind, *rest = test
    if kind == "NONE":
        return None
    if kind == "CMD":
        return tuple(rest)
    if kind == "CMD-SHELL" and len(rest) == 1:
        return ("/bin/sh", "-c", rest[0])
    raise ValueError(f"unknown healthcheck test: {test!r}")


def _health(service: Mapping[str, Any]) -> HealthCheck | None:
    check = service.get("healthcheck") or {}
    if check.get("disable") or not check.get("test"):
        return None
    argv = health_argv(check["test"])
    if argv is None:
        return None
    return HealthCheck(
        argv=argv,
        interval=duration_seconds(check.get("interval"), 30.0),
        timeout=duration_seconds(check.get("timeout"), 30.0),
        retries=int(check.get("retries", 3)),
        start_period=duration_seconds(check.get("start_period"), 0.0),
    )


def _build(service: Mapping[str, Any]) -> ImageBuild | None:
    build = service.get("build")
    if not build:
        return None
    return ImageBuild(
        image=str(service["image"]),
        dockerfile=str(build.get("dockerfile", "Dockerfile")),
        args={str(key): str(value) for key, value in (build.get("args") or {}).items()},
        target=build.get("target"),
    )


def service_plans(compose: Mapping[str, Any]) -> dict[str, ServicePlan]:
    plans: dict[str, ServicePlan] = {}
    for name, service in compose["services"].items():
        depends_on = service.get("depends_on") or {}
        plans[name] = ServicePlan(
            name=name,
            one_shot=service.get("restart") == "no",
            health=_health(service),
            build=_build(service),
            depends_on=tuple(depends_on),
        )
    return plans


def start_stages(plans: Mapping[str, ServicePlan]) -> list[list[str]]:
    """Services in start order: each stage after every stage it depends on (Kahn's layers)."""
    stages: list[list[str]] = []
    placed: set[str] = set()
    remaining = dict(plans)
    while remaining:
        ready = sorted(name for name, plan in remaining.items() if set(plan.depends_on) <= placed)
        if not ready:
            raise ValueError(f"depends_on has a cycle or an unknown service: {sorted(remaining)}")
        stages.append(ready)
        placed.update(ready)
        for name in ready:
            del remaining[name]
    return stages


def image_builds(plans: Mapping[str, ServicePlan]) -> list[ImageBuild]:
    """Each image to build once (migrations share their service's image)."""
    builds: dict[str, ImageBuild] = {}
    for plan in plans.values():
        if plan.build is not None:
            known = builds.setdefault(plan.build.image, plan.build)
            if known != plan.build:
                raise ValueError(f"{plan.build.image} is built two ways in the Compose file")
    return list(builds.values())


def container_name(project: str, service: str) -> str:
    """podman-compose's name for a service's (first) container."""
    return f"{project}_{service}_1"
