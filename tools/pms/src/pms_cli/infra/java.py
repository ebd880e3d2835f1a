"""Find a Java runtime new enough for the Kafka 4 broker."""

import os
import re
import shutil
from pathlib import Path

from pms_cli.infra.errors import InfraError
from pms_cli.infra.processes import run_command

MINIMUM_JAVA = 17
_MISSING = (
    f"Kafka needs Java {MINIMUM_JAVA} or newer; install it (e.g. apt-get install "
    "openjdk-17-jre-headless) or set PMS_KAFKA_BOOTSTRAP_SERVERS"
)


def parse_java_major(version_output: str) -> int | None:
    """17 from ``openjdk version "17.0.15" ...``; 8 from the old ``"1.8.0_392"`` scheme."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if match is None:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2) is not None:
        return int(match.group(2))
    return major


def _java_executable() -> str | None:
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("java")


async def find_java() -> str:
    """The path of a ``java`` of version 17 or newer, or a clear error."""
    java = _java_executable()
    if java is None:
        raise InfraError(_MISSING)
    result = await run_command([java, "-version"], time_limit=30)
    major = parse_java_major(result.output)
    if result.returncode != 0 or major is None or major < MINIMUM_JAVA:
        found = result.output.strip().splitlines()[:1]
        raise InfraError(f"{_MISSING} (found: {found[0] if found else java})")
    return java
