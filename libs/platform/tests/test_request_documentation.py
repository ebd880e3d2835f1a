"""Documents that allow what the server takes: the shared validators add their pattern,
lengths or format to the schema, ``WHEN_MISSING`` fields are required, every request
text says it holds no control character, and a 405 names every method of its path."""

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query
from pydantic import Field

from pms_platform.http_app import create_service_app
from pms_platform.openapi import with_storable_text
from pms_platform.settings import ServiceSettings
from pms_platform.validation import (
    EMAIL_SCHEMA_PATTERN,
    REQUIRED_TEXT_PATTERN,
    STORABLE_TEXT_PATTERN,
    WHEN_MISSING,
    RequestModel,
    check_email,
    check_required_text,
    email_address,
    iso_date,
    required_text,
)
from pms_testing.http import app_client


class ThingIn(RequestModel):
    name: Annotated[str, WHEN_MISSING, required_text("Name", 20)]
    email: Annotated[str, WHEN_MISSING, email_address()]
    born: Annotated[date, WHEN_MISSING, iso_date("Born")]
    note: str = Field(default="", max_length=50)


class ThingQuery(RequestModel):
    search: str | None = Field(default=None, max_length=10)
    day: date | None = None


def _app() -> FastAPI:
    router = APIRouter()

    @router.get("/things")
    async def list_things(query: Annotated[ThingQuery, Query()]) -> list[str]:
        return []

    @router.post("/things", status_code=201)
    async def add_thing(thing: ThingIn) -> None:
        return None

    return create_service_app(
        ServiceSettings(service_name="example"), title="example", description="", routers=[router]
    )


def _schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


def test_fields_left_out_at_a_400_are_required_and_have_no_default() -> None:
    schema = ThingIn.model_json_schema(by_alias=True)
    assert schema["required"] == ["name", "email", "born"]
    assert all("default" not in schema["properties"][key] for key in schema["required"])


def test_the_shared_validators_document_what_they_take() -> None:
    properties = ThingIn.model_json_schema(by_alias=True)["properties"]
    assert properties["name"] | {"pattern": None} == {
        "type": "string",
        "title": "Name",
        "minLength": 1,
        "maxLength": 20,
        "pattern": None,
    }
    assert properties["name"]["pattern"] == REQUIRED_TEXT_PATTERN
    assert properties["email"]["pattern"] == EMAIL_SCHEMA_PATTERN
    assert properties["born"]["format"] == "date"


def test_the_patterns_take_what_the_checks_take() -> None:
    texts = ["a", " a ", "", "   ", "\u3000", "a\x01b", "José", "a\u202eb", "\ttab"]
    for text in texts:
        try:
            check_required_text(text, "Name", 100)
            takes = not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e]", text)
        except ValueError:
            takes = False
        assert bool(re.search(REQUIRED_TEXT_PATTERN, text)) is takes, repr(text)
    addresses = ["a@b.co", " a@b.co ", "a@b", "a b@c.de", "a@b..c", "a@@b.c", "a.b@c.d.e"]
    for address in addresses:
        try:
            check_email(address)
            takes = True
        except ValueError:
            takes = False
        assert bool(re.search(EMAIL_SCHEMA_PATTERN, address)) is takes, repr(address)


def test_every_request_text_without_a_rule_of_its_own_refuses_control_characters() -> None:
    document = _app().openapi()
    parameters = {p["name"]: p["schema"] for p in document["paths"]["/things"]["get"]["parameters"]}
    assert parameters["search"]["anyOf"][0]["pattern"] == STORABLE_TEXT_PATTERN
    assert "pattern" not in parameters["day"]["anyOf"][0]  # a date says what it takes
    body = _schema(document, "ThingIn")["properties"]
    assert body["note"]["pattern"] == STORABLE_TEXT_PATTERN
    assert body["name"]["pattern"] == REQUIRED_TEXT_PATTERN  # its own, which refuses them too
    assert re.fullmatch(STORABLE_TEXT_PATTERN, "Zoë, tab\tand line\nfeed")
    assert not re.fullmatch(STORABLE_TEXT_PATTERN, "nul\x00")


def test_answers_are_left_alone() -> None:
    document = {
        "paths": {"/x": {"get": {"responses": {"200": {"content": {"application/json": {}}}}}}},
        "components": {
            "schemas": {"Out": {"type": "object", "properties": {"a": {"type": "string"}}}}
        },
    }
    assert "pattern" not in str(with_storable_text(document))


async def test_a_405_names_every_method_of_the_path() -> None:
    async with app_client(_app()) as client:
        response = await client.delete("/things")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.headers["content-type"] == "application/problem+json"
