"""CoNLL BIO files for character spans: write a text's spans as token tags, read them back.

Tokens are the runs of non-whitespace characters (`\\S+`) of a text, with their offsets.
Writing: a token takes the span it overlaps (where spans overlap one another, the span
starting first, the longer on a tie, then the label); it is `B-<label>` when the token
before it took another span (or none) and `I-<label>` otherwise; a token under no span is
`O`. Each line is `token<TAB>tag`; each document ends with a blank line. BIO cannot
hold everything offsets can: a span that shares its only token with an earlier span is
lost, and spans widen to whole tokens.

Reading: one document per block of lines between blank lines; a line's first column is
the token and its last column the tag (columns split on whitespace, so POS or chunk
columns in between are ignored); `-DOCSTART-` lines are skipped. The text is the tokens
joined by single spaces. `B-X` opens a span; `I-X` continues the open span of label X
and otherwise opens one (IOB1 files read the same); `O` closes it.
"""

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from assay.errors import FieldError, Invalid

TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str


def tokens(text: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of the whitespace-separated tokens of `text`."""
    return [m.span() for m in TOKEN.finditer(text)]


def token_spans(words: Sequence[tuple[int, int]], spans: Iterable[Span]) -> list[int | None]:
    """For each token, the index (in `spans`) of the span it takes, None for none."""
    ordered = sorted(enumerate(spans), key=lambda s: (s[1].start, -s[1].end, s[1].label))
    ends = [end for _, end in words]
    taken: list[int | None] = [None] * len(words)
    for index, span in ordered:
        t = bisect_right(ends, span.start)
        while t < len(words) and words[t][0] < span.end:
            if taken[t] is None:
                taken[t] = index
            t += 1
    return taken


def bio_lines(text: str, spans: Sequence[Span]) -> Iterator[str]:
    """`token<TAB>tag` for each token of the text."""
    words = tokens(text)
    previous = None
    for (start, end), index in zip(words, token_spans(words, spans), strict=True):
        tag = "O" if index is None else f"{_prefix(index, previous)}-{spans[index].label}"
        previous = index
        yield f"{text[start:end]}\t{tag}"


def _prefix(index: int, previous: int | None) -> str:
    return "I" if index == previous else "B"


def write_conll(documents: Iterable[tuple[str, Sequence[Span]]]) -> Iterator[bytes]:
    """One block per document (text and its spans); documents without tokens are left
    out, since a blank block would not read back as one."""
    for text, spans in documents:
        lines = list(bio_lines(text, spans))
        if lines:
            yield ("\n".join(lines) + "\n\n").encode()


def read_conll(data: bytes) -> Iterator[tuple[str, list[Span]]]:
    """Each document of a BIO CoNLL file as (text, spans). Raises Invalid naming the line
    of a tag that is not O, B-<label> or I-<label>, or of a line with one column."""
    try:
        lines = data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise Invalid([FieldError("file", f"not UTF-8 text: {exc.reason}")]) from None
    block: list[tuple[str, str]] = []
    for number, line in enumerate([*lines, ""], start=1):
        columns = line.split()
        if columns and columns[0] == "-DOCSTART-":
            continue
        if columns:
            block.append((columns[0], _tag(number, columns)))
        elif block:
            yield _document(block)
            block = []


def _tag(number: int, columns: list[str]) -> str:
    tag = columns[-1]
    if len(columns) < 2:
        problem = "has one column; give the token and, last, its tag"
    elif tag == "O" or (tag[:2] in ("B-", "I-") and len(tag) > 2):
        return tag
    else:
        problem = f"has tag {tag!r}; tags are O, B-<label> or I-<label>"
    raise Invalid([FieldError("file", f"line {number} {problem}")])


def _document(block: Sequence[tuple[str, str]]) -> tuple[str, list[Span]]:
    spans: list[Span] = []
    open_span: Span | None = None
    offset = 0
    for token, tag in block:
        end = offset + len(token)
        label = tag[2:]
        if open_span is not None and tag == f"I-{open_span.label}":
            open_span = Span(open_span.start, end, label)
        else:
            if open_span is not None:
                spans.append(open_span)
            open_span = None if tag == "O" else Span(offset, end, label)
        offset = end + 1
    if open_span is not None:
        spans.append(open_span)
    text = " ".join(token for token, _ in block)
    return text, spans
