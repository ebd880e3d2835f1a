"""Services as child processes, the way users run them, and ports for servers that a
test or a benchmark starts."""

import asyncio
import os
import socket
import sys
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port that nothing listens on right now (for servers started by a test)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def reserve_port() -> socket.socket:
    """A socket bound to a free port and not listening: connections to it are refused,
    and nobody else takes the port until it is closed."""
    reserved = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    reserved.bind(("127.0.0.1", 0))
    return reserved


class ServiceProcess:
    """A service run the way users run it (``python -m pms_<name> serve``) as a child
    process, which a test can stop and start again to play an outage. Its output is
    discarded unless ``quiet`` is false, or written to ``log_file`` when given."""

    def __init__(
        self,
        module: str,
        http_port: int,
        env: dict[str, str],
        *,
        quiet: bool = True,
        log_file: Path | None = None,
    ) -> None:
        self.module = module
        self.http_port = http_port
        self.env = {**os.environ, **env}
        self.quiet = quiet
        self.log_file = log_file
        self.process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.module} is not running")
        return self.process.pid

    async def start(self, ready_path: str = "/health/live", ready_within: float = 30.0) -> None:
        """Start the process and wait (at most ``ready_within`` seconds) until ``ready_path``
        answers 200."""
        output: int | None = asyncio.subprocess.DEVNULL if self.quiet else None
        if self.log_file is not None:
            with self.log_file.open("ab") as log:  # the child keeps its own descriptor
                self.process = await self._spawn(log.fileno())
        else:
            self.process = await self._spawn(output)
        url = f"http://127.0.0.1:{self.http_port}{ready_path}"
        async with httpx.AsyncClient(timeout=1.0) as client, asyncio.timeout(ready_within):
            while True:
                if self.process.returncode is not None:
                    raise RuntimeError(f"{self.module} exited with {self.process.returncode}")
                try:
                    if (await client.get(url)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)

    async def _spawn(self, output: int | None) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", self.module, "serve", env=self.env, stdout=output, stderr=output
        )

    async def stop(self) -> None:
        """SIGTERM, as an orchestrator would, and wait for the graceful exit."""
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()
        self.process = None
