"""Model in the loop, as pure logic: no database, no web; plain data in and out.

- `thresholds`: the confidence above which model answers stand, certified on a random
  human-labelled calibration sample (Learn-then-Test).
- `calibration`: raw model scores to probabilities of being right (isotonic / Platt).
- `active`: which items people label next (uncertain and diverse).
- `models`: model plugins (text classifier, OpenAI-compatible chat, HTTP, Python).
"""

from assay.automation.active import select_for_labelling
from assay.automation.calibration import Calibration, fit_calibration
from assay.automation.thresholds import CertifiedThreshold, certify_threshold

__all__ = [
    "Calibration",
    "CertifiedThreshold",
    "certify_threshold",
    "fit_calibration",
    "select_for_labelling",
]
