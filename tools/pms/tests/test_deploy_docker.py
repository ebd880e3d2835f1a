"""The Dockerfile installs one service from the lock, in a cached layer, and runs it as an
unprivileged user without build tools; the build context leaves secrets and caches out."""

import re
import tomllib
from pathlib import Path
from typing import Any

from pms_cli.deploy_check import repo_root
from pms_cli.services import SERVICES

DOCKERFILE = "deploy/docker/Dockerfile"


def _dockerfile() -> str:
    return (repo_root() / DOCKERFILE).read_text(encoding="utf-8")


def _stages() -> dict[str, str]:
    """Each build stage's text, by its name (``FROM ... AS name``)."""
    stages: dict[str, str] = {}
    name = ""
    for line in _dockerfile().splitlines():
        match = re.match(r"FROM \S+ AS (\S+)$", line)
        if match:
            name = match[1]
            stages[name] = ""
        if name:
            stages[name] += line + "\n"
    return stages


def _workspace_members(root: Path) -> list[str]:
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    members: list[str] = []
    for pattern in data["tool"]["uv"]["workspace"]["members"]:
        members += sorted(
            str(path.parent.relative_to(root)) for path in root.glob(f"{pattern}/pyproject.toml")
        )
    return members


def test_every_workspace_manifest_is_copied_before_the_dependency_layer() -> None:
    build = _stages()["build"]
    first_sync = build.index("uv sync --locked --no-dev --no-install-workspace")

    for member in _workspace_members(repo_root()):
        copy = f"COPY {member}/pyproject.toml {member}/\n"
        assert copy in build, f"the lock check needs {member}/pyproject.toml"
        assert build.index(copy) < first_sync
    assert build.index("COPY pyproject.toml uv.lock ./") < first_sync
    # No source before the dependency layer: editing code keeps it cached.
    assert "COPY libs/platform/ " not in build[:first_sync]


def test_only_the_chosen_service_is_installed_from_the_lock() -> None:
    build = _stages()["build"]

    assert '--package "pms-${SERVICE}"' in build
    syncs = re.findall(r"uv sync [^\n\\]*", build)
    assert len(syncs) == 2
    assert all("--locked --no-dev" in sync for sync in syncs)
    assert "COPY services/${SERVICE}/ services/${SERVICE}/" in build
    assert "--mount=type=cache,target=/root/.cache/uv" in build


def test_the_runtime_stage_runs_unprivileged_without_build_tools() -> None:
    stages = _stages()
    runtime = stages["runtime"]

    assert list(stages)[-3:] == ["runtime", "gateway", "service"]
    assert "COPY --from=build /app /app" in runtime
    assert "uv" not in re.findall(r"COPY --from=(\S+)", runtime)
    assert "apt-get" not in runtime  # binutils (for strip) is the build stage's only
    assert "binutils" in stages["build"]
    assert re.search(r"^USER 10001:10001$", runtime, re.M)
    assert "useradd --system --uid 10001" in runtime


def test_the_healthcheck_asks_health_live_with_the_standard_library() -> None:
    runtime = _stages()["runtime"]
    healthcheck = runtime[runtime.index("HEALTHCHECK") :]

    assert 'CMD ["python", "-c", "import os, urllib.request;' in healthcheck
    assert "/health/live" in healthcheck
    assert "curl" not in healthcheck


def test_a_lost_dns_answer_is_asked_again_after_one_second() -> None:
    """glibc's default (5 s per try, two servers, two rounds) turned one dropped answer of
    the container network's DNS into a 20-30 s stall of a database connect."""
    runtime = _stages()["runtime"]

    assert re.search(r'^\s+RES_OPTIONS="timeout:1 attempts:3" \\$', runtime, re.M)


def test_build_and_runtime_share_one_python_so_the_venv_links_hold() -> None:
    """The build stage may have a base of its own (with apt, where the runtime's is trimmed)
    but by default it is the runtime's very image."""
    froms = re.findall(r"^FROM (\S+) AS (build|runtime)$", _dockerfile(), re.M)

    assert froms == [("${PYTHON_BUILD_IMAGE}", "build"), ("${PYTHON_IMAGE}", "runtime")]
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", _dockerfile(), re.M)
    assert re.search(r"^ARG PYTHON_BUILD_IMAGE=\$\{PYTHON_IMAGE\}$", _dockerfile(), re.M)


def test_the_build_context_is_an_allow_list_without_state_or_tests() -> None:
    lines = [
        line.strip()
        for line in (repo_root() / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]

    assert lines[0] == "*"
    assert {"!pyproject.toml", "!uv.lock", "!libs/", "!services/"} <= set(lines)
    assert "**/tests/" in lines
    assert "**/.venv/" in lines
    assert not any(line.startswith("!.") for line in lines), "never re-include dot folders"


def _locked_closure(lock: dict[str, Any], root: str) -> set[str]:
    """Every package the lock installs for ``root`` (its extras followed), dev groups aside."""
    packages = {package["name"]: package for package in lock["package"]}
    seen: set[str] = set()
    pending: list[tuple[str, tuple[str, ...]]] = [(root, ())]
    while pending:
        name, extras = pending.pop()
        package = packages[name]
        if name in seen and not extras:
            continue
        seen.add(name)
        wanted = list(package.get("dependencies", []))
        for extra in extras:
            wanted += package.get("optional-dependencies", {}).get(extra, [])
        pending += [(dep["name"], tuple(dep.get("extra", ()))) for dep in wanted]
    return seen


def test_the_test_support_never_reaches_an_image() -> None:
    """pms-testing (and pytest) is in the root's dev group only: no image's locked
    closure holds it, and the Dockerfile copies its manifest (for the lock check) but
    never its source, which the build context leaves out too."""
    root = repo_root()
    lock = tomllib.loads((root / "uv.lock").read_text(encoding="utf-8"))
    workspace = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))

    assert "pms-testing" in workspace["dependency-groups"]["dev"]
    for spec in SERVICES:
        closure = _locked_closure(lock, f"pms-{spec.name}")
        assert f"pms-{spec.name}" in closure
        assert {"pms-testing", "pytest"}.isdisjoint(closure), spec.name
    dockerfile = _dockerfile()
    assert "COPY libs/testing/pyproject.toml libs/testing/\n" in dockerfile
    assert not re.search(r"^COPY libs/testing/ ", dockerfile, re.M)
    assert "libs/testing/src/" in (root / ".dockerignore").read_text(encoding="utf-8")


def test_the_gateways_image_adds_the_web_consoles_files_and_the_others_do_not() -> None:
    stages = _stages()
    compose_text = (repo_root() / "deploy" / "compose.yaml").read_text(encoding="utf-8")

    assert "COPY console/dist/ /app/console/dist/" in stages["gateway"]
    assert "ENV PMS_GATEWAY_CONSOLE_DIR=/app/console/dist" in stages["gateway"]
    assert stages["service"].strip() == "FROM runtime AS service"
    assert re.search(r"^FROM runtime AS gateway$", _dockerfile(), re.M)
    assert "target: gateway" in compose_text
    assert "!console/dist/" in (repo_root() / ".dockerignore").read_text(encoding="utf-8")
