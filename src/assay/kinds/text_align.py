"""Comparing and combining free texts: normalization (of whitespace, and unless told not
to of case and Unicode form), character edit distances, the medoid of several texts, and a
ROVER-style word vote over transcripts aligned to a pivot.

ROVER (Fiscus 1997) aligns every transcript's words into one word network and votes slot
by slot. Here the network is the pivot's words: each other transcript is aligned to the
pivot by word-level Levenshtein (rapidfuzz opcodes), so each pivot word gets one
candidate per transcript (its aligned word, or "" where it deleted the word), and each gap
between pivot words gets the phrase each transcript inserted there (the pivot inserts
nothing). Each slot and each gap is a plurality vote in which the pivot votes first, so
ties go to the pivot.
"""

import re
import unicodedata
from collections.abc import Callable, Sequence

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from assay.kinds.rubric_votes import plurality

_WHITESPACE = re.compile(r"\s+")


def normalized(text: str, *, fold: bool = True) -> str:
    """Every whitespace run (tabs, newlines) as one space, no leading/trailing space; with
    `fold` (the default) the text is first put in Unicode NFC and casefolded."""
    if fold:
        text = unicodedata.normalize("NFC", text).casefold()
    return _WHITESPACE.sub(" ", text).strip()


def distance(a: str, b: str) -> float:
    """Levenshtein distance of the characters over the longer length, in [0, 1]."""
    return Levenshtein.normalized_distance(a, b)


def error_rate(text: str, reference: str) -> float:
    """Character error rate: edits from the reference over its length (0 or inf when the
    reference is empty)."""
    edits = Levenshtein.distance(text, reference)
    if not reference:
        return float("inf") if edits else 0.0
    return edits / len(reference)


def medoid(texts: Sequence[str]) -> int:
    """Index of the text with the least total `distance` to the others; ties go to the
    earliest (totals are compared rounded to 12 places)."""
    matrix = process.cdist(texts, texts, scorer=Levenshtein.normalized_distance, dtype=np.float64)
    return int(np.argmin(np.round(matrix.sum(axis=1), 12)))


def combine(texts: Sequence[str], pivot: int, key: Callable[[str], str]) -> str:
    """The word-by-word vote (see module doc) over whitespace-split transcripts, aligned to
    `texts[pivot]`; words compare by `key`, the winner keeps the form of its first voter.
    The result's words are joined by single spaces."""
    order = [pivot, *(i for i in range(len(texts)) if i != pivot)]
    base, *others = (texts[i].split() for i in order)
    base_keys = [key(word) for word in base]
    slots: list[list[str]] = [[word] for word in base]
    gaps: list[list[tuple[str, ...]]] = [[()] for _ in range(len(base) + 1)]
    for words in others:
        aligned, inserted = align(base_keys, words, key)
        for slot, word in zip(slots, aligned, strict=True):
            slot.append(word)
        for gap, phrase in zip(gaps, inserted, strict=True):
            gap.append(phrase)
    result: list[str] = []
    for position, gap in enumerate(gaps):
        result.extend(plurality(gap, key=lambda phrase: tuple(map(key, phrase))))
        if position < len(slots):
            word = plurality(slots[position], key=key)
            result.extend([word] if word else [])
    return " ".join(result)


def align(
    base_keys: Sequence[str], words: Sequence[str], key: Callable[[str], str]
) -> tuple[list[str], list[tuple[str, ...]]]:
    """`words` aligned to the base: the word at each base position ("" where deleted), and
    the words inserted in each of the len(base) + 1 gaps (before each base word, and last)."""
    aligned = [""] * len(base_keys)
    inserted: list[list[str]] = [[] for _ in range(len(base_keys) + 1)]
    for tag, i1, i2, j1, j2 in Levenshtein.opcodes(base_keys, [key(word) for word in words]):
        paired = 0 if tag == "insert" else min(i2 - i1, j2 - j1)
        aligned[i1 : i1 + paired] = words[j1 : j1 + paired]
        inserted[i2].extend(words[j1 + paired : j2])
    return aligned, [tuple(phrase) for phrase in inserted]
