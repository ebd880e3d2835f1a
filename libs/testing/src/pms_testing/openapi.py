"""Checks that a service's OpenAPI document shows its problem answers as the platform
gives them (``pms_platform.openapi``): 400, not FastAPI's 422, for validation, and the
one ``ProblemOut`` schema for every error. Each service's ``test_<service>_openapi.py``
calls them on its own document."""

from typing import Any

from pms_platform.errors import PROBLEM_CONTENT_TYPE, PROBLEM_SCHEMA_REF

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every operation of ``document``, by ``"METHOD /path"``."""
    return {
        f"{method.upper()} {path}": operation
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if method in _METHODS
    }


def problem_statuses(document: dict[str, Any]) -> dict[str, set[int]]:
    """The error statuses (4xx and 5xx) that each operation documents."""
    return {
        name: {int(status) for status in operation.get("responses", {}) if status[:1] in "45"}
        for name, operation in operations(document).items()
    }


def problem_documentation_faults(document: dict[str, Any]) -> list[str]:
    """What is wrong with how ``document`` documents problems; empty when nothing is.

    No FastAPI validation schema is left; every operation with inputs (parameters or a
    body) documents 400; every operation behind a bearer token (``security``) documents
    401; every 4xx and 5xx is ``application/problem+json`` with the ``ProblemOut``
    schema, and that schema is among the components.
    """
    faults: list[str] = []
    schemas = document.get("components", {}).get("schemas", {})
    faults += [f"schema {name} is left" for name in _FASTAPI_VALIDATION_SCHEMAS if name in schemas]
    documents_problems = False
    for name, operation in operations(document).items():
        responses: dict[str, Any] = operation.get("responses", {})
        if (operation.get("parameters") or "requestBody" in operation) and "400" not in responses:
            faults.append(f"{name} has inputs but documents no 400")
        if operation.get("security") and "401" not in responses:
            faults.append(f"{name} needs a bearer token but documents no 401")
        for status, response in responses.items():
            if status[:1] not in "45":
                continue
            documents_problems = True
            content = response.get("content", {})
            if list(content) != [PROBLEM_CONTENT_TYPE]:
                faults.append(f"{name} {status} is {sorted(content)}, not {PROBLEM_CONTENT_TYPE}")
            elif content[PROBLEM_CONTENT_TYPE].get("schema") != {"$ref": PROBLEM_SCHEMA_REF}:
                faults.append(f"{name} {status} does not use the ProblemOut schema")
    if documents_problems and PROBLEM_SCHEMA_REF.rsplit("/", 1)[-1] not in schemas:
        faults.append("the ProblemOut schema is not among the components")
    return faults
