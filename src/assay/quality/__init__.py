"""Crowd-answer quality: truth inference, worker scores and agreement. Pure NumPy/SciPy:
no database, no web; the engine and `assay aggregate` call it."""

from assay.quality import glad, mace
from assay.quality.dawid_skene import dawid_skene, one_coin
from assay.quality.numeric import lfcn, mean, median
from assay.quality.voting import majority_vote, wawa

CATEGORICAL = {
    "mv": majority_vote,
    "wawa": wawa,
    "ds": dawid_skene,
    "onecoin": one_coin,
    "glad": glad.fit,
    "mace": mace.fit,
}
"""Categorical methods by name, simplest first (`auto` prefers the earlier on a tie)."""

NUMERIC = {"mean": mean, "median": median, "lfcn": lfcn}
