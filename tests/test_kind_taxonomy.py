"""Categorization with a label taxonomy: validation of the tree, leaf-only answers, and
consolidation that backs off to the deepest ancestor a strict majority agrees on. Flat
`labels` projects keep their behaviour and stored shape."""

import pytest

from assay.errors import Invalid
from assay.kinds import consolidate, validate_params, validate_response

TREE = {
    "animal": {"dog": {"poodle": {}, "beagle": {}}, "cat": {}},
    "vehicle": {"car": {}, "bike": {}},
}
PRE_ORDER = ["animal", "dog", "poodle", "beagle", "cat", "vehicle", "car", "bike"]
PARAMS = {"taxonomy": TREE}


def fields(call):
    with pytest.raises(Invalid) as info:
        call()
    return [e.field for e in info.value.errors]


def result(*labels, params=PARAMS):
    return consolidate("categorization", params, {}, [{"label": label} for label in labels])


def test_flat_projects_keep_their_stored_shape_and_vote():
    flat = {"labels": ["a", "b", "c"]}
    assert validate_params("categorization", flat) == flat | {"multi": False}
    assert result("b", "c", params=flat) == {"label": "b", "confidence": 0.5}
    assert result("c", "c", "b", params=flat) == {"label": "c", "confidence": pytest.approx(2 / 3)}
    assert fields(lambda: validate_params("categorization", {})) == ["params.labels"]
    assert fields(lambda: validate_params("categorization", {"labels": ["a"]})) == ["params.labels"]


def test_taxonomy_derives_labels_in_pre_order_and_its_stored_params_validate_again():
    stored = validate_params("categorization", PARAMS)
    assert stored == {
        "labels": PRE_ORDER,
        "multi": False,
        "taxonomy": TREE,
        "leaves_only": True,
    }
    assert validate_params("categorization", stored) == stored
    given = PARAMS | {"labels": PRE_ORDER, "leaves_only": False}
    assert validate_params("categorization", given)["leaves_only"] is False


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"taxonomy": {"animal": {"dog": {}}, "vehicle": {"car": {}, "dog": {}}}},
            ["params.taxonomy.vehicle.dog"],
        ),
        (
            {"taxonomy": {"dog": {}, "animal": {"cat": {"dog": {}}}}},
            ["params.taxonomy.animal.cat.dog"],
        ),
        ({"taxonomy": TREE, "labels": ["animal", "vehicle"]}, ["params.labels"]),
        ({"taxonomy": TREE, "labels": list(reversed(PRE_ORDER))}, ["params.labels"]),
        ({"taxonomy": TREE, "multi": True}, ["params.multi"]),
        ({"taxonomy": {"animal": {"dog": {}}}}, ["params.taxonomy"]),
        ({"taxonomy": {}}, ["params.taxonomy"]),
        ({"taxonomy": {"animal": {"dog": []}}}, ["params.taxonomy.animal.dog"]),
        ({"taxonomy": {"animal": "dog"}}, ["params.taxonomy.animal"]),
        ({"labels": ["a", "b"], "leaves_only": False}, ["params.leaves_only"]),
    ],
)
def test_taxonomy_errors_name_their_path(params, expected):
    assert fields(lambda: validate_params("categorization", params)) == expected


def test_repeated_name_message_points_at_the_first():
    tree = {"animal": {"dog": {}}, "vehicle": {"dog": {}}}
    with pytest.raises(Invalid) as info:
        validate_params("categorization", {"taxonomy": tree})
    assert "'dog' is repeated (first at taxonomy.animal.dog)" in info.value.errors[0].message


def test_a_single_node_is_enough_when_inner_nodes_are_answers():
    tree = {"animal": {"dog": {}}}
    assert validate_params("categorization", {"taxonomy": tree, "leaves_only": False})


def test_answers_must_be_leaves_unless_the_project_says_otherwise():
    def check(label, params=PARAMS):
        return validate_response("categorization", params, {}, {"label": label})

    assert check("poodle") == {"label": "poodle"}
    assert check("cat") == {"label": "cat"}
    for inner in ("dog", "animal", "vehicle"):
        assert fields(lambda inner=inner: check(inner)) == ["response.label"]
    with pytest.raises(Invalid) as info:
        check("dog")
    assert "'poodle', 'beagle'" in info.value.errors[0].message
    assert fields(lambda: check("fish")) == ["response.label"]
    assert check("dog", PARAMS | {"leaves_only": False}) == {"label": "dog"}


def test_a_leaf_with_a_strict_majority_wins():
    assert result("poodle", "poodle", "beagle") == {
        "label": "poodle",
        "confidence": pytest.approx(2 / 3),
    }


def test_without_a_leaf_majority_the_result_backs_off_to_the_deepest_held_ancestor():
    assert result("poodle", "beagle", "cat") == {"label": "dog", "confidence": pytest.approx(2 / 3)}
    assert result("poodle", "beagle", "cat", "cat") == {"label": "animal", "confidence": 1.0}
    assert result("bike", "car") == {"label": "vehicle", "confidence": 1.0}
    assert result("poodle", "cat", "car") == {"label": "animal", "confidence": pytest.approx(2 / 3)}
    assert result("car", "bike", "car", "poodle", "bike") == {
        "label": "vehicle",
        "confidence": pytest.approx(4 / 5),
    }


def test_without_any_majority_plurality_decides_ties_in_taxonomy_order():
    assert result("poodle", "car") == {"label": "poodle", "confidence": 0.5}
    assert result("car", "poodle") == {"label": "poodle", "confidence": 0.5}
    assert result("car", "bike", "poodle", "poodle") == {"label": "poodle", "confidence": 0.5}


def test_inner_answers_count_for_their_subtree():
    params = PARAMS | {"leaves_only": False}
    assert result("dog", "poodle", "cat", params=params) == {
        "label": "dog",
        "confidence": pytest.approx(2 / 3),
    }
    assert result("animal", "poodle", "car", params=params) == {
        "label": "animal",
        "confidence": pytest.approx(2 / 3),
    }
