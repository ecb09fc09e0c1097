"""The spans kind: validation, consolidation by overlap clustering, gold F1, agreement,
CoNLL and spaCy exports re-read by their readers, CoNLL import round trip."""

import random

import orjson
import pytest
from nltk.chunk import conlltags2tree
from nltk.corpus.reader import ConllCorpusReader

from assay.errors import Invalid
from assay.kinds import (
    KINDS,
    agreement,
    consolidate,
    exports,
    imports,
    matches,
    settings_model,
    validate_params,
    validate_response,
    validate_task,
)

PARAMS = {"labels": ["PER", "ORG", "LOC"]}
TEXT = {"text": "Ada Lovelace met Charles Babbage in London."}


def spans(*triples):
    return {"spans": [{"start": s, "end": e, "label": label} for s, e, label in triples]}


def fields(call):
    with pytest.raises(Invalid) as info:
        call()
    return [e.field for e in info.value.errors]


def result(answers, params=PARAMS, task=TEXT):
    return consolidate("spans", params, task, answers)


def test_kind_is_registered_with_its_formats():
    kind = KINDS["spans"]
    assert kind.widget == "spans"
    assert sorted(kind.exports) == ["conll", "spacy"]
    assert sorted(kind.imports) == ["conll"]


def test_params_defaults_and_errors():
    assert validate_params("spans", {"labels": ["PER"]}) == {
        "labels": ["PER"],
        "allow_overlap": False,
        "match_threshold": 0.5,
    }
    assert fields(lambda: validate_params("spans", {"labels": ["PER", "ORG", "PER"]})) == [
        "params.labels[2]"
    ]
    assert fields(lambda: validate_params("spans", {"labels": []})) == ["params.labels"]
    bad = {"labels": ["PER"], "match_threshold": 0}
    assert fields(lambda: validate_params("spans", bad)) == ["params.match_threshold"]
    assert fields(lambda: validate_params("spans", {"labels": ["PER"], "x": 1})) == ["params.x"]


def test_task_needs_text_and_keeps_other_keys():
    kept = validate_task("spans", PARAMS, {"text": "hi", "source": "web"})
    assert kept == {"text": "hi", "source": "web"}
    assert fields(lambda: validate_task("spans", PARAMS, {"body": "hi"})) == ["params.text"]
    assert fields(lambda: validate_task("spans", PARAMS, {"text": 3})) == ["params.text"]
    assert fields(lambda: validate_task("spans", PARAMS, {"text": ""})) == ["params.text"]


def test_valid_answer_keeps_a_matching_text_field():
    answer = {"spans": [{"start": 0, "end": 3, "label": "PER", "text": "Ada"}]}
    assert validate_response("spans", PARAMS, TEXT, answer) == answer
    assert validate_response("spans", PARAMS, TEXT, {"spans": []}) == {"spans": []}


def test_span_errors_name_the_field():
    text = {"text": "hello world"}  # 11 characters
    answer = {
        "spans": [
            {"start": 0, "end": 5, "label": "PER"},
            {"start": 6, "end": 12, "label": "PER"},
            {"start": 11, "end": 12, "label": "PER"},
            {"start": 4, "end": 4, "label": "PER"},
            {"start": 6, "end": 11, "label": "DATE"},
            {"start": 6, "end": 11, "label": "ORG", "text": "World"},
        ]
    }
    assert fields(lambda: validate_response("spans", PARAMS, text, answer)) == [
        "response.spans[1].end",
        "response.spans[2].start",
        "response.spans[3].end",
        "response.spans[4].label",
        "response.spans[5].text",
        "response.spans[5]",  # also overlaps spans[4]
    ]


def test_shape_errors_name_the_field():
    bad = {"spans": [{"start": "0", "end": 3, "label": "PER"}, {"start": -1, "end": 2}]}
    assert fields(lambda: validate_response("spans", PARAMS, TEXT, bad)) == [
        "response.spans[0].start",
        "response.spans[1].start",
        "response.spans[1].label",
    ]
    assert fields(lambda: validate_response("spans", PARAMS, TEXT, {"spans": [], "x": 1})) == [
        "response.x"
    ]


