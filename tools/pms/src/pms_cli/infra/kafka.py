"""The single-node KRaft broker: configure, format once, start, stop."""

import os
from collections.abc import Callable
from pathlib import Path

from pms_cli.infra.console import step
from pms_cli.infra.errors import InfraError
from pms_cli.infra.java import find_java
from pms_cli.infra.kafka_config import (
    HOST,
    load_or_create_cluster_id,
    render_log4j_config,
    render_server_properties,
)
from pms_cli.infra.kafka_download import ensure_kafka_libs
from pms_cli.infra.paths import InfraPaths
from pms_cli.infra.processes import (
    port_in_use,
    process_alive,
    process_cmdline,
    run_command,
    spawn_detached,
    stop_process_group,
    tail,
)

BROKER_MAIN = "kafka.Kafka"
STORAGE_TOOL_MAIN = "kafka.tools.StorageTool"
BROKER_HEAP = ("-Xms256m", "-Xmx768m")
STOP_GRACE_SECONDS = 20.0


def running_kafka_pid(paths: InfraPaths) -> int | None:
    """The broker's pid if the pid file names a live Kafka process (not a recycled pid)."""
    try:
        pid = int(paths.kafka_pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    if process_alive(pid) and BROKER_MAIN in process_cmdline(pid):
        return pid
    return None


def configured_broker_port(paths: InfraPaths) -> int | None:
    """The broker port in the server.properties the running broker was started with."""
    try:
        text = paths.kafka_properties.read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "advertised.listeners":
            port = value.strip().rpartition(":")[2]
            return int(port) if port.isdigit() else None
    return None


def _java_options(paths: InfraPaths, libs: Path) -> list[str]:
    return [
        f"-Dlog4j2.configurationFile={paths.kafka_log4j_config}",
        f"-Dkafka.logs.dir={paths.kafka_logs_dir}",
        "-Djava.awt.headless=true",
        "-cp",
        f"{libs}/*",
    ]


async def format_storage(java: str, paths: InfraPaths, libs: Path) -> None:
    """Format the log folder once; ``--ignore-formatted`` keeps a repeat harmless."""
    if (paths.kafka_data_dir / "meta.properties").is_file():
        return
    cluster_id = load_or_create_cluster_id(paths.kafka_cluster_id_file)
    step("formatting Kafka storage")
    result = await run_command(
        [
            java,
            "-Xmx256m",
            "-XX:TieredStopAtLevel=1",
            *_java_options(paths, libs),
            STORAGE_TOOL_MAIN,
            "format",
            # Joined with "=": an id saved by an older launcher may start with "-".
            f"--cluster-id={cluster_id}",
            "-c",
            str(paths.kafka_properties),
            "--ignore-formatted",
        ],
        time_limit=120,
    )
    if result.returncode != 0:
        raise InfraError(f"formatting Kafka storage failed:\n{result.output.strip()}")


def _check_ports(broker_port: int, controller_port: int) -> None:
    for port, variable in (
        (broker_port, "PMS_INFRA_KAFKA_PORT"),
        (controller_port, "PMS_INFRA_KAFKA_CONTROLLER_PORT"),
    ):
        if port_in_use(HOST, port):
            raise InfraError(
                f"port {port} on {HOST} is already in use by another program: set "
                f"{variable} to a free port, or PMS_KAFKA_BOOTSTRAP_SERVERS to use that broker"
            )


async def start_local_kafka(
    paths: InfraPaths,
    *,
    cache_dir: Path,
    version: str,
    broker_port: int,
    controller_port: int,
    on_launch: Callable[[], None],
) -> tuple[int, str]:
    """Fetch (once), configure, format (once) and launch the broker; returns (pid, version).

    The broker is only launched here; the caller waits for it to answer.
    """
    _check_ports(broker_port, controller_port)
    java = await find_java()
    libs, resolved = await ensure_kafka_libs(cache_dir, version)
    for directory in (paths.kafka_dir, paths.kafka_data_dir, paths.kafka_logs_dir):
        directory.mkdir(parents=True, exist_ok=True)
    paths.kafka_properties.write_text(
        render_server_properties(paths.kafka_data_dir, broker_port, controller_port),
        encoding="utf-8",
    )
    paths.kafka_log4j_config.write_text(render_log4j_config(paths.kafka_logs_dir), encoding="utf-8")
    await format_storage(java, paths, libs)

    step(f"starting Kafka {resolved} on {HOST}:{broker_port}")
    on_launch()
    pid = spawn_detached(
        [
            java,
            *BROKER_HEAP,
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError",
            *_java_options(paths, libs),
            BROKER_MAIN,
            str(paths.kafka_properties),
        ],
        log_file=paths.kafka_console_log,
        env=os.environ,
    )
    paths.kafka_pid_file.write_text(f"{pid}\n")
    return pid, resolved


def kafka_log_hint(paths: InfraPaths) -> str:
    """The last lines of the broker's logs, for error messages."""
    server_log = paths.kafka_logs_dir / "server.log"
    lines = tail(paths.kafka_console_log, 10) or tail(server_log, 10)
    return f" Last lines of {paths.kafka_console_log}:\n{lines}" if lines else ""


async def stop_local_kafka(paths: InfraPaths) -> bool:
    """SIGTERM the broker's process group, SIGKILL after a grace; ``False`` if not running."""
    pid = running_kafka_pid(paths)
    if pid is None:
        paths.kafka_pid_file.unlink(missing_ok=True)
        return False
    await stop_process_group(pid, grace=STOP_GRACE_SECONDS)
    paths.kafka_pid_file.unlink(missing_ok=True)
    return True
