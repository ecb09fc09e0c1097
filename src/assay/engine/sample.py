"""A first-run sample: an admin key, an annotator's key and a small categorization project
to try the API and the web workspace on."""

from sqlalchemy import func, select

from assay.engine.imports import import_tasks
from assay.engine.keys import create_key
from assay.engine.projects import create_project
from assay.store.db import Store
from assay.store.tables import api_keys

SAMPLE_REVIEWS = [
    "A gripping story with actors at the top of their game.",
    "Two hours of my life I will never get back.",
    "Beautifully shot, but the plot goes nowhere.",
    "The best film I have seen this year.",
    "Dull, predictable and far too long.",
    "Funny, warm and surprisingly moving.",
]


def seed_sample(store: Store) -> dict | None:
    """On an empty store, create an admin key, an annotator and a sample project; else do
    nothing. Returns {"key", "annotator_key", "project"} when it seeded, so the caller can
    show the keys once.
    """
    with store.read() as conn:
        if conn.execute(select(func.count()).select_from(api_keys)).scalar_one():
            return None
    key = create_key(store, "admin", "sample admin")
    annotator = create_key(store, "annotator", "Sample annotator")
    project = create_project(
        store,
        {
            "name": "Sample: movie review sentiment",
            "kind": "categorization",
            "params": {"labels": ["positive", "negative", "mixed"]},
            "instructions": "Read the review and choose the sentiment it expresses.",
        },
    )
    body = b"\n".join(
        b'{"params": {"text": "%s"}, "unique_id": "review-%d"}' % (text.encode(), i)
        for i, text in enumerate(SAMPLE_REVIEWS, start=1)
    )
    import_tasks(store, project["id"], None, body)
    return {"key": key["key"], "annotator_key": annotator["key"], "project": project["id"]}
