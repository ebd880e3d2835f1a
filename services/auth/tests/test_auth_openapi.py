"""The auth OpenAPI document shows every problem each route may answer: 400 (not
FastAPI's 422) for validation, 401 for bad credentials and tokens, 429 for a locked
login, 403 on the ADMIN routes, 404 and 409 where they occur, all with the one
ProblemOut schema; and the users routes take only what they document."""

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from pms_auth.app import create_app
from pms_auth.schemas import UserPageQuery, UserPatch
from pms_auth.settings import AuthSettings
from pms_testing.openapi import problem_documentation_faults, problem_statuses

ADMIN_ONLY = {400, 401, 403}  # every /users route has inputs


@pytest.fixture
def document(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    monkeypatch.setenv("PMS_AUTH_DATABASE_URL", "postgresql+asyncpg://pms:pms@127.0.0.1:1/none")
    monkeypatch.setenv("PMS_AUTH_DEVELOPMENT_KEY_DIR", str(tmp_path))
    return create_app(AuthSettings()).openapi()


def test_each_route_documents_the_problems_it_may_answer(document: dict[str, Any]) -> None:
    assert problem_statuses(document) == {
        "GET /health/live": set(),
        "GET /health/ready": set(),
        "GET /metrics": set(),
        "POST /login": {400, 401, 429},
        "GET /validate": {401},
        "POST /refresh": {400, 401},
        "POST /logout": {400, 401},
        "POST /session/refresh": {401},
        "POST /session/logout": set(),
        "GET /.well-known/jwks.json": set(),
        "GET /me": {401},
        "POST /users": ADMIN_ONLY | {409},
        "GET /users": ADMIN_ONLY,
        "GET /users/{user_id}": ADMIN_ONLY | {404},
        "PATCH /users/{user_id}": ADMIN_ONLY | {404, 409},
        "POST /users/{user_id}/password": ADMIN_ONLY | {404},
    }


def test_problems_are_documented_as_they_are_answered(document: dict[str, Any]) -> None:
    assert problem_documentation_faults(document) == []
    locked = document["paths"]["/login"]["post"]["responses"]["429"]
    assert set(locked["headers"]) == {"Retry-After"}


def test_the_users_page_and_patch_take_only_what_they_document() -> None:
    with pytest.raises(ValidationError):
        UserPageQuery.model_validate({"page": 1_000_001})
    for not_a_boolean in (0, 1, "true"):
        with pytest.raises(ValidationError):
            UserPatch.model_validate({"disabled": not_a_boolean})
    assert UserPatch.model_validate({"disabled": False}).disabled is False
