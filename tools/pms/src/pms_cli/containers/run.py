"""`pms containers test`: bases, images, the stack, the end-to-end suite, the teardown.

Times and sizes are printed as they come; the teardown runs whatever happened before,
Ctrl-C and SIGTERM included. An engine that cannot run a container fails in one line.
"""

import os
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import yaml

from pms_cli.containers.bases import BaseBuilder, BaseImages
from pms_cli.containers.engine import (
    EngineError,
    Runner,
    SubprocessRunner,
    engine_environ,
    missing_tools,
    require,
    write_containers_conf,
)
from pms_cli.containers.hardening import SUMMARY, verify_hardening
from pms_cli.containers.kafka_jars import ensure_image_jars
from pms_cli.containers.plan import ImageBuild, ServicePlan, image_builds, service_plans
from pms_cli.containers.stack import Stack
from pms_cli.infra.settings import DEFAULT_KAFKA_VERSION, load_settings
from pms_cli.services import SERVICES

PROJECT_ENV = "PMS_CONTAINERS_PROJECT"
"""Set for the end-to-end suite: the project whose containers it runs against."""
DEFAULT_PROJECT = "pms-containers-test"
DEFAULT_PORT_OFFSET = 20000
IMAGE_SIZE_LIMIT_BYTES = 200 * 1000 * 1000
BUILD_ATTEMPTS = 5
CONSOLE_INDEX = Path("console") / "dist" / "index.html"
LOGS_DIR = Path(".pms") / "containers" / "logs"
"""Where a failed suite leaves every container's log (the stack itself is torn down)."""
IMAGE_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
"""Where the local Python base's SSL_CERT_FILE points (Debian's bundle)."""


def host_ca_bundle(environ: Mapping[str, str]) -> Path | None:
    for candidate in (environ.get("SSL_CERT_FILE"), IMAGE_CA_BUNDLE):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@dataclass(frozen=True)
