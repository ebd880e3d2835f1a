"""The native tools the bench drives, installed on first use from package registries:

- wrk (closed loop) from Debian's packages: ``apt-get install -y wrk`` (as root);
- oha (fixed rates, latency correction, JSON) from crates.io: ``cargo install oha``
  into ``<PMS_CACHE_DIR>/bench-tools`` (a few minutes of compiling, once);
- pgbench comes with PostgreSQL's binaries (the same folder as the local cluster's);
- py-spy (only for ``--profile``) from PyPI, through ``uvx`` when it is not installed.
"""

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from pms_cli.infra.settings import load_settings

OHA_VERSION = "1.16.0"


class ToolMissingError(RuntimeError):
    """A tool could not be found or installed; the message says how to get it."""


@dataclass(frozen=True)
class Tools:
    wrk: str
    oha: str | None


def tools_dir() -> Path:
    return load_settings().cache_dir / "bench-tools"


def _run_visibly(console: Console, command: list[str], env: dict[str, str] | None = None) -> None:
    console.print(f"[bold]$ {' '.join(command)}[/bold]")
    result = subprocess.run(command, env=env, check=False)  # noqa: S603 - fixed commands
    if result.returncode != 0:
        raise ToolMissingError(f"`{' '.join(command)}` failed with exit code {result.returncode}")


def ensure_wrk(console: Console) -> str:
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise ToolMissingError(
            "wrk is not installed; install it (Debian/Ubuntu: `sudo apt-get install -y wrk`, "
            "macOS: `brew install wrk`) and run again"
        )
    console.print("wrk (the closed-loop load generator) is missing: installing it with apt-get")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run_visibly(console, [apt, "update", "-qq"], environment)
    _run_visibly(console, [apt, "install", "-y", "-qq", "wrk"], environment)
    found = shutil.which("wrk")
    if found is None:
        raise ToolMissingError("apt-get installed wrk, but it is not on PATH")
    return found


def _cargo() -> str | None:
    return shutil.which("cargo") or next(
        (str(p) for p in [Path.home() / ".cargo" / "bin" / "cargo"] if p.exists()), None
    )


def ensure_oha(console: Console, *, install: bool = True) -> str | None:
    """oha from PATH or our cache; otherwise built with cargo (``None`` if impossible)."""
    cached = tools_dir() / "bin" / "oha"
    for candidate in (shutil.which("oha"), str(cached) if cached.exists() else None):
        if candidate:
            return candidate
    cargo = _cargo()
    if not install or cargo is None:
        console.print(
            "[yellow]oha is not installed and cargo is missing: the fixed-rate runs are "
            "skipped (install Rust, or `cargo install oha`)[/yellow]"
        )
        return None
    console.print(
        f"oha (the fixed-rate load generator) is missing: building oha {OHA_VERSION} from "
        f"crates.io into {tools_dir()} (once; a few minutes on 2 cores)"
    )
    environment = {**os.environ, "CARGO_TARGET_DIR": str(tools_dir() / "target")}
    _run_visibly(
        console,
        [cargo, "install", "--locked", "--version", OHA_VERSION, "--root", str(tools_dir()), "oha"],
        environment,
    )
    shutil.rmtree(tools_dir() / "target", ignore_errors=True)
    return str(cached)


def ensure_tools(console: Console, *, need_oha: bool) -> Tools:
    return Tools(wrk=ensure_wrk(console), oha=ensure_oha(console) if need_oha else None)


def find_pgbench(postgres_bin_dir: Path | None = None) -> str | None:
    """pgbench from the configured PostgreSQL folder, Debian's folders, or PATH."""
    candidates = []
    if postgres_bin_dir is not None:
        candidates.append(postgres_bin_dir / "pgbench")
    lib = Path("/usr/lib/postgresql")
    if lib.is_dir():
        versions = sorted(
            (d for d in lib.iterdir() if d.name.isdigit()), key=lambda d: int(d.name), reverse=True
        )
        candidates += [d / "bin" / "pgbench" for d in versions]
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    return shutil.which("pgbench")


def py_spy_command() -> list[str] | None:
    """How to run py-spy: installed, or fetched from PyPI by ``uvx`` on first use."""
    found = shutil.which("py-spy")
    if found:
        return [found]
    uvx = shutil.which("uvx")
    if uvx:
        return [uvx, "py-spy"]
    uv = shutil.which("uv")
    if uv:
        return [uv, "tool", "run", "py-spy"]
    return None
