"""The private PostgreSQL cluster: initialise once, start, check, stop."""

import asyncio
import contextlib
import hashlib
import os
import pwd
import shutil
import signal
import stat
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from pms_cli.infra.console import step, warn
from pms_cli.infra.errors import InfraError
from pms_cli.infra.paths import InfraPaths
from pms_cli.infra.postgres_binaries import PostgresBinaries, find_postgres_binaries
from pms_cli.infra.processes import (
    port_in_use,
    process_alive,
    run_command,
    tail,
    wait_until_gone,
)
from pms_cli.infra.urls import LOCAL_PASSWORD, LOCAL_USER

START_TIMEOUT_SECONDS = 30
MAX_CONNECTIONS = 200
FALLBACK_SERVER_USER = "pms_postgres"
# Unix socket paths are limited to about 107 bytes; leave room for ".s.PGSQL.NNNNN".
MAX_SOCKET_DIR_LENGTH = 90


def running_postmaster(paths: InfraPaths) -> tuple[int, int] | None:
    """``(pid, port)`` of the cluster's postmaster if it runs (from ``postmaster.pid``)."""
    try:
        lines = (paths.postgres_data_dir / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    return (pid, port) if process_alive(pid) else None


def socket_dir(paths: InfraPaths) -> Path:
    """The socket folder inside the state folder, or a short one under /tmp for deep paths."""
    preferred = paths.postgres_socket_dir
    if len(str(preferred)) <= MAX_SOCKET_DIR_LENGTH:
        return preferred
    digest = hashlib.sha256(str(preferred).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"pms-pg-{digest}"


def render_server_settings(port: int, socket_directory: Path) -> str:
    """``pms.conf``, included by postgresql.conf and rewritten on every start."""

    def quoted(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    return "\n".join(
        [
            "# Written by `pms infra up` on every start: change the launcher, not this file.",
            "listen_addresses = '127.0.0.1'",
            f"port = {port}",
            f"unix_socket_directories = {quoted(str(socket_directory))}",
            f"max_connections = {MAX_CONNECTIONS}",
            "password_encryption = 'scram-sha-256'",
            # A development cluster: a crash may lose the last commits but never corrupts.
            "synchronous_commit = off",
            "timezone = 'UTC'",
            "log_timezone = 'UTC'",
            "log_line_prefix = '%m [%p] %q%u@%d '",
            # No DETAIL, HINT or CONTEXT lines in the server's log: a unique violation's
            # DETAIL quotes the row's values ("Key (lower(email))=(...) already exists").
            "log_error_verbosity = terse",
            "",
        ]
    )


async def _server_user() -> str | None:
    """The system user to run the server as when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", FALLBACK_SERVER_USER):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    step(f"creating system user {FALLBACK_SERVER_USER} to run PostgreSQL")
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    result = await run_command(
        [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
         FALLBACK_SERVER_USER]
    )  # fmt: skip
    if result.returncode != 0:
        raise InfraError(f"could not create user {FALLBACK_SERVER_USER}: {result.output.strip()}")
    return FALLBACK_SERVER_USER


def _runuser() -> str:
    # sbin folders are often missing from PATH outside a login shell.
    for candidate in (shutil.which("runuser"), "/usr/sbin/runuser", "/sbin/runuser"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise InfraError("runuser (util-linux) is needed to run PostgreSQL as another user")


def _as_user(argv: Sequence[str], user: str | None) -> list[str]:
    return [_runuser(), "-u", user, "--", *argv] if user else list(argv)


def _give_to(path: Path, user: str | None) -> None:
    if user is None:
        return
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _ensure_traversable(path: Path, user: str) -> None:
    """Let the server's user pass through every parent folder it does not own."""
    uid = pwd.getpwnam(user).pw_uid
    for directory in reversed(path.parents):
        info = directory.stat()
        mode = info.st_mode
        if info.st_uid != uid and not mode & stat.S_IXOTH:
            warn(f"adding o+x to {directory} so the PostgreSQL user can reach its files")
            directory.chmod(mode | stat.S_IXOTH)


def _prepare_folders(paths: InfraPaths, socket_directory: Path, user: str | None) -> None:
    for directory in (paths.postgres_dir, socket_directory):
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o700)
        _give_to(directory, user)
    paths.postgres_log.parent.mkdir(parents=True, exist_ok=True)
    paths.postgres_log.touch(mode=0o640, exist_ok=True)
    _give_to(paths.postgres_log, user)
    if user is not None:
        _ensure_traversable(paths.postgres_dir, user)
        _ensure_traversable(socket_directory, user)


async def _initdb(binaries: PostgresBinaries, paths: InfraPaths, user: str | None) -> None:
    """Create the cluster in a scratch folder and rename it, so a half-done initdb never counts."""
    scratch = paths.postgres_dir / "data.initdb-tmp"
    shutil.rmtree(scratch, ignore_errors=True)
    password_file = paths.postgres_dir / ".initdb-password"
    password_file.write_text(LOCAL_PASSWORD + "\n")
    password_file.chmod(0o600)
    _give_to(password_file, user)
    step(f"initialising PostgreSQL {'.'.join(map(str, binaries.version))} ({binaries.source})")
    try:
        result = await run_command(
            _as_user(
                [
                    binaries.program("initdb"),
                    "-D", str(scratch),
                    "-U", LOCAL_USER,
                    f"--pwfile={password_file}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                ],
                user,
            ),
            cwd=paths.postgres_dir,
            time_limit=120,
        )  # fmt: skip
    finally:
        password_file.unlink(missing_ok=True)
    if result.returncode != 0:
        raise InfraError(f"initdb failed:\n{result.output.strip()}")
    with (scratch / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write("\ninclude_if_exists = 'pms.conf'\n")
    scratch.rename(paths.postgres_data_dir)


async def start_local_postgres(
    paths: InfraPaths,
    *,
    port: int,
    configured_bin_dir: Path | None,
    on_launch: Callable[[], None],
) -> int:
    """Initialise (once) and start the private cluster; returns the postmaster pid.

    ``on_launch`` is called just before the server is launched, so a caller that is
    interrupted afterwards knows it has something to stop.
    """
    if port_in_use("127.0.0.1", port):
        raise InfraError(
            f"port {port} on 127.0.0.1 is already in use by another program: set "
            "PMS_INFRA_POSTGRES_PORT to a free port, or PMS_POSTGRES_URL to use that server"
        )
    binaries = await asyncio.to_thread(find_postgres_binaries, configured_bin_dir)
    user = await _server_user()
    socket_directory = socket_dir(paths)
    _prepare_folders(paths, socket_directory, user)
    if user is not None:
        _ensure_traversable(binaries.bin_dir / "initdb", user)
    if not (paths.postgres_data_dir / "PG_VERSION").is_file():
        await _initdb(binaries, paths, user)
    settings_file = paths.postgres_data_dir / "pms.conf"
    settings_file.write_text(render_server_settings(port, socket_directory), encoding="utf-8")
    _give_to(settings_file, user)

    step(f"starting PostgreSQL on 127.0.0.1:{port}")
    on_launch()
    result = await run_command(
        _as_user(
            [
                binaries.program("pg_ctl"),
                "-D", str(paths.postgres_data_dir),
                "-l", str(paths.postgres_log),
                "-w", "-t", str(START_TIMEOUT_SECONDS),
                "start",
            ],
            user,
        ),
        cwd=paths.postgres_dir,
        time_limit=START_TIMEOUT_SECONDS + 10,
    )  # fmt: skip
    running = running_postmaster(paths)
    if result.returncode != 0 or running is None:
        raise InfraError(
            "PostgreSQL did not start; last lines of "
            f"{paths.postgres_log}:\n{tail(paths.postgres_log) or result.output.strip()}"
        )
    return running[0]


async def stop_local_postgres(paths: InfraPaths) -> bool:
    """Stop the private cluster like ``pg_ctl stop -m fast``; ``False`` if it was not running.

    SIGINT is PostgreSQL's "fast shutdown" request, exactly what pg_ctl sends; signalling
    directly needs neither the binaries nor a user switch. SIGQUIT, then SIGKILL, are the
    fallbacks if it hangs.
    """
    running = running_postmaster(paths)
    if running is None:
        return False
    pid = running[0]
    for sig, wait in ((signal.SIGINT, 30.0), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        if await wait_until_gone(pid, wait):
            break
    return True
