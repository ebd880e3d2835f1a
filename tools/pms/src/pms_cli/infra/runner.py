"""`pms infra run -- CMD`: run a command against the infra, then stop what this run started."""

import asyncio
import os
import shutil
import signal
from collections.abc import Mapping, Sequence

from pms_cli.infra.context import load_context
from pms_cli.infra.errors import InfraError
from pms_cli.infra.manager import InfraEndpoints, ensure_infra, stop_infra

FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def exit_code(returncode: int) -> int:
    """A shell-style exit code: 128 + N when the command was killed by signal N."""
    return 128 - returncode if returncode < 0 else returncode


async def _run_command(command: Sequence[str], environment: dict[str, str]) -> int:
    try:
        process = await asyncio.create_subprocess_exec(*command, env=environment)
    except (FileNotFoundError, PermissionError) as problem:
        raise InfraError(f"cannot run {command[0]!r}: {problem.strerror}") from None
    loop = asyncio.get_running_loop()
    for sig in FORWARDED_SIGNALS:
        loop.add_signal_handler(sig, process.send_signal, sig)
    try:
        return exit_code(await process.wait())
    finally:
        for sig in FORWARDED_SIGNALS:
            loop.remove_signal_handler(sig)


async def run_with_infra(command: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    """Start (or reuse) the infra, run ``command`` with its addresses, stop what we started.

    ``environ`` (the process environment by default) chooses the infra (its ports, state
    folder, external servers) and is the environment ``command`` runs in.

    Ctrl-C while the command runs reaches the command straight from the terminal (it is in
    our foreground process group), so we ignore it and wait for the command to finish,
    then clean up. SIGTERM and SIGHUP are forwarded to the command.
    """
    if shutil.which(command[0]) is None:
        raise InfraError(f"command not found: {command[0]}")
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    environment = dict(os.environ if environ is None else environ)
    state_dir = load_context(None, environment).paths.state_dir
    endpoints: InfraEndpoints | None = None
    # While starting, SIGTERM interrupts like Ctrl-C does, and what was launched is stopped.
    loop.add_signal_handler(signal.SIGTERM, main.cancel)
    try:
        endpoints = await ensure_infra(state_dir=state_dir, environ=environment)
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
    loop.add_signal_handler(signal.SIGINT, lambda: None)
    try:
        return await _run_command(command, {**environment, **endpoints.environment()})
    finally:
        await stop_infra(endpoints.started, state_dir=state_dir)
        loop.remove_signal_handler(signal.SIGINT)