def test_overlap_only_where_the_project_allows_it_and_never_a_repeat():
    nested = spans((0, 12, "PER"), (4, 12, "PER"), (4, 12, "ORG"))
    assert fields(lambda: validate_response("spans", PARAMS, TEXT, nested)) == [
        "response.spans[1]",
        "response.spans[2]",
    ]
    allowed = PARAMS | {"allow_overlap": True}
    assert validate_response("spans", allowed, TEXT, nested) == nested
    repeated = spans((0, 3, "PER"), (4, 12, "PER"), (0, 3, "PER"))
    with pytest.raises(Invalid) as info:
        validate_response("spans", allowed, TEXT, repeated)
    assert [(e.field, e.message) for e in info.value.errors] == [
        ("response.spans[2]", "repeats spans[0]")
    ]


def test_unanimous_answers_consolidate_to_themselves():
    answer = spans((0, 12, "PER"), (17, 32, "PER"), (36, 42, "LOC"))
    assert result([answer, answer, answer]) == answer | {"confidence": 1.0}


def test_no_spans_from_anyone_is_an_agreed_empty_result():
    assert result([{"spans": []}, {"spans": []}]) == {"spans": [], "confidence": 1.0}


def test_majority_label_and_most_common_bounds():
    answers = [
        spans((0, 12, "PER")),
        spans((0, 12, "PER")),
        spans((0, 3, "ORG")),  # Jaccard 0.25 with the others: its own cluster
        spans((0, 11, "ORG")),
    ]
    # Cluster {0..12 PER, 0..12 PER, 0..11 ORG}: PER by 2 votes of 4 workers -> not kept.
    assert result(answers)["spans"] == []
    answers[3] = spans((0, 11, "PER"))
    out = result(answers)
    assert out["spans"] == [{"start": 0, "end": 12, "label": "PER"}]
    # kept cluster: 3 of 4 agree; the lone 0..3 cluster: 3 of 4 gave nothing there
    assert out["confidence"] == pytest.approx((3 / 4 + 3 / 4) / 2)


def test_label_tie_goes_to_the_earlier_project_label_and_bounds_tie_to_the_earliest():
    answers = [spans((4, 12, "LOC")), spans((0, 12, "ORG")), spans((4, 12, "ORG"))]
    out = result(answers)
    assert out["spans"] == [{"start": 4, "end": 12, "label": "ORG"}]
    two = [spans((4, 12, "PER")), spans((0, 12, "PER"))]
    assert result(two) == spans((0, 12, "PER")) | {"confidence": 1.0}
    split = [spans((0, 12, "LOC")), spans((0, 12, "PER"))]
    assert result(split) == {"spans": [], "confidence": 0.0}


def test_minority_spans_are_left_out():
    answers = [spans((0, 12, "PER")), spans((0, 12, "PER"), (36, 42, "LOC")), spans()]
    out = result(answers)
    assert out["spans"] == [{"start": 0, "end": 12, "label": "PER"}]
    assert out["confidence"] == pytest.approx((2 / 3 + 2 / 3) / 2)


def test_a_worker_gives_at_most_one_span_to_a_cluster():
    # Worker 0 splits what worker 1 marks as one span; both halves have Jaccard 0.5 with it,
    # and only the first joins its cluster (bounds tie 0..6 / 0..12: the earliest).
    answers = [spans((0, 6, "PER"), (6, 12, "PER")), spans((0, 12, "PER"))]
    out = result(answers, task={"text": "AdaLovelace!"})
    assert out["spans"] == [{"start": 0, "end": 6, "label": "PER"}]
    # kept: both workers; left out (6..12): one of two workers marked nothing there
    assert out["confidence"] == pytest.approx((1 + 1 / 2) / 2)


def test_result_never_overlaps_when_the_project_forbids_it():
    params = PARAMS | {"match_threshold": 0.25}
    task = {"text": "x" * 20}
    answers = [
        spans((0, 10, "PER"), (10, 13, "PER")),
        spans((0, 10, "PER"), (10, 14, "PER")),
        spans((0, 6, "PER"), (6, 12, "PER")),
    ]
    # Second cluster's spans all differ, so its earliest (6..12) would overlap 0..10.
    assert result(answers, params, task) == spans((0, 10, "PER")) | {"confidence": 0.5}
    allowed = params | {"allow_overlap": True}
    assert result(answers, allowed, task)["spans"] == spans((0, 10, "PER"), (6, 12, "PER"))["spans"]


