"""A chat model behind an OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp, Ollama...)
labelling categorization tasks.

Each item becomes one user message: `prompt_template` filled with the item's fields
(str.format, e.g. "Review: {text}") plus an instruction naming the labels. Confidence:

- With `logprobs` (asked for by default, temperature 0): the model answers with the label
  only, and the confidence is the probability of that answer, exp(sum of its tokens'
  log-probabilities). Per-label probabilities come from the first token's top
  alternatives, where a token starts exactly one label (labels sharing a first token get
  none); they sum to at most 1, the rest being off-label mass.
- Without (the endpoint returns none, or `use_logprobs=False`): the model is asked for JSON
  {"label": ..., "confidence": ...} and its self-reported confidence is used. Once an
  endpoint has returned no logprobs, later items go straight to JSON.

Either number is raw; calibrate it on human labels (automation.calibration) before a
threshold reads it. Items run `concurrency` at a time; no retries (the engine retries
the run).
"""

import json
import math
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from assay.automation.models.base import Item, ModelError, Prediction
from assay.automation.models.http_model import post_json
from assay.outbound import STRICT, OutboundPolicy

LABEL_INSTRUCTION = "\n\nAnswer with exactly one of these labels and nothing else: {labels}"
JSON_INSTRUCTION = (
    "\n\nReply with JSON only, no other text: "
    '{{"label": <one of {labels}>, "confidence": <probability from 0 to 1 that the label '
    "is right>}}"
)
LABEL_TOKENS = 16
JSON_TOKENS = 64


class _SelfReport(BaseModel):
    label: str
    confidence: float = Field(ge=0, le=1)


def _normalise(text: str) -> str:
    return text.strip().strip("\"'`.,;:!").strip().casefold()


class OpenAIChatModel:
    def __init__(
        self,
        base_url: str,
        model: str,
        prompt_template: str,
        labels: Sequence[str],
        api_key: str | None = None,
        timeout: float = 60.0,
        concurrency: int = 4,
        use_logprobs: bool = True,
        outbound: OutboundPolicy = STRICT,
    ):
        if len(set(labels)) < 2:
            raise ValueError("need at least two distinct labels")
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.prompt_template = prompt_template
        self.labels = list(labels)
        self.concurrency = concurrency
        self.use_logprobs = use_logprobs
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = outbound.http_client(headers=headers, timeout=timeout)
        self._by_name = {_normalise(label): label for label in self.labels}

    def predict(self, items: list[Item]) -> list[Prediction]:
        prompts = [self._prompt(i, item) for i, item in enumerate(items)]
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(self._ask, range(len(prompts)), prompts))

    def _prompt(self, index: int, item: Item) -> str:
        try:
            return self.prompt_template.format_map(item)
        except (KeyError, IndexError, ValueError) as exc:
            raise ModelError(f"items[{index}]: cannot fill the prompt template: {exc!r}") from None

    def _ask(self, index: int, prompt: str) -> Prediction:
        if self.use_logprobs:
            choice = self._complete(
                prompt + LABEL_INSTRUCTION.format(labels=", ".join(self.labels)),
                LABEL_TOKENS,
                logprobs=True,
            )
            tokens = (choice.get("logprobs") or {}).get("content")
            if tokens:
                return self._from_logprobs(index, choice, tokens)
            self.use_logprobs = False
        choice = self._complete(
            prompt + JSON_INSTRUCTION.format(labels=json.dumps(self.labels)),
            JSON_TOKENS,
            logprobs=False,
        )
        return self._from_self_report(index, _content(choice))

    def _complete(self, prompt: str, max_tokens: int, logprobs: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": max_tokens,
            "temperature": 0,
        }
        if logprobs:
            payload |= {"logprobs": True, "top_logprobs": 5}
        reply = post_json(self._client, self.url, payload)
        try:
            choice = reply["choices"][0]
        except (KeyError, IndexError, TypeError):
            choice = None
        if not isinstance(choice, dict):
            raise ModelError(f"{self.url}: the reply has no choices: {str(reply)[:300]}")
        return choice

    def _label(self, index: int, answer: str) -> str:
        label = self._by_name.get(_normalise(answer))
        if label is None:
            raise ModelError(f"items[{index}]: the model answered {answer[:100]!r}, not a label")
        return label

    def _from_logprobs(
        self, index: int, choice: dict[str, Any], tokens: list[dict[str, Any]]
    ) -> Prediction:
        label = self._label(index, _content(choice))
        mass = dict.fromkeys(self.labels, 0.0)
        try:
            confidence = math.exp(sum(t["logprob"] for t in tokens))
            for alternative in tokens[0].get("top_logprobs") or []:
                start = _normalise(alternative["token"])
                starting = [
                    lab for lab in self.labels if start and _normalise(lab).startswith(start)
                ]
                if len(starting) == 1:
                    mass[starting[0]] += math.exp(alternative["logprob"])
        except (KeyError, TypeError, AttributeError):
            raise ModelError(f"{self.url}: malformed logprobs: {str(tokens)[:300]}") from None
        probabilities = mass if any(mass.values()) else None
        return Prediction({"label": label}, confidence, probabilities)

    def _from_self_report(self, index: int, content: str) -> Prediction:
        found = re.search(r"\{.*\}", content, re.DOTALL)
        try:
            report = _SelfReport.model_validate_json(found.group(0) if found else content)
        except ValidationError:
            raise ModelError(
                f"items[{index}]: expected JSON {{label, confidence}}, got {content[:200]!r}"
            ) from None
        return Prediction({"label": self._label(index, report.label)}, report.confidence)


def _content(choice: dict[str, Any]) -> str:
    content = (choice.get("message") or {}).get("content")
    if not isinstance(content, str):
        raise ModelError(f"the reply's message has no text content: {str(choice)[:300]}")
    return content
