"""Small process helpers: run a command, spawn a detached server, check and stop it."""

import asyncio
import contextlib
import errno
import os
import signal
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    output: str
    """stdout and stderr interleaved."""


async def run_command(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    time_limit: float = 60.0,
    cwd: Path | None = None,
) -> CommandResult:
    """Run a short command to completion and capture its output."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=dict(env) if env is not None else None,
        cwd=cwd,
    )
    try:
        stdout, _ = await asyncio.wait_for(process.communicate(), time_limit)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise
    return CommandResult(process.returncode or 0, stdout.decode(errors="replace"))


def spawn_detached(argv: Sequence[str], *, log_file: Path, env: Mapping[str, str]) -> int:
    """Start a long-running server in its own session, output appended to ``log_file``.

    A session of its own keeps a terminal's Ctrl-C away from the server (we stop it
    ourselves) and makes its pid the process-group id, so the whole group can be stopped.
    ``posix_spawn`` leaves no ``Popen`` object behind that would complain about a child
    still running when this short-lived CLI exits.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(log_file), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    return os.posix_spawn(argv[0], list(argv), dict(env), file_actions=actions, setsid=True)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state letter follows the parenthesised command name, which may contain spaces.
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie counts as gone; our own exited children are reaped)."""
    if pid <= 0:
        return False
    with contextlib.suppress(ChildProcessError):
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def process_cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


async def wait_until_gone(pid: int, max_wait: float) -> bool:
    """Poll until ``pid`` has exited; ``False`` if it still runs after ``max_wait`` seconds."""
    deadline = time.monotonic() + max_wait
    while process_alive(pid):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.1)
    return True


async def stop_process_group(pid: int, *, grace: float = 20.0) -> None:
    """SIGTERM the process group led by ``pid``, then SIGKILL it after ``grace`` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        if await wait_until_gone(pid, wait):
            return


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on (or holds) ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return error.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def tail(path: Path, lines: int = 15) -> str:
    """The last ``lines`` lines of a log file, or an empty string."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            text = handle.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
