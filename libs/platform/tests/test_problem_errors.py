import httpx

PROBLEM = "application/problem+json"


async def test_validation_failure_is_400_with_a_field_message_map(
    example_client: httpx.AsyncClient,
) -> None:
    response = await example_client.post("/notes", json={"title": "", "due": "2024-13-40"})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 400
    assert body["title"] == "Bad Request"
    assert set(body["errors"]) == {"title", "due"}
    assert body["requestId"] == response.headers["x-request-id"]


async def test_a_body_that_is_not_json_is_400_not_500(example_client: httpx.AsyncClient) -> None:
    response = await example_client.post(
        "/notes", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    # Keyed by the body, not by the character offset pydantic locates the error at.
    assert response.json()["errors"] == {"body": "JSON decode error"}


async def test_bad_path_and_query_parameters_are_400(example_client: httpx.AsyncClient) -> None:
    response = await example_client.get("/notes/abc", params={"verbose": "perhaps"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"noteId", "verbose"}


async def test_domain_errors_carry_their_own_status(example_client: httpx.AsyncClient) -> None:
    response = await example_client.post("/conflict")
    assert response.status_code == 409
    assert response.json()["detail"] == "Email address already exists"
    assert response.json()["type"].endswith("/conflict")


async def test_unknown_route_is_a_404_problem(example_client: httpx.AsyncClient) -> None:
    response = await example_client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


async def test_unexpected_errors_are_500_problems_that_hide_internals(
    example_client: httpx.AsyncClient,
) -> None:
    response = await example_client.get("/crash")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert "jane@example.com" not in response.text
    # Answered inside the request context: the body names the request, as every other.
    assert response.json()["requestId"] == response.headers["x-request-id"]
