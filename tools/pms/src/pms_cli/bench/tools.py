"""The native tools the bench drives, installed on first use from package registries:

- wrk (closed loop) from Debian's packages: ``apt-get install -y wrk`` (as root, seconds);
- oha (fixed rates, latency correction, JSON) from crates.io: ``cargo install oha``
  into ``<PMS_CACHE_DIR>/bench-tools`` (minutes of compiling, once, shown with a spinner
  and the elapsed time: :mod:`pms_cli.bench.progress`);
- pgbench comes with PostgreSQL's binaries (the same folder as the local cluster's);
- py-spy (only for ``--profile``) from PyPI, through ``uvx`` when it is not installed.

oha stays the fixed-rate generator although vegeta (Go module proxy) builds in about 40 s:
oha's ``--latency-correction`` counts each latency from when the request was due
(coordinated omission corrected), the figure the latency targets are written against;
vegeta has no such correction and would make the figures incomparable with earlier runs.
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from pms_cli.bench.progress import StepFailedError, elapsed_text, run_step
from pms_cli.infra.settings import load_settings

OHA_VERSION = "1.16.0"
OHA_BUILD_MINUTES = "5-15"
"""How long ``cargo install oha`` takes on 2 cores: 14 min 23 s measured with tests running
beside it, of which the last 4-5 min for the oha crate itself."""


class ToolMissingError(RuntimeError):
    """A tool could not be found or installed; the message says how to get it."""


@dataclass(frozen=True)
class Tools:
    wrk: str
    oha: str | None


def tools_dir() -> Path:
    return load_settings().cache_dir / "bench-tools"


async def _install(
    console: Console, command: list[str], label: str, env: dict[str, str] | None = None
) -> float:
    try:
        return await run_step(console, command, label=label, env=env)
    except StepFailedError as error:
        raise ToolMissingError(str(error)) from None


async def ensure_wrk(console: Console) -> str:
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
    await _install(console, [apt, "update", "-qq"], "apt-get update", environment)
    await _install(console, [apt, "install", "-y", "-qq", "wrk"], "installing wrk", environment)
    found = shutil.which("wrk")
    if found is None:
        raise ToolMissingError("apt-get installed wrk, but it is not on PATH")
    return found


def _cargo() -> str | None:
    return shutil.which("cargo") or next(
        (str(p) for p in [Path.home() / ".cargo" / "bin" / "cargo"] if p.exists()), None
    )


async def ensure_oha(console: Console, *, install: bool = True) -> str | None:
    """oha from PATH or our cache; otherwise built with cargo (``None`` if impossible)."""
    cached = tools_dir() / "bin" / "oha"
    for candidate in (shutil.which("oha"), str(cached) if cached.exists() else None):
        if candidate:
            return candidate
    cargo = _cargo()
    if not install or cargo is None:
        why = "--no-install-oha" if cargo is not None else "cargo is missing"
        console.print(
            f"[yellow]oha is not installed ({why}): the fixed-rate runs are skipped "
            "(install Rust, or `cargo install oha`)[/yellow]"
        )
        return None
    console.print(
        f"[bold]oha[/bold] (the fixed-rate load generator) is missing: building oha "
        f"{OHA_VERSION} from crates.io with cargo into {tools_dir()}. This happens once and "
        f"takes about {OHA_BUILD_MINUTES} minutes on 2 cores (the last step, oha itself, "
        "runs for minutes without a new line); later runs reuse it. `--no-install-oha` "
        "skips the fixed-rate runs instead."
    )
    environment = {**os.environ, "CARGO_TARGET_DIR": str(tools_dir() / "target")}
    command = [
        cargo,
        "install",
        "--locked",
        "--version",
        OHA_VERSION,
        "--root",
        str(tools_dir()),
        "oha",
    ]
    seconds = await _install(console, command, f"building oha {OHA_VERSION}", environment)
    shutil.rmtree(tools_dir() / "target", ignore_errors=True)
    console.print(f"built oha in {elapsed_text(seconds)} (min:s): {cached}")
    return str(cached)


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
