"""Crowd-answer quality: truth inference, worker scores and agreement. Pure NumPy: no
database, no web; the engine and `assay aggregate` call it."""

from assay.quality.base import Aggregator
from assay.quality.dawid_skene import DawidSkene, OneCoin
from assay.quality.glad import GLAD
from assay.quality.mace import MACE
from assay.quality.numeric import lfcn, mean, median
from assay.quality.voting import MajorityVote, Wawa

CATEGORICAL: dict[str, type[Aggregator]] = {
    "mv": MajorityVote,
    "wawa": Wawa,
    "ds": DawidSkene,
    "onecoin": OneCoin,
    "glad": GLAD,
    "mace": MACE,
}
"""Categorical methods by name, simplest first (`auto` prefers the earlier on a tie)."""

NUMERIC = {"mean": mean, "median": median, "lfcn": lfcn}
