"""The one error type the infra commands turn into a clear message and a non-zero exit."""


class InfraError(RuntimeError):
    """Something the developer must fix (or configure) before the infra can run."""
