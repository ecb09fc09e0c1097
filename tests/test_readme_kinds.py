"""The README's example of each kind is valid: params, task and answer pass the kind's
checks, and every kind has an example."""

import json
import re
from pathlib import Path

import pytest

from assay.kinds import KINDS, TaskChecker, validate_params

README = Path(__file__).resolve().parents[1] / "README.md"
EXAMPLES = [
    json.loads(block)
    for block in re.findall(r"```json\n(.*?)```", README.read_text(), re.S)
    if '"kind"' in block
]


def test_every_kind_has_a_readme_example():
    assert {example["kind"] for example in EXAMPLES} == set(KINDS)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["kind"] for e in EXAMPLES])
def test_readme_example_is_valid(example):
    params = validate_params(example["kind"], example["params"])
    checker = TaskChecker(example["kind"], params)
    task = checker.task(example["task"])
    checker.answer(task, example["answer"], "answer")
