"""The Compose stack under podman-compose: created at once, started stage by stage, torn
down to nothing (containers, volumes, network) whatever happened before."""

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pms_cli.containers.engine import EngineError, Runner, require
from pms_cli.containers.plan import HealthCheck, ServicePlan, container_name, start_stages

PROJECT_LABEL = "io.podman.compose.project"
ONE_SHOT_TIMEOUT_SECONDS = 600.0
LOG_TAIL_LINES = "40"


@dataclass
class Stack:
    run: Runner
    project: str
    compose_files: Sequence[Path]
    plans: Mapping[str, ServicePlan]
    log: Callable[[str], None]
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    started: list[str] = field(default_factory=list)
    up_since: float = 0.0

    def compose(self, *args: str) -> list[str]:
        files = [part for path in self.compose_files for part in ("-f", str(path))]
        return ["podman-compose", "--project-name", self.project, *files, *args]

    def name(self, service: str) -> str:
        return container_name(self.project, service)

    def up(self) -> None:
        """Create every container, then start each stage once the previous is ready."""
        require(
            self.run(self.compose("up", "--no-start", "--no-build"), timeout=600),
            "podman-compose up --no-start",
        )
        self.up_since = self.clock()
        for stage in start_stages(self.plans):
            names = [self.name(service) for service in stage]
            require(self.run(["podman", "start", *names], timeout=120), f"starting {stage}")
            self.started += stage
            for service in stage:
                self.wait_ready(self.plans[service])

    def wait_ready(self, plan: ServicePlan) -> None:
        name = self.name(plan.name)
        if plan.one_shot:
            waited = self.run(["podman", "wait", name], timeout=ONE_SHOT_TIMEOUT_SECONDS)
            code = waited.stdout.strip()
            if not waited.ok or code != "0":
                self.fail(plan.name, f"exited with {code or waited.last_words()}")
            self.log(f"{plan.name} finished at {self.elapsed()}")
        elif plan.health is not None:
            self.wait_healthy(plan.name, plan.health)
            self.log(f"{plan.name} healthy at {self.elapsed()}")

    def elapsed(self) -> str:
        return f"+{self.clock() - self.up_since:.0f} s"

    def wait_healthy(self, service: str, health: HealthCheck) -> None:
        """Run the service's health check inside it until it passes (or time runs out)."""
        name = self.name(service)
        deadline = self.clock() + health.deadline_seconds
        poll = min(health.interval, 2.0)
        last = ""
        while True:
            check = self.run(["podman", "exec", name, *health.argv], timeout=health.timeout + 5)
            if check.ok:
                return
            last = check.last_words(2)
            state = self.run(["podman", "inspect", "--format", "{{.State.Status}}", name])
            if state.ok and state.stdout.strip() in ("exited", "dead"):
                self.fail(service, f"stopped before it was healthy ({last})")
            if self.clock() >= deadline:
                self.fail(service, f"not healthy within {health.deadline_seconds:.0f} s ({last})")
            self.sleep(poll)

    def fail(self, service: str, why: str) -> None:
        logs = self.run(["podman", "logs", "--tail", LOG_TAIL_LINES, self.name(service)])
        self.log(f"--- the last lines of {service}:\n{logs.stdout}{logs.stderr}---")
        raise EngineError(f"{service} {why}")

    def save_logs(self, directory: Path) -> list[Path]:
        """Every started container's whole log, one file each in ``directory`` (a failed
        suite's evidence: the stack is torn down right after)."""
        directory.mkdir(parents=True, exist_ok=True)
        saved: list[Path] = []
        for service in self.started:
            logs = self.run(["podman", "logs", self.name(service)], timeout=60)
            path = directory / f"{service}.log"
            path.write_text(logs.stdout + logs.stderr, encoding="utf-8")
            saved.append(path)
        return saved

    def down(self) -> list[str]:
        """Remove all of the project; what could not be removed (empty when clean)."""
        self.run(self.compose("down", "--volumes", "--timeout", "10"), timeout=300)
        label = f"label={PROJECT_LABEL}={self.project}"
        containers = self.listed(["podman", "ps", "--all", "--filter", label])
        if containers:
            self.run(["podman", "rm", "--force", "--time", "5", *containers], timeout=120)
        volumes = self.listed(["podman", "volume", "ls", "--filter", label])
        if volumes:
            self.run(["podman", "volume", "rm", "--force", *volumes], timeout=120)
        networks = self.project_networks()
        if networks:
            self.run(["podman", "network", "rm", "--force", *networks], timeout=120)
        return self.leftovers()

    def listed(self, argv: list[str]) -> list[str]:
        fmt = "{{.Name}}" if argv[1] == "volume" else "{{.Names}}"
        result = self.run([*argv, "--format", fmt])
        return [line for line in result.stdout.split() if line] if result.ok else []

    def project_networks(self) -> list[str]:
        result = self.run(["podman", "network", "ls", "--format", "{{.Name}}"])
        names = result.stdout.split() if result.ok else []
        return [name for name in names if name.startswith(f"{self.project}_")]

    def leftovers(self) -> list[str]:
        label = f"label={PROJECT_LABEL}={self.project}"
        return [
            *(f"container {n}" for n in self.listed(["podman", "ps", "--all", "--filter", label])),
            *(f"volume {n}" for n in self.listed(["podman", "volume", "ls", "--filter", label])),
            *(f"network {n}" for n in self.project_networks()),
        ]