def test_nested_spans_consolidate_when_overlap_is_allowed():
    params = PARAMS | {"allow_overlap": True}
    nested = spans((0, 12, "PER"), (4, 12, "PER"))
    out = result([nested, nested, spans((0, 12, "PER"))], params)
    assert out["spans"] == nested["spans"]
    assert out["confidence"] == pytest.approx((1 + 2 / 3) / 2)


def test_consolidation_does_not_depend_on_answer_order():
    answers = [
        spans((0, 3, "PER"), (17, 32, "PER"), (36, 42, "LOC")),
        spans((0, 12, "PER"), (17, 24, "ORG"), (36, 42, "LOC")),
        spans((0, 12, "ORG"), (17, 32, "PER")),
        spans((4, 12, "PER"), (25, 32, "PER"), (36, 42, "LOC")),
        spans((0, 12, "PER"), (17, 32, "PER")),
    ]
    expected = result(answers)
    assert expected["spans"] == spans((0, 12, "PER"), (17, 32, "PER"), (36, 42, "LOC"))["spans"]
    shuffled = list(answers)
    for seed in range(5):
        random.Random(seed).shuffle(shuffled)
        assert result(shuffled) == expected


def test_gold_matches_at_span_f1_of_at_least_point_eight():
    gold = spans((0, 3, "PER"), (4, 12, "PER"), (17, 24, "PER"), (25, 32, "PER"), (36, 42, "LOC"))
    four_right_one_wrong = spans(
        (0, 3, "PER"), (4, 12, "PER"), (17, 24, "PER"), (25, 32, "PER"), (36, 42, "ORG")
    )
    assert matches("spans", PARAMS, TEXT, four_right_one_wrong, gold)  # F1 = 0.8
    one_extra = spans(*[(s["start"], s["end"], s["label"]) for s in four_right_one_wrong["spans"]])
    one_extra["spans"].append({"start": 33, "end": 35, "label": "LOC"})
    assert not matches("spans", PARAMS, TEXT, one_extra, gold)  # F1 = 8/11
    assert matches("spans", PARAMS, TEXT, spans(), spans())
    assert not matches("spans", PARAMS, TEXT, spans(), spans((0, 3, "PER")))
    assert not matches("spans", PARAMS, TEXT, spans((0, 4, "PER")), spans((0, 3, "PER")))


def test_agreement_is_mean_pairwise_span_f1():
    x, y = (0, 3, "PER"), (36, 42, "LOC")
    items = [
        (TEXT, [spans(x, y), spans(x, y), spans(x)]),  # 1, 2/3, 2/3
        (TEXT, [spans(x)]),  # one answer: no pair
        (TEXT, [spans(), spans()]),  # 1
    ]
    found = agreement("spans", PARAMS, items)
    assert found.measure == "span_f1"
    assert found.pairs == 4
    assert found.value == pytest.approx((1 + 2 / 3 + 2 / 3 + 1) / 4)
    assert agreement("spans", PARAMS, [(TEXT, [spans(x)])]).value is None


COMPLETED = [
    {
        "id": "t1",
        "unique_id": None,
        "params": {"text": "Ada Lovelace met Charles Babbage in London."},
        # London covers part of the token "London." and takes it whole.
        "response": spans((0, 12, "PER"), (17, 32, "PER"), (36, 42, "LOC")) | {"confidence": 1},
        "metadata": None,
    },
    {
        "id": "t2",
        "unique_id": "u2",
        "params": {"text": "IBM  and\nACME Corp"},
        # two adjacent spans of one label, the second of two tokens
        "response": spans((0, 3, "ORG"), (9, 18, "ORG")) | {"confidence": 0.8},
        "metadata": None,
    },
    {
        "id": "t3",
        "unique_id": None,
        "params": {"text": "nothing here"},
        "response": {"spans": [], "confidence": 1.0},
        "metadata": None,
    },
]


def write(fmt, tasks, params=PARAMS):
    return b"".join(exports("spans")[fmt].write(settings_model("spans", params), tasks))


