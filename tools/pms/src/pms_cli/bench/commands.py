"""``pms bench``: run the benchmark suite and write its results under ``bench/results/``."""

import json
from pathlib import Path

import typer
from rich.console import Console

from pms_cli.bench.interrupts import BenchInterruptedError, run_until_signal
from pms_cli.bench.plan import SCENARIOS, BenchOptions, default_target, parse_scenarios
from pms_cli.bench.platform_control import PlatformBusyError, TargetNotReadyError
from pms_cli.bench.procs import WatchError, parse_named_numbers
from pms_cli.bench.report import render_markdown, write_results
from pms_cli.bench.runner import BenchRun
from pms_cli.bench.targets import check_targets
from pms_cli.bench.tools import ToolMissingError
from pms_cli.infra.paths import find_repo_root

bench_app = typer.Typer(
    help="Benchmark the platform (or any implementation of its public API).",
    no_args_is_help=False,
)


CANNOT_RUN = (TargetNotReadyError, PlatformBusyError, WatchError, ToolMissingError)
"""Errors that stop a run before it measures: one line, exit code 1, no traceback."""


def _default_out_dir() -> Path:
    return find_repo_root() / "bench" / "results"


def _plot(results: dict[str, object], path: Path, console: Console) -> Path | None:
    try:
        from pms_cli.bench.plot import plot_latency_throughput
    except ImportError:
        console.print("[yellow]matplotlib is not installed: no PNG plot[/yellow]")
        return None
    return plot_latency_throughput(results, path)


def _write(results: dict[str, object], out_dir: Path, stem: str, console: Console) -> None:
    written = write_results(results, out_dir, stem)
    for name in (stem, "latest"):
        plotted = _plot(results, out_dir / f"{name}.png", console)
        if plotted is not None:
            written.append(plotted)
    print(render_markdown(results))  # plain Markdown on stdout, unwrapped
    console.print("Written: " + ", ".join(str(path) for path in written))


@bench_app.callback(invoke_without_command=True)
def bench(
    quick: bool = typer.Option(False, "--quick", help="Short runs: done in under two minutes."),
    target: str | None = typer.Option(
        None,
        help="Base URL of the public API (the gateway): ours, or another implementation's "
        "(no /health/ready: ready when a login and GET /api/patients answer 200). "
        "Default: our gateway, http://127.0.0.1:4004 (moved by PMS_PORT_OFFSET).",
    ),
    user: str = typer.Option("testuser@test.com", help="Login email (must read and create)."),
    password: str = typer.Option("password123", help="Login password."),
    scenarios: str = typer.Option("all", help="Comma-separated subset of: " + ", ".join(SCENARIOS)),
    patients_url: str | None = typer.Option(
        None, help="The patients service itself, for read-direct (default: ours, if local)."
    ),
    auth_url: str | None = typer.Option(
        None, help="The auth service itself, for logins without the gateway's limits."
    ),
    postgres_url: str | None = typer.Option(
        None, help="PostgreSQL admin URL for the ceiling (default: the local infra)."
    ),
    out: Path | None = typer.Option(None, help="Results folder (default: bench/results)."),
    start: bool = typer.Option(
        True, help="Start the platform (rate limits off) when nothing answers at the target."
    ),
    profile: bool = typer.Option(False, help="Also profile gateway and patients (py-spy)."),
    seconds: float | None = typer.Option(None, help="Length of each load run (s)."),
    events_rate: float | None = typer.Option(
        None, help="Creates per second in the events scenario (default: 80 % of the create peak)."
    ),
    min_patients: int = typer.Option(
        1000, help="Register patients first until the list has at least this many."
    ),
    install_oha: bool = typer.Option(
        True, help="Build oha with cargo if missing (else fixed-rate runs are skipped)."
    ),
    cleanup: bool = typer.Option(
        False, help="At the end, delete this run's patients through the API (seeds kept)."
    ),
    purge: bool = typer.Option(
        False, help="Only delete every patient the bench ever registered (seeds kept), then stop."
    ),
    render: Path | None = typer.Option(
        None, help="Only render a saved result JSON again (Markdown and PNG)."
    ),
    watch_port: list[str] = typer.Option(
        [],
        metavar="NAME=PORT",
        help="Report RSS and CPU of the processes listening on PORT as NAME (repeatable).",
    ),
    watch_pid: list[str] = typer.Option(
        [],
        metavar="NAME=PID",
        help="Report RSS and CPU of process PID as NAME (repeatable), e.g. a JVM.",
    ),
) -> None:
    """Start the platform if needed, warm it up, run the scenarios, write JSON, Markdown
    and a latency-versus-throughput PNG under bench/results/."""
    console = Console(stderr=True)
    out_dir = out or _default_out_dir()
    if render is not None:
        results = json.loads(render.read_text())
        _write(results, render.parent, render.stem, console)
        return
    try:
        chosen = parse_scenarios(scenarios)
        watch_ports = parse_named_numbers(watch_port, "PORT")
        watch_pids = parse_named_numbers(watch_pid, "PID")
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    options = BenchOptions(
        target=target or default_target(),
        user=user,
        password=password,
        quick=quick,
        scenarios=chosen,
        patients_url=patients_url,
        auth_url=auth_url,
        postgres_url=postgres_url,
        out_dir=out_dir,
        start_platform=start,
        profile=profile,
        seconds=seconds,
        events_rate=events_rate,
        min_patients=min_patients,
        install_oha=install_oha,
        cleanup=cleanup,
        watch_ports=watch_ports,
        watch_pids=watch_pids,
    )
    run = BenchRun(options, console)
    try:
        if purge:
            run_until_signal(run.purge())
            return
        results = run_until_signal(run.run())
    except BenchInterruptedError as interrupted:
        console.print(
            f"[red]bench interrupted by {interrupted.signal_name}: no results written; "
            "what it started is stopped[/red]",
            soft_wrap=True,
        )
        raise typer.Exit(interrupted.exit_code) from None
    except CANNOT_RUN as error:
        console.print(f"[red]bench cannot run: {error}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None
    _write(results, out_dir, run.stem, console)
    missed = [check.name for check in check_targets(results) if check.met is False]
    if missed:
        console.print("[yellow]Targets missed:[/yellow] " + "; ".join(missed))
