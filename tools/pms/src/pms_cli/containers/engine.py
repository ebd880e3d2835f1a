"""Podman as this machine runs it, with its settings in one containers.conf.

As root without systemd, containers run here only with runc, the cgroupfs manager and
explicit ulimits below the host's (see ../shared/design/INFRA-NOTES.md): the file below
gives them to every podman and podman-compose call through ``CONTAINERS_CONF``.
"""

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

CONTAINERS_CONF = """\
# Written by `pms containers test`: what podman needs on a machine of this kind.
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
init_path = "{init_path}"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""
INIT_PATHS = ("/usr/libexec/podman/catatonit", "/usr/bin/catatonit")


class EngineError(Exception):
    """A container engine step failed; the message says which and why, in one line."""


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def last_words(self, lines: int = 5) -> str:
        text = (self.stderr.strip() or self.stdout.strip()).splitlines()
        return " | ".join(text[-lines:]) if text else f"exit code {self.returncode}"


class Runner(Protocol):
    def __call__(
        self,
        argv: Sequence[str],
        *,
        timeout: float | None = None,
        capture: bool = True,
        stdin: bytes | None = None,
    ) -> Result: ...


def containers_conf_text(init_path: str | None = None) -> str:
    chosen = init_path or next((p for p in INIT_PATHS if Path(p).exists()), INIT_PATHS[0])
    return CONTAINERS_CONF.format(init_path=chosen)


def write_containers_conf(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = containers_conf_text()
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


@dataclass
class SubprocessRunner:
    """Runs commands with ``CONTAINERS_CONF`` set; output shown live unless captured."""

    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def __call__(
        self,
        argv: Sequence[str],
        *,
        timeout: float | None = None,
        capture: bool = True,
        stdin: bytes | None = None,
    ) -> Result:
        try:
            completed = subprocess.run(  # noqa: S603 - podman and tools we name, our arguments
                list(argv),
                env=dict(self.environ),
                input=stdin,
                stdout=subprocess.PIPE if capture else sys.stderr,
                stderr=subprocess.PIPE if capture else sys.stderr,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Result(124, "", f"{argv[0]} {argv[1] if len(argv) > 1 else ''}: "
                          f"no answer within {timeout:.0f} s")  # fmt: skip
        except FileNotFoundError:
            return Result(127, "", f"{argv[0]}: not installed")

        def text(data: bytes | None) -> str:
            return data.decode("utf-8", "replace") if data else ""

        return Result(completed.returncode, text(completed.stdout), text(completed.stderr))


def engine_environ(conf: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    return {**(os.environ if base is None else base), "CONTAINERS_CONF": str(conf)}


def missing_tools(names: Sequence[str] = ("podman", "podman-compose", "runc")) -> list[str]:
    return [name for name in names if shutil.which(name) is None]


def require(result: Result, what: str) -> Result:
    if not result.ok:
        raise EngineError(f"{what} failed: {result.last_words(12)}")
    return result
