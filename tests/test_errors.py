"""Bad requests of every shape get a problem JSON 4xx, never a 500."""

from conftest import assert_problem


def test_malformed_json_is_400(api):
    response = api.post(
        "/v1/projects", content=b'{"name": "x",', headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400, "malformed_json", "body")


def test_wrong_types_name_the_field(api, project):
    response = api.post("/v1/tasks", json={"project": 42, "params": {}})
    assert_problem(response, 422, "invalid", "project")
    response = api.post("/v1/projects", json=["not", "an", "object"])
    assert_problem(response, 422, "invalid")


def test_oversize_json_body_is_413(api, server):
    big = b'{"name": "' + b"x" * (server.settings.max_body_bytes + 1) + b'"}'
    response = api.post("/v1/projects", content=big, headers={"Content-Type": "application/json"})
    assert_problem(response, 413, "body_too_large")


def test_oversize_chunked_body_is_413(api, server):
    def chunks():
        for _ in range(server.settings.max_body_bytes // 65536 + 2):
            yield b"x" * 65536

    response = api.post(
        "/v1/projects", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 413, "body_too_large")


def test_unknown_route_and_method(api):
    assert_problem(api.get("/v1/nothing-here"), 404, "not_found")
    assert_problem(api.delete("/v1/projects"), 405, "method_not_allowed")


def test_health_needs_no_key(server):
    import httpx

    health = httpx.get(f"{server.url}/healthz")
    assert health.json() == {"status": "ok"}
    # Every answer says how long the server spent on it.
    assert float(health.headers["server-timing"].removeprefix("app;dur=")) >= 0


def test_openapi_and_docs_are_served(server):
    import httpx

    spec = httpx.get(f"{server.url}/openapi.json").json()
    assert "/v1/projects/{project_id}/tasks:import" in spec["paths"]
    assert httpx.get(f"{server.url}/docs").status_code == 200


def test_nul_in_url_is_400_not_a_database_error(api):
    assert_problem(api.get("/v1/tasks/a%00b"), 400, "nul_character", "path")
    assert_problem(
        api.get("/v1/tasks", params={"unique_id": "a\x00b"}), 400, "nul_character", "query"
    )


def test_unencodable_json_is_422_naming_the_field(api, project):
    response = api.post("/v1/tasks", json={"project": project["id"], "params": {"n": 2**70}})
    assert_problem(response, 422, "invalid", "params")


def test_docs_page_needs_no_internet(server):
    import httpx

    page = httpx.get(f"{server.url}/docs").text
    assert "cdn" not in page.lower()
    script = page.split('src="')[1].split('"')[0]
    assert script.startswith("/") and httpx.get(f"{server.url}{script}").status_code == 200
