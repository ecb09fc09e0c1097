"""When is a worker surely not good enough for a project?

Removing a person from paid work on thin evidence is worse than keeping a weak worker a
little longer, so the rule asks for evidence:
- with at least MIN_GOLD answers on gold tasks: the upper end of the 95% Clopper-Pearson
  interval of their gold accuracy is below the threshold;
- else, with at least MIN_ANSWERS answers: their model-based accuracy (`worker_accuracy_`
  of the project's truth inference: the chance they answer a task right, the same meaning
  whichever method fitted it) is below the threshold.
Returns the reason, in words, or None.
"""

from assay.quality.intervals import clopper_pearson

MIN_GOLD = 5
MIN_ANSWERS = 20


def removal_reason(
    threshold: float, gold_correct: int, gold_answered: int, model_accuracy: float, answers: int
) -> str | None:
    if gold_answered >= MIN_GOLD:
        _, high = clopper_pearson(gold_correct, gold_answered)
        if high < threshold:
            return (
                f"gold accuracy {gold_correct}/{gold_answered} (95% interval up to "
                f"{float(high):.3f}) is below {threshold}"
            )
        return None
    if answers >= MIN_ANSWERS and model_accuracy < threshold:
        return (
            f"model-based accuracy {model_accuracy:.3f} over {answers} answers is below {threshold}"
        )
    return None
