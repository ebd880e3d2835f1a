from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from pms_patients.schemas import PatientCreate, PatientUpdate
from pms_platform.errors import field_errors

VALID: dict[str, str] = {
    "name": "John Doe",
    "email": "john.doe@example.com",
    "address": "123 Main St, Springfield",
    "dateOfBirth": "1985-06-15",
    "registeredDate": "2024-01-10",
}


def errors_of(
    model: type[PatientCreate] | type[PatientUpdate], body: dict[str, Any]
) -> dict[str, str]:
    with pytest.raises(ValidationError) as raised:
        model.model_validate(body)
    return field_errors(raised.value.errors())


def with_(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {**VALID, **changes}
    return {key: value for key, value in body.items() if value is not ...}


def test_a_valid_patient_is_accepted_and_trimmed() -> None:
    values = PatientCreate.model_validate(with_(name="  John Doe "))
    assert values.name == "John Doe"
    assert values.date_of_birth.isoformat() == "1985-06-15"


def test_every_missing_field_has_the_originals_message() -> None:
    assert errors_of(PatientCreate, {}) == {
        "name": "Name is required",
        "email": "Email is required",
        "address": "Address is required",
        "dateOfBirth": "Date of birth is required",
        "registeredDate": "Registered date is required",
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "x" * 101}, "name", "Name cannot exceed 100 characters"),
        ({"name": "   "}, "name", "Name is required"),
        ({"email": "not-an-email"}, "email", "Email should be valid"),
        ({"email": "a@b"}, "email", "Email should be valid"),
        ({"address": "x" * 256}, "address", "Address cannot exceed 255 characters"),
        (
            {"dateOfBirth": "15/06/1985"},
            "dateOfBirth",
            "Date of birth must be a date in the form YYYY-MM-DD",
        ),
        (
            {"dateOfBirth": "1985-02-30"},
            "dateOfBirth",
            "Date of birth must be a valid calendar date",
        ),
        ({"dateOfBirth": "1899-12-31"}, "dateOfBirth", "Date of birth cannot be before 1900-01-01"),
        (
            {"registeredDate": "2024-1-10"},
            "registeredDate",
            "Registered date must be a date in the form YYYY-MM-DD",
        ),
        (
            {"registeredDate": "1980-01-01"},
            "registeredDate",
            "Registered date cannot be before the date of birth",
        ),
    ],
)
def test_bad_fields_get_their_own_message(
    changes: dict[str, str], field: str, message: str
) -> None:
    assert errors_of(PatientCreate, with_(**changes)) == {field: message}


def test_dates_in_the_future_are_refused() -> None:
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    assert errors_of(PatientCreate, with_(dateOfBirth=tomorrow, registeredDate=tomorrow)) == {
        "dateOfBirth": "Date of birth cannot be in the future",
        "registeredDate": "Registered date cannot be in the future",
    }


def test_a_date_of_the_wrong_type_is_a_field_error_not_a_crash() -> None:
    assert set(errors_of(PatientCreate, with_(dateOfBirth=19850615))) == {"dateOfBirth"}


def test_an_update_may_leave_out_the_registered_date() -> None:
    values = PatientUpdate.model_validate(with_(registeredDate=...))
    assert values.registered_date is None


def test_an_update_checks_the_same_fields_as_a_create() -> None:
    assert errors_of(PatientUpdate, with_(email="nope", registeredDate="1970-01-01")) == {
        "email": "Email should be valid",
        "registeredDate": "Registered date cannot be before the date of birth",
    }