def test_conll_export_reads_back_with_nltk(tmp_path, monkeypatch):
    monkeypatch.setenv("NLTK_DATA", str(tmp_path))  # nltk reads only under its data roots
    (tmp_path / "out.conll").write_bytes(write("conll", COMPLETED))
    reader = ConllCorpusReader(str(tmp_path), ["out.conll"], columntypes=("words", "pos"))
    sents = reader.tagged_sents()
    assert sents[0] == [
        ("Ada", "B-PER"),
        ("Lovelace", "I-PER"),
        ("met", "O"),
        ("Charles", "B-PER"),
        ("Babbage", "I-PER"),
        ("in", "O"),
        ("London.", "B-LOC"),
    ]
    assert [tag for _, tag in sents[1]] == ["B-ORG", "O", "B-ORG", "I-ORG"]
    assert [tag for _, tag in sents[2]] == ["O", "O"]
    entities = [
        (tree.label(), " ".join(w for w, _ in tree.leaves()))
        for tree in conlltags2tree([(w, "X", t) for w, t in sents[1]]).subtrees()
        if tree.label() != "S"
    ]
    assert entities == [("ORG", "IBM"), ("ORG", "ACME Corp")]


def test_conll_export_picks_the_outer_span_where_spans_overlap():
    params = PARAMS | {"allow_overlap": True}
    task = COMPLETED[0] | {"response": spans((0, 12, "PER"), (4, 12, "ORG"), (4, 16, "LOC"))}
    lines = write("conll", [task], params).decode().splitlines()
    assert lines[:3] == ["Ada\tB-PER", "Lovelace\tI-PER", "met\tB-LOC"]


def test_spacy_export_offsets_slice_the_text(tmp_path):
    (tmp_path / "out.jsonl").write_bytes(write("spacy", COMPLETED))
    records = [orjson.loads(line) for line in (tmp_path / "out.jsonl").read_bytes().splitlines()]
    assert [r["id"] for r in records] == ["t1", "t2", "t3"]
    marked = [[(r["text"][s:e], label) for s, e, label in r["ents"]] for r in records]
    assert marked == [
        [("Ada Lovelace", "PER"), ("Charles Babbage", "PER"), ("London", "LOC")],
        [("IBM", "ORG"), ("ACME Corp", "ORG")],
        [],
    ]


def test_conll_round_trips_through_the_import():
    read = imports("spans")["conll"].read
    tasks = list(read(write("conll", COMPLETED)))
    assert [t["params"]["text"] for t in tasks] == [
        "Ada Lovelace met Charles Babbage in London.",
        "IBM and ACME Corp",
        "nothing here",
    ]
    assert tasks[0]["hypothesis"] == spans((0, 12, "PER"), (17, 32, "PER"), (36, 43, "LOC"))
    assert tasks[1]["hypothesis"] == spans((0, 3, "ORG"), (8, 17, "ORG"))
    assert tasks[2]["hypothesis"] == {"spans": []}
    for task in tasks:  # what the import yields is a valid task and hypothesis
        validate_task("spans", PARAMS, task["params"])
        validate_response("spans", PARAMS, task["params"], task["hypothesis"])
    again = [
        {"id": str(i), "params": t["params"], "response": t["hypothesis"]}
        for i, t in enumerate(tasks)
    ]
    assert list(read(write("conll", again))) == tasks


def test_conll_import_reads_conll2003_style_files():
    data = (
        b"-DOCSTART- -X- -X- O\n\n"
        b"EU NNP B-NP I-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP I-MISC\n"
        b"call NN I-NP O\n\r\n"
        b"Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\nJohn NNP I-NP B-PER\n"
    )
    tasks = list(imports("spans")["conll"].read(data))
    assert tasks == [
        {
            "params": {"text": "EU rejects German call"},
            "hypothesis": spans((0, 2, "ORG"), (11, 17, "MISC")),
        },
        {
            "params": {"text": "Peter Blackburn John"},
            "hypothesis": spans((0, 15, "PER"), (16, 20, "PER")),
        },
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Ada B-PER\nLovelace E-PER\n", "line 2 has tag 'E-PER'"),
        (b"Ada B-PER\n\nLovelace\n", "line 3 has one column"),
        (b"Ada B-\n", "line 1 has tag 'B-'"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_conll_import_names_the_bad_line(data, message):
    with pytest.raises(Invalid) as info:
        list(imports("spans")["conll"].read(data))
    assert info.value.errors[0].field == "file"
    assert message in info.value.errors[0].message
