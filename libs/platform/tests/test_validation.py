"""The shared validators: typed results and the original's messages."""

from datetime import date
from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from pms_platform.errors import BadRequestError, field_errors
from pms_platform.validation import (
    UNSTORABLE_TEXT,
    WHEN_MISSING,
    email_address,
    is_currency_code,
    is_email,
    iso_date,
    optional_iso_date,
    parse_iso_date,
    required_text,
    validated,
)


class Form(BaseModel):
    name: Annotated[str, WHEN_MISSING, required_text("Name", 5)]
    email: Annotated[str, WHEN_MISSING, email_address()]
    born: Annotated[date, WHEN_MISSING, iso_date("Date of birth")]
    seen: Annotated[date | None, WHEN_MISSING, optional_iso_date("Seen date")]


def errors_of(data: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        Form.model_validate(data)
    return field_errors(caught.value.errors())


def test_valid_input_is_typed_after_validation() -> None:
    form = Form.model_validate(
        {"name": " Ann ", "email": "a@b.co", "born": "1990-02-03", "seen": None}
    )
    assert form == Form(name="Ann", email="a@b.co", born=date(1990, 2, 3), seen=None)


def test_missing_fields_get_the_same_message_as_empty_ones() -> None:
    assert errors_of({}) == {
        "name": "Name is required",
        "email": "Email is required",
        "born": "Date of birth is required",
    }
    assert errors_of({"name": " ", "email": "", "born": ""})["name"] == "Name is required"


def test_each_rule_has_its_message() -> None:
    errors = errors_of(
        {"name": "toolong", "email": "x@y", "born": "1990-2-3", "seen": "2020-02-30"}
    )
    assert errors == {
        "name": "Name cannot exceed 5 characters",
        "email": "Email should be valid",
        "born": "Date of birth must be a date in the form YYYY-MM-DD",
        "seen": "Seen date must be a valid calendar date",
    }


def test_a_date_of_another_json_type_is_refused_not_read_as_a_timestamp() -> None:
    assert errors_of({"name": "A", "email": "a@b.co", "born": 86400}) == {
        "born": "Date of birth must be a date in the form YYYY-MM-DD"
    }


def test_plain_functions_without_label_start_with_a_capital() -> None:
    with pytest.raises(ValueError, match=r"^Must be a date in the form YYYY-MM-DD$"):
        parse_iso_date("2020-W01-1")
    assert parse_iso_date(" 2020-01-31 ") == date(2020, 1, 31)
    assert is_email("a@b.example")
    assert not is_email("a@" + "b" * 300 + ".com")
    assert is_currency_code("EUR")
    assert not is_currency_code("eur")
    assert not is_currency_code("")


def test_text_of_another_json_type_is_a_field_error_not_a_crash() -> None:
    assert errors_of({"name": 5, "email": ["a@b.co"], "born": "1990-02-03"}) == {
        "name": "Input should be a valid string",
        "email": "Input should be a valid string",
    }


def test_validated_is_the_model_or_a_bad_request_with_a_field_map() -> None:
    data = {"name": "Ann", "email": "a@b.co", "born": "1990-02-03", "seen": None}
    assert validated(Form, data).born == date(1990, 2, 3)
    with pytest.raises(BadRequestError) as caught:
        validated(Form, {**data, "email": "nope"})
    assert caught.value.detail == "The request is not valid"
    assert caught.value.errors == {"email": "Email should be valid"}


@pytest.mark.parametrize(
    "text",
    [
        "a\x00b",
        "bell\x07",
        "esc\x1b[31m",
        "del\x7f",
        "c1\x85",
        "\u202ename",
        "\u2066x\u2069",
        "\ud800",
    ],
)
def test_text_that_cannot_be_stored_or_displays_as_other_text_is_refused(text: str) -> None:
    assert UNSTORABLE_TEXT.search(text)


@pytest.mark.parametrize(
    "text",
    ["Zo\u00eb", "tab\tand\nlines\r\n", "\u05e9\u05e8\u05d4\u200f", "\u0627\u200e", "\U0001f600"],
)
def test_tabs_line_breaks_accents_marks_and_emoji_are_text(text: str) -> None:
    assert not UNSTORABLE_TEXT.search(text)
