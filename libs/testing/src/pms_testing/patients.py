"""A valid body for ``POST /patients``, for tests that need patients but not particular ones."""

import uuid


def patient_body(email: str | None = None, *, name: str = "Test Patient") -> dict[str, str]:
    """Every required field valid; a fresh email each call unless one is given (emails are
    unique per patient)."""
    return {
        "name": name,
        "email": email or f"patient.{uuid.uuid4().hex[:12]}@example.com",
        "address": "1 Test Street",
        "dateOfBirth": "1980-03-03",
        "registeredDate": "2024-03-03",
    }
