"""A service's OpenAPI document as its clients meet it: problems documented as answered.

FastAPI documents a 422 "Validation Error" (``HTTPValidationError``) on every operation
with inputs, but the platform's handler answers a request that fails validation with a
400 problem (:mod:`pms_platform.errors`). :func:`document_problems` rewrites the
document accordingly: the automatic 422 goes, each operation with inputs (body, query,
path, header or cookie parameters) documents 400 with :class:`ProblemOut`, the unused
validation schemas go and the ``ProblemOut`` schema is added. A 422 that a route
declares itself (``problem_responses(UnprocessableError)``) stays.

It also documents the one rule every request model keeps without saying so in its
fields (:class:`pms_platform.validation.RequestModel`): no text of a query parameter or
a body holds a control character or a bidirectional override. Each such string without
a pattern, format or choices of its own gets :data:`STORABLE_TEXT_PATTERN`.
"""

import copy
import json
from typing import Any

from fastapi import FastAPI

from pms_platform.errors import (
    PROBLEM_SCHEMA_REF,
    BadRequestError,
    ProblemOut,
    problem_responses,
)
from pms_platform.validation import STORABLE_TEXT_PATTERN

REF_TEMPLATE = "#/components/schemas/{model}"
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_COMPONENTS = "#/components/schemas/"
# A string with one of these says itself what it takes.
_PLAIN_TEXT_EXCLUSIONS = frozenset({"pattern", "format", "enum", "const"})


def document_problems(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and ``/openapi.json``) serve :func:`with_problems` of the
    document FastAPI generates; routes added after this call are covered too."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_problems(with_storable_text(generate()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def with_problems(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (changed in place) with validation documented as a 400 problem."""
    validation = problem_responses(BadRequestError)[BadRequestError.status]
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _METHODS:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if _is_fastapi_validation(responses.get("422")):
                del responses["422"]
            if _has_inputs(operation) and "400" not in responses:
                responses["400"] = copy.deepcopy(validation)
            operation["responses"] = dict(sorted(responses.items(), key=status_order))
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        if name in schemas and not _references(document, REF_TEMPLATE.format(model=name)):
            del schemas[name]
    if _references(document, PROBLEM_SCHEMA_REF):
        schemas.setdefault(ProblemOut.__name__, problem_schema())
    if schemas:
        document["components"]["schemas"] = dict(sorted(schemas.items()))
    else:
        del document["components"]["schemas"]
        if not document["components"]:
            del document["components"]
    return document


def with_storable_text(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (changed in place) with :data:`STORABLE_TEXT_PATTERN` on every text of
    a query parameter or a request body (and the components these use) that has no
    pattern, format or choices of its own."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    seen: set[str] = set()
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _METHODS:
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    _storable(parameter.get("schema", {}), schemas, seen)
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _storable(media.get("schema", {}), schemas, seen)
    return document


def _storable(schema: Any, components: dict[str, Any], seen: set[str]) -> None:
    if isinstance(schema, list):
        for item in schema:
            _storable(item, components, seen)
        return
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_COMPONENTS) and ref not in seen:
        seen.add(ref)
        _storable(components.get(ref.removeprefix(_COMPONENTS)), components, seen)
    if schema.get("type") == "string" and not _PLAIN_TEXT_EXCLUSIONS & schema.keys():
        schema["pattern"] = STORABLE_TEXT_PATTERN
    for key in ("properties", "patternProperties", "$defs"):
        _storable(list(schema.get(key, {}).values()), components, seen)
    for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf", "prefixItems"):
        _storable(schema.get(key), components, seen)


def problem_schema() -> dict[str, Any]:
    """The JSON schema of :class:`ProblemOut`, as a component of the document."""
    return ProblemOut.model_json_schema(
        by_alias=True, ref_template=REF_TEMPLATE, mode="serialization"
    )


def _is_fastapi_validation(response: Any) -> bool:
    if not isinstance(response, dict):
        return False
    return any(
        str(media.get("schema", {}).get("$ref", "")).endswith("/HTTPValidationError")
        for media in response.get("content", {}).values()
        if isinstance(media, dict)
    )


def _has_inputs(operation: dict[str, Any]) -> bool:
    return bool(operation.get("parameters")) or "requestBody" in operation


def status_order(item: tuple[str, Any]) -> tuple[int, str]:
    """``200`` < ``201`` < ... < ``504`` < ``4XX`` < ``default``."""
    status = item[0]
    return (int(status), "") if status.isdigit() else (1000, status)


def _references(document: dict[str, Any], ref: str) -> bool:
    return f'"{ref}"' in json.dumps(document)