class Options:
    root: Path
    project: str = DEFAULT_PROJECT
    port_offset: int = DEFAULT_PORT_OFFSET
    pytest_args: tuple[str, ...] = ("-m", "e2e", "tests/e2e")


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived: stop, tear down, fail."""


@contextmanager
def signals_raise() -> Iterator[None]:
    arrived: list[int] = []

    def handler(number: int, _frame: FrameType | None) -> None:
        arrived.append(number)
        if len(arrived) == 1:  # later ones would break off the teardown the first began
            raise Interrupted(signal.Signals(number).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def stack_environ(options: Options, bases: BaseImages) -> dict[str, str]:
    """The variables deploy/compose.yaml and compose.containers-test.yaml read."""
    offset = options.port_offset
    env = {
        "PMS_POSTGRES_IMAGE": bases.postgres,
        "PMS_KAFKA_IMAGE": bases.kafka,
        "PMS_GATEWAY_PUBLISHED_PORT": str(4004 + offset),
    }
    for spec in SERVICES:
        if spec.name != "gateway":
            env[f"PMS_CONTAINERS_{spec.name.upper()}_PORT"] = str(spec.http_port + offset)
    return env


def suite_environ(options: Options) -> dict[str, str]:
    """The suite finds the services where the stack publishes them (PMS_<SERVICE>_HTTP_PORT:
    the launcher's own settings; PMS_PORT_OFFSET stops short of these ports)."""
    env = {PROJECT_ENV: options.project}
    for spec in SERVICES:
        env[f"{spec.env_prefix}HTTP_PORT"] = str(spec.http_port + options.port_offset)
    return env


def build_argv(
    build: ImageBuild, root: Path, bases: BaseImages, ca_bundle: Path | None = None
) -> list[str]:
    """``ca_bundle``: the host's CA certificates, lent to the build's steps (uv reaching
    PyPI through a proxy with a CA of its own), never stored in the image."""
    argv = ["podman", "build", "--quiet", "--format", "docker"]
    argv += ["--file", str(root / build.dockerfile)]
    if ca_bundle is not None:
        argv += ["--volume", f"{ca_bundle}:{IMAGE_CA_BUNDLE}:ro"]
    args = {
        **build.args,
        "PYTHON_IMAGE": bases.python,
        "PYTHON_BUILD_IMAGE": bases.python_build,
        "UV_IMAGE": bases.uv,
    }
    for key, value in args.items():
        argv += ["--build-arg", f"{key}={value}"]
    if build.target:
        argv += ["--target", build.target]
    return [*argv, "--tag", build.image, str(root)]


def human_size(size: int) -> str:
    return f"{size / 1e6:.0f} MB"


def image_sizes(run: Runner, images: list[str]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for image in images:
        result = run(["podman", "image", "inspect", "--format", "{{.Size}}", image])
        if result.ok and result.stdout.strip().isdigit():
            sizes[image] = int(result.stdout.strip())
    return sizes


@dataclass
class ContainersTest:
    options: Options
    run: Runner
    log: Callable[[str], None]
    clock: Callable[[], float] = time.monotonic

    def compose_files(self) -> list[Path]:
        deploy = self.options.root / "deploy"
        return [deploy / "compose.yaml", deploy / "compose.containers-test.yaml"]

    def execute(self) -> int:
        root = self.options.root
        if not (root / CONSOLE_INDEX).is_file():
            raise EngineError(f"{CONSOLE_INDEX} is missing: `make console` builds it first")
        compose = yaml.safe_load((root / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
        plans = service_plans(compose)
        started = self.clock()
        bases = self.bases()
        self.log(f"base images ready in {self.clock() - started:.0f} s")
        self.check_engine(bases.debian)
        built = self.clock()
        images = [build.image for build in image_builds(plans)]
        for build in image_builds(plans):
            self.log(f"building {build.image}")
            self.build_image(build_argv(build, root, bases, host_ca_bundle(os.environ)))
        self.log(f"service images built in {self.clock() - built:.0f} s")
        too_big = self.report_sizes([*images, bases.python, bases.postgres, bases.kafka], images)
        if too_big:  # the suite still runs: the run fails at its end, with both verdicts
            budget = human_size(IMAGE_SIZE_LIMIT_BYTES)
            self.log(f"over the {budget} budget of a service image: {', '.join(too_big)}")
        stack = Stack(self.run, self.options.project, self.compose_files(), plans, self.log)
        try:
            with self.stack_env(stack_environ(self.options, bases)):
                stack.down()  # what an earlier run that was killed -9 may have left
                up = self.clock()
                stack.up()
                self.log(f"stack started and healthy in {self.clock() - up:.0f} s")
                self.check_hardening(stack, plans)
                tested = self.clock()
                suite = self.run(
                    ["uv", "run", "pytest", *self.options.pytest_args],
                    capture=False,
                    timeout=3600,
                )
                self.log(f"end-to-end suite finished in {self.clock() - tested:.0f} s")
                if suite.returncode != 0:
                    saved = stack.save_logs(self.options.root / LOGS_DIR)
                    self.log(f"the suite failed: {len(saved)} container logs kept in {LOGS_DIR}")
        finally:
            down = self.clock()
            left = stack.down()
            self.log(f"stack torn down in {self.clock() - down:.0f} s")
            if left:
                raise EngineError("teardown left " + ", ".join(left))
        if too_big:
            raise EngineError(f"over {human_size(IMAGE_SIZE_LIMIT_BYTES)}: {', '.join(too_big)}")
        return suite.returncode

    def check_hardening(self, stack: Stack, plans: Mapping[str, ServicePlan]) -> None:
        """The long-running containers of the images built here (the five services, not
        postgres, kafka or the one-shots) run as compose.yaml declares them: proven inside."""
        services = [name for name, plan in plans.items() if plan.build and not plan.one_shot]
        problems = verify_hardening(self.run, [stack.name(service) for service in services])
        if problems:
            raise EngineError("hardening not in force: " + "; ".join(problems))
        self.log(f"hardening verified in {len(services)} containers: {SUMMARY}")

    def build_image(self, argv: list[str]) -> None:
        """One image; again after a failure (a download refused now and then on the way to
        PyPI: the layers built so far are reused)."""
        image = argv[argv.index("--tag") + 1]
        for attempt in range(1, BUILD_ATTEMPTS + 1):
            result = self.run(argv, timeout=1800)
            if result.ok or attempt == BUILD_ATTEMPTS:
                require(result, f"building {image}")
                return
            self.log(f"building {image} failed ({result.last_words(1)}); again")

    @contextmanager
    def stack_env(self, env: Mapping[str, str]) -> Iterator[None]:
        merged = {**env, **suite_environ(self.options)}
        saved = {key: os.environ.get(key) for key in merged}
        os.environ.update(merged)
        runner_env = getattr(self.run, "environ", None)
        if isinstance(runner_env, dict):
            runner_env.update(merged)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def bases(self) -> BaseImages:
        settings = load_settings()
        builder = BaseBuilder(
            run=self.run,
            root=self.options.root,
            work_dir=self.options.root / ".pms" / "containers" / "work",
            kafka_libs=lambda: ensure_image_jars(
                self.run, settings.cache_dir, DEFAULT_KAFKA_VERSION
            ),
            log=self.log,
        )
        return builder.ensure_all()

    def check_engine(self, image: str) -> None:
        probe = self.run(["podman", "run", "--rm", image, "true"], timeout=120)
        if not probe.ok:
            raise EngineError(
                f"the container engine cannot start a container: {probe.last_words(2)}"
            )

    def report_sizes(self, images: list[str], limited: list[str]) -> list[str]:
        sizes = image_sizes(self.run, images)
        for image, size in sizes.items():
            self.log(f"image {image}: {human_size(size)}")
        return [image for image in limited if sizes.get(image, 0) > IMAGE_SIZE_LIMIT_BYTES]


def containers_test(options: Options, log: Callable[[str], None]) -> int:
    """The whole run; a non-zero exit on any failure, said in one line."""
    missing = missing_tools()
    if missing:
        log(f"containers-test: no container engine here ({', '.join(missing)} missing): "
            "apt-get install podman runc podman-compose debootstrap buildah")  # fmt: skip
        return 1
    conf = write_containers_conf(options.root / ".pms" / "containers" / "containers.conf")
    os.environ["CONTAINERS_CONF"] = str(conf)
    runner = SubprocessRunner(engine_environ(conf))
    test = ContainersTest(options, runner, log)
    started = time.monotonic()
    try:
        with signals_raise():
            code = test.execute()
    except EngineError as problem:
        log(f"containers-test failed: {problem}")
        return 1
    except Interrupted as interrupted:
        log(f"containers-test interrupted by {interrupted}; torn down")
        return 130
    verdict = "passed" if code == 0 else "FAILED"
    log(f"containers-test: {verdict} in {time.monotonic() - started:.0f} s")
    return code
