"""A fake podman for the containers run's unit tests: no engine needed."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from pms_cli.containers.engine import Result


@dataclass
class FakePodman:
    """Answers by the command's first three words (``podman exec NAME``), else its first
    two (``podman wait``): the queued results in turn, the last one again; ``0`` otherwise.
    Records every call."""

    answers: dict[str, list[Result]] = field(default_factory=dict)
    calls: list[list[str]] = field(default_factory=list)

    def __call__(
        self,
        argv: Sequence[str],
        *,
        timeout: float | None = None,
        capture: bool = True,
        stdin: bytes | None = None,
    ) -> Result:
        self.calls.append(list(argv))
        queue = self.answers.get(" ".join(argv[:3])) or self.answers.get(" ".join(argv[:2]))
        if queue:
            return queue.pop(0) if len(queue) > 1 else queue[0]
        return Result(0, "", "")
