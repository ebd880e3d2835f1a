"""Problems documented from the error classes: ``ProblemOut`` is the body
``problem_response`` writes, ``problem_responses`` builds a route's ``responses=``, and
the platform's app documents validation as a 400 problem instead of FastAPI's 422."""

import json
from typing import Any

from fastapi import APIRouter, FastAPI, Header
from pydantic import BaseModel

from pms_platform.errors import (
    PROBLEM_CONTENT_TYPE,
    PROBLEM_SCHEMA_REF,
    ROLE_REFUSALS,
    BadRequestError,
    ConflictError,
    NotFoundError,
    ProblemOut,
    TooManyRequestsError,
    UnauthorizedError,
    UnprocessableError,
    problem_response,
    problem_responses,
)
from pms_platform.http_app import create_service_app
from pms_platform.openapi import with_problems
from pms_platform.settings import ServiceSettings
from pms_testing.openapi import problem_documentation_faults, problem_statuses

from .conftest import build_example_app

PROBLEM_SCHEMA = {"$ref": PROBLEM_SCHEMA_REF}


class StaleError(ConflictError):
    """The thing changed meanwhile."""


class GoneError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("The thing is gone")


def test_problem_out_is_the_body_problem_response_writes() -> None:
    plain = json.loads(bytes(problem_response(404, "Patient not found").body))
    invalid = problem_response(400, "The request is not valid", errors={"name": "Name is required"})
    with_errors = json.loads(bytes(invalid.body))
    for body in (plain, with_errors):
        parsed = ProblemOut.model_validate(body)
        assert parsed.model_dump(by_alias=True, exclude_unset=True) == body
    assert "errors" not in plain
    assert plain["requestId"] is None


def test_the_problem_out_schema_requires_what_every_body_has() -> None:
    app = create_service_app(
        ServiceSettings(service_name="example"), title="example", description=""
    )
    router = APIRouter()

    @router.get("/thing", responses=problem_responses(NotFoundError))
    async def thing() -> None:
        return None

    app.include_router(router)  # after the factory: documented all the same
    schema = app.openapi()["components"]["schemas"]["ProblemOut"]
    assert set(schema["required"]) == {"type", "title", "status", "detail", "requestId"}
    assert set(schema["properties"]) == {"type", "title", "status", "detail", "requestId", "errors"}
    assert schema["properties"]["errors"] == {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "title": "Errors",
        "description": "Each invalid field and its message (validation errors only)",
    }


def test_problem_responses_documents_each_status_with_the_problem_schema() -> None:
    responses = problem_responses(
        BadRequestError, *ROLE_REFUSALS, GoneError, StaleError, TooManyRequestsError, 503
    )
    assert list(responses) == [400, 401, 403, 404, 409, 429, 503]
    for response in responses.values():
        assert response["content"] == {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_SCHEMA}}
    assert responses[404]["description"] == "The thing is gone"  # the fixed detail
    assert responses[409]["description"] == "The thing changed meanwhile."  # the docstring
    assert responses[503]["description"] == "Service Unavailable"  # the HTTP phrase
    assert responses[401]["description"] == UnauthorizedError().detail
    assert set(responses[401]["headers"]) == {"WWW-Authenticate"}
    assert set(responses[429]["headers"]) == {"Retry-After"}


def test_problem_responses_lists_every_class_of_a_status_and_takes_overrides() -> None:
    both = problem_responses(StaleError, ConflictError)[409]["description"]
    assert both == (
        "- The thing changed meanwhile.\n"
        "- The request conflicts with the current state of the resource."
    )
    said = problem_responses(GoneError, descriptions={404: "No such thing"})
    assert said[404]["description"] == "No such thing"


def test_validation_is_documented_as_a_400_problem_not_a_422() -> None:
    document = build_example_app().openapi()
    statuses = problem_statuses(document)
    assert statuses["POST /notes"] == {400}
    assert statuses["GET /notes/{note_id}"] == {400}
    assert statuses["POST /conflict"] == set()  # no inputs, nothing to validate
    assert problem_documentation_faults(document) == []
    assert "HTTPValidationError" not in json.dumps(document)
    assert "ValidationError" not in document["components"]["schemas"]


def _app_with_a_declared_422() -> FastAPI:
    router = APIRouter()

    class Note(BaseModel):
        title: str

    @router.post("/notes", responses=problem_responses(BadRequestError, UnprocessableError))
    async def create(note: Note, key: str | None = Header(default=None)) -> None:
        return None

    @router.get("/count")
    async def count(since: int = 0) -> int:
        return since

    return create_service_app(
        ServiceSettings(service_name="example"), title="example", description="", routers=[router]
    )


def test_a_declared_422_stays_and_undeclared_inputs_still_get_their_400() -> None:
    document = _app_with_a_declared_422().openapi()
    responses = document["paths"]["/notes"]["post"]["responses"]
    assert list(responses) == ["200", "400", "422"]
    assert responses["422"]["content"] == {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_SCHEMA}}
    assert problem_statuses(document)["GET /count"] == {400}
    assert problem_documentation_faults(document) == []


def test_the_document_is_rewritten_once_and_served_as_rewritten() -> None:
    app = _app_with_a_declared_422()
    assert app.openapi() is app.openapi()
    assert "HTTPValidationError" not in json.dumps(app.openapi())


def test_with_problems_keeps_a_validation_schema_that_something_else_uses() -> None:
    document: dict[str, Any] = {
        "paths": {
            "/x": {
                "post": {
                    "requestBody": {},
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/ValidationError"}
                                }
                            }
                        },
                        "422": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/HTTPValidationError"}
                                }
                            }
                        },
                    },
                }
            }
        },
        "components": {"schemas": {"HTTPValidationError": {}, "ValidationError": {}}},
    }
    rewritten = with_problems(document)
    assert list(rewritten["paths"]["/x"]["post"]["responses"]) == ["200", "400"]
    assert list(rewritten["components"]["schemas"]) == ["ProblemOut", "ValidationError"]
