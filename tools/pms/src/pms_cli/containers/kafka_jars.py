"""The Kafka image's jars: the launcher's Maven Central download plus kafka-tools.

The broker's classpath is the launcher's (``render_pom``, the same Kafka and log4j
versions); the image also has the command-line tools (``kafka-topics.sh``,
``kafka-broker-api-versions.sh``) that deploy/compose.yaml runs, so kafka-tools and its
dependencies join it. Fetched once into the cache, ``kafka-image-<version>/libs``.
"""

import shutil
import tempfile
from pathlib import Path

from pms_cli.containers.engine import Runner, require
from pms_cli.infra.kafka_download import DEPENDENCY_PLUGIN, render_pom, resolved_version

DOWNLOAD_TIMEOUT_SECONDS = 900.0


def image_libs_dir(cache_dir: Path, version: str) -> Path:
    return cache_dir / f"kafka-image-{version}" / "libs"


def ensure_image_jars(run: Runner, cache_dir: Path, version: str) -> Path:
    libs = image_libs_dir(cache_dir, version)
    if resolved_version(libs) == version and any(libs.glob("kafka-tools-*.jar")):
        return libs
    mvn = shutil.which("mvn") or "mvn"
    cache_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".kafka-image-", dir=cache_dir))
    try:
        (scratch / "pom.xml").write_text(render_pom(version, tools=True), encoding="utf-8")
        require(
            run(
                [mvn, "-q", "-B", "-Dstyle.color=never", "-f", str(scratch / "pom.xml"),
                 f"{DEPENDENCY_PLUGIN}:copy-dependencies", "-DincludeScope=runtime",
                 f"-DoutputDirectory={scratch / 'libs'}"],
                timeout=DOWNLOAD_TIMEOUT_SECONDS,
            ),
            f"fetching Apache Kafka {version} and its tools from Maven Central",
        )  # fmt: skip
        shutil.rmtree(libs.parent, ignore_errors=True)
        libs.parent.mkdir(parents=True)
        (scratch / "libs").rename(libs)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return libs
