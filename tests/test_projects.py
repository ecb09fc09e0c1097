from conftest import assert_problem


def test_create_project_returns_id_and_callback_secret(api):
    body = {
        "name": "Animals",
        "kind": "categorization",
        "params": {"labels": ["cat", "dog"], "multi": True},
        "instructions": "Pick **all** animals",
        "overlap": 3,
        "callback_url": "https://example.com/hook",
    }
    response = api.post("/v1/projects", json=body)
    assert response.status_code == 201
    created = response.json()
    assert created["id"] and len(created["callback_secret"]) >= 32
    assert created["params"] == {"labels": ["cat", "dog"], "multi": True}
    assert created["overlap"] == 3 and created["callback_url"] == "https://example.com/hook"

    fetched = api.get(f"/v1/projects/{created['id']}").json()
    assert "callback_secret" not in fetched
    assert fetched["instructions"] == "Pick **all** animals"


def test_overlap_defaults_to_one(project):
    assert project["overlap"] == 1
    assert project["params"]["multi"] is False


def test_list_projects_paginates_with_next_token(api):
    ids = [
        api.post(
            "/v1/projects",
            json={"name": f"page-{i}", "kind": "categorization", "params": {"labels": ["a", "b"]}},
        ).json()["id"]
        for i in range(3)
    ]
    seen, token = [], None
    while True:
        params = {"limit": 2} | ({"next_token": token} if token else {})
        page = api.get("/v1/projects", params=params).json()
        assert len(page["docs"]) <= 2
        seen += [p["id"] for p in page["docs"]]
        token = page["next_token"]
        if not token:
            break
    assert len(seen) == len(set(seen))
    assert set(ids) <= set(seen)


def test_patch_changes_only_given_fields(api, project):
    response = api.patch(
        f"/v1/projects/{project['id']}", json={"overlap": 5, "callback_url": "http://h.example/cb"}
    )
    assert response.status_code == 200
    updated = response.json()
    assert updated["overlap"] == 5 and updated["callback_url"] == "http://h.example/cb"
    assert updated["instructions"] == project["instructions"]
    assert updated["updated_at"] >= project["updated_at"]
    cleared = api.patch(f"/v1/projects/{project['id']}", json={"callback_url": None}).json()
    assert cleared["callback_url"] is None and cleared["overlap"] == 5


def test_duplicate_label_is_named_by_index(api):
    response = api.post(
        "/v1/projects",
        json={"name": "x", "kind": "categorization", "params": {"labels": ["a", "b", "a"]}},
    )
    assert_problem(response, 422, "invalid", "params.labels[2]")


def test_label_of_wrong_type_is_named_by_index(api):
    response = api.post(
        "/v1/projects",
        json={"name": "x", "kind": "categorization", "params": {"labels": ["a", "b", 3]}},
    )
    assert_problem(response, 422, "invalid", "params.labels[2]")


def test_too_few_labels_and_unknown_kind(api):
    one = api.post(
        "/v1/projects", json={"name": "x", "kind": "categorization", "params": {"labels": ["a"]}}
    )
    assert_problem(one, 422, "invalid", "params.labels")
    unknown = api.post("/v1/projects", json={"name": "x", "kind": "telepathy", "params": {}})
    assert_problem(unknown, 422, "invalid", "kind")


def test_overlap_out_of_range_and_bad_callback_url(api):
    for overlap in (0, 51, "three"):
        response = api.post(
            "/v1/projects",
            json={
                "name": "x",
                "kind": "categorization",
                "params": {"labels": ["a", "b"]},
                "overlap": overlap,
            },
        )
        assert_problem(response, 422, "invalid", "overlap")
    response = api.post(
        "/v1/projects",
        json={
            "name": "x",
            "kind": "categorization",
            "params": {"labels": ["a", "b"]},
            "callback_url": "ftp://nope",
        },
    )
    assert_problem(response, 422, "invalid", "callback_url")


def test_patch_validates_and_unknown_project_is_404(api, project):
    assert_problem(
        api.patch(f"/v1/projects/{project['id']}", json={"overlap": 0}), 422, field="overlap"
    )
    assert_problem(api.patch("/v1/projects/nope", json={"overlap": 2}), 404, "project_not_found")
    assert_problem(api.get("/v1/projects/nope"), 404, "project_not_found")


def test_unknown_field_is_rejected_by_name(api):
    response = api.post(
        "/v1/projects",
        json={
            "name": "x",
            "kind": "categorization",
            "params": {"labels": ["a", "b"]},
            "overlapp": 2,
        },
    )
    assert_problem(response, 422, "invalid", "overlapp")


def test_nul_character_is_rejected_not_a_server_error(api):
    response = api.post(
        "/v1/projects",
        json={"name": "a\x00b", "kind": "categorization", "params": {"labels": ["a", "b"]}},
    )
    assert_problem(response, 422, "invalid", "name")
