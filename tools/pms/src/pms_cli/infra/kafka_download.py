"""Fetch the Apache Kafka broker jars from Maven Central once, into a shared cache."""

import asyncio
import json
import re
import shutil
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

from pms_cli.infra.console import step, warn
from pms_cli.infra.errors import InfraError
from pms_cli.infra.processes import run_command
from pms_cli.infra.state import exclusive_lock

LOG4J_VERSION = "2.25.5"
"""Kafka's artifact brings no logging backend; log4j-slf4j-impl binds its SLF4J 1 API."""
NEWEST_4X_RANGE = "[4.0.0,5.0.0)"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
DOWNLOAD_TIMEOUT_SECONDS = 900
_KAFKA_JAR = re.compile(r"^kafka_2\.13-(4\.\d+\.\d+)\.jar$")


def kafka_home(cache_dir: Path, version: str) -> Path:
    return cache_dir / f"kafka-{version}"


def libs_dir(home: Path) -> Path:
    return home / "libs"


def render_pom(
    kafka_version: str, log4j_version: str = LOG4J_VERSION, *, tools: bool = False
) -> str:
    """A pom of packaging ``pom`` whose runtime dependencies are the broker's classpath
    (with ``tools``, also the command-line tools' kafka-tools, for the container image)."""
    dependencies = [
        ("org.apache.kafka", "kafka_2.13", kafka_version),
        ("org.apache.logging.log4j", "log4j-api", log4j_version),
        ("org.apache.logging.log4j", "log4j-core", log4j_version),
        ("org.apache.logging.log4j", "log4j-slf4j-impl", log4j_version),
    ]
    if tools:
        dependencies.insert(1, ("org.apache.kafka", "kafka-tools", kafka_version))
    entries = "\n".join(
        "    <dependency>"
        f"<groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
        f"<version>{escape(version)}</version>"
        "</dependency>"
        for group, artifact, version in dependencies
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.pms</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
{entries}
  </dependencies>
</project>
"""


def resolved_version(libs: Path) -> str | None:
    """The Kafka version of a downloaded ``libs`` folder (from the kafka_2.13 jar name)."""
    for jar in libs.glob("kafka_2.13-*.jar"):
        match = _KAFKA_JAR.match(jar.name)
        if match:
            return match.group(1)
    return None


def _memo_file(cache_dir: Path) -> Path:
    return cache_dir / "kafka-resolved.json"


def _read_memo(cache_dir: Path) -> dict[str, str]:
    try:
        data = json.loads(_memo_file(cache_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(key): str(value) for key, value in dict(data).items()}


def _write_memo(cache_dir: Path, requested: str, resolved: str) -> None:
    memo = _read_memo(cache_dir) | {requested: resolved}
    _memo_file(cache_dir).write_text(json.dumps(memo, indent=2) + "\n", encoding="utf-8")


def _cached(cache_dir: Path, version: str) -> Path | None:
    home = kafka_home(cache_dir, version)
    # A cache folder only ever appears by an atomic rename of a finished download.
    return home if resolved_version(libs_dir(home)) == version else None


def _install(scratch: Path, cache_dir: Path, version: str) -> Path:
    """Move a finished download into place with one atomic rename."""
    home = kafka_home(cache_dir, version)
    if _cached(cache_dir, version) is None:
        shutil.rmtree(home, ignore_errors=True)
        scratch.rename(home)
    return home


def _maven(cache_dir: Path) -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise InfraError(
            f"Maven is needed to fetch Kafka once into {cache_dir}: install it "
            "(e.g. apt-get install maven) or set PMS_KAFKA_BOOTSTRAP_SERVERS"
        )
    return mvn


async def _download(cache_dir: Path, requested: str) -> tuple[Path | None, str]:
    """Run Maven in a scratch folder; returns (finished home or None, Maven's output)."""
    mvn = _maven(cache_dir)
    scratch = Path(tempfile.mkdtemp(prefix=".kafka-download-", dir=cache_dir))
    try:
        (scratch / "pom.xml").write_text(render_pom(requested), encoding="utf-8")
        result = await run_command(
            [
                mvn, "-q", "-B", "-Dstyle.color=never",
                "-f", str(scratch / "pom.xml"),
                f"{DEPENDENCY_PLUGIN}:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={libs_dir(scratch)}",
            ],
            time_limit=DOWNLOAD_TIMEOUT_SECONDS,
            cwd=scratch,
        )  # fmt: skip
        version = resolved_version(libs_dir(scratch))
        if result.returncode != 0 or version is None:
            return None, result.output
        return _install(scratch, cache_dir, version), result.output
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


async def ensure_kafka_libs(cache_dir: Path, requested: str) -> tuple[Path, str]:
    """The ``libs`` folder and version of Kafka ``requested`` (or the newest 4.x that resolves).

    Downloads at most once per cache: later calls find the finished folder.
    """
    await asyncio.to_thread(cache_dir.mkdir, parents=True, exist_ok=True)
    async with exclusive_lock(cache_dir / "kafka-download.lock"):
        version = _read_memo(cache_dir).get(requested, requested)
        home = _cached(cache_dir, version)
        if home is not None:
            return libs_dir(home), version

        _maven(cache_dir)
        step(f"fetching Apache Kafka {requested} from Maven Central into {cache_dir} (once)")
        home, output = await _download(cache_dir, requested)
        if home is None:
            errors = [line for line in output.splitlines() if line.startswith("[ERROR] ")]
            reason = errors[0].removeprefix("[ERROR] ") if errors else output.strip()[-300:]
            warn(f"Kafka {requested} did not resolve ({reason}); trying the newest 4.x")
            home, output = await _download(cache_dir, NEWEST_4X_RANGE)
        if home is None:
            raise InfraError(
                "could not fetch Apache Kafka from Maven Central with Maven; its last words:\n"
                + "\n".join(output.strip().splitlines()[-15:])
                + "\nCheck the network or ~/.m2/settings.xml, or set PMS_KAFKA_BOOTSTRAP_SERVERS"
            )
        version = resolved_version(libs_dir(home)) or requested
        if version != requested:
            _write_memo(cache_dir, requested, version)
        step(f"Kafka {version} cached in {home}")
        return libs_dir(home), version
