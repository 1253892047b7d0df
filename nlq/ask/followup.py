"""Follow-ups for the offline reader: a refinement of its previous reading, made one question.

"and for purchases?", "only Silo 4", "what about pumps", "without cranes", "sort by cost", "per
category instead", "as a chart by month": each is combined with the previous reading's text into
one question that the parser reads whole, and the explanation says how. The parser is used as a
black box: a function from a question to (sql, explanation), whose explanation names which words
matched which dimension ("'rented' matched source Rental"); a value of the same dimension is
replaced, anything else is added. A refinement the parser cannot read combined is declined with
`not_understood`, as the parser declines a question: never half applied.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from nlq.ask.providers import NotUnderstood

Parse = Callable[[str], tuple[str, str]]

_X = r"(?P<x>.+?)"
# Tried in order; the first form that matches decides what the refinement does.
FORMS: tuple[tuple[str, re.Pattern], ...] = tuple((kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in (
    ("chart", r"^(?:and\s+)?(?:show\s+(?:it|them|that)\s+|show\s+)?(?:as\s+an?\s+(?:bar\s+|line\s+)?(?:chart|graph|plot)"
              r"|chart\s+(?:it|them|that)|plot\s+(?:it|them|that))(?:\s+(?:by|per|over)\s+" + _X + r")?$"),
    ("sort", r"^(?:and\s+)?(?:sort|sorted|order|ordered|rank|ranked)\s+(?:it\s+|them\s+|that\s+)?by\s+" + _X + r"$"),
    ("add_group", r"^(?:and\s+|also\s+)(?:per|by)\s+" + _X + r"$"),
    ("regroup", r"^(?:per|by|grouped\s+by|broken\s+down\s+by|split\s+by|for\s+each)\s+" + _X + r"(?:\s+instead)?$"),
    ("exclude", r"^(?:and\s+|but\s+)?(?:without|except|excluding|not|minus|leave\s+out)\s+" + _X + r"$"),
    ("set", r"^(?:and|but)?\s*(?:what|how)\s+about\s+(?:for\s+|in\s+)?" + _X + r"$"),
    ("set", r"^(?:and|but)\s+(?:for|in|with|of|on)\s+" + _X + r"$"),
    ("set", r"^(?:only|just)\s+(?:for\s+|in\s+)?" + _X + r"$"),
    ("set", r"^(?:for|in)\s+" + _X + r"\s+(?:only|instead)$"),
    ("set", r"^" + _X + r"\s+(?:only|instead)$"),
    ("set", r"^and\s+" + _X + r"$"),
))
_VALUE = re.compile(r"^(?P<quoted>'[^']+'(?:\s*/\s*'[^']+')*)\s+matched\s+(?P<dim>\w+)\b")
_NEGATED = re.compile(r"^'(?P<neg>[^']+)'\s+'(?P<words>[^']+)'\s+read\s+as\s+(?P<dim>\w+)\s+not\b")
_GROUP = re.compile(r"^'(?P<words>[^']+)'\s+read\s+as\s+one\s+row\s+per\s+(?P<dim>\w+)")
_QUOTED = re.compile(r"'([^']+)'")
_FILLER = {"and", "or", "for", "in", "with", "of", "on", "the", "only", "just", "too", "also", "instead", "then"}


@dataclass(frozen=True)
class Reading:
    """The question the parser reads, and (for a follow-up) how it was made."""

    question: str
    how: str | None = None


@dataclass(frozen=True)
class _Note:
    kind: str  # value | negated | group
    dim: str
    words: tuple[str, ...]
    neg: str | None = None


def refinement(question: str) -> tuple[str, str | None] | None:
    """(kind, the refining phrase) when the question is a refinement form, else None.

    >>> refinement("and for purchases?")
    ('set', 'purchases')
    >>> refinement("as a chart by month")
    ('chart', 'month')
    >>> refinement("how many cranes are rented?") is None
    True
    """
    text = _plain(question)
    for kind, pattern in FORMS:
        match = pattern.match(text)
        if match:
            return kind, (match.group("x") or "").strip() or None
    return None


def read_followup(question: str, previous: str | None, parse: Parse) -> Reading:
    """The question to parse for `question` asked after the reading `previous`.

    A question that is not a refinement form, or has no previous reading, is read as it is. A
    refinement that cannot be combined raises `NotUnderstood` (even if its words would read on
    their own: that reading would drop the rest of the conversation's question).
    """
    form = refinement(question) if previous else None
    if form is None:
        return Reading(question)
    kind, phrase = form
    base = _plain(previous)
    try:
        combined, how = _COMBINE[kind](base, phrase, parse)
        parse(combined)
    except NotUnderstood as exc:
        # Never read alone instead: "only Silo 4" without its cranes would drop half the question.
        raise NotUnderstood(
            f"The offline reader could not combine \u201c{_plain(question)}\u201d with the previous question "
            f"\u201c{base}\u201d, so it does not answer rather than guess. {exc.message}",
            words=exc.details.get("words", []), previous=base) from None
    return Reading(combined, f"Follow-up of \u201c{base}\u201d: {how}; read as \u201c{combined}\u201d.")


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().rstrip("?.!").strip()


def _notes(explanation: str) -> list[_Note]:
    """What the parser says it matched, from its explanation (`reading: note; note.`)."""
    body = explanation.split(": ", 1)[1] if ": " in explanation else explanation
    found = []
    for note in body.rstrip(".").split("; "):
        note = note.strip()
        if match := _VALUE.match(note):
            found.append(_Note("value", match["dim"], tuple(_QUOTED.findall(match["quoted"]))))
        elif match := _NEGATED.match(note):
            found.append(_Note("negated", match["dim"], (match["words"],), neg=match["neg"]))
        elif match := _GROUP.match(note):
            found.append(_Note("group", match["dim"], (match["words"],)))
    return found


def _span(text: str, words: tuple[str, ...]) -> tuple[int, int] | None:
    """Where the words stand in the text: from the first to the end of the last."""
    positions = []
    start = 0
    for word in words:
        match = re.compile(r"(?<!\w)" + re.escape(word) + r"(?!\w)", re.IGNORECASE).search(text, start)
        if match is None:
            return None
        positions.append(match.span())
        start = match.end()
    return positions[0][0], positions[-1][1]


def _cut(text: str, span: tuple[int, int], replacement: str = "") -> str:
    return re.sub(r"\s+", " ", text[:span[0]] + replacement + text[span[1]:]).strip()


def _probe(phrase: str, parse: Parse) -> list[_Note]:
    try:
        return _notes(parse(phrase)[1])
    except NotUnderstood:
        return []


def _set(base: str, phrase: str, parse: Parse) -> tuple[str, str]:
    """Replace the previous value of each dimension the phrase names; add what is new."""
    combined, rest, said = base, phrase, []
    previous = _notes(parse(base)[1])
    for note in (n for n in _probe(phrase, parse) if n.kind == "value"):
        same = [p for p in previous if p.dim == note.dim and p.kind in ("value", "negated")]
        where_new, where_old = _span(rest, note.words), _span(combined, same[0].words) if same else None
        if where_new is None or where_old is None:
            continue
        new_words = rest[where_new[0]:where_new[1]]
        if same[0].kind == "negated":  # "not Silo 4" then "only Silo 5": the exclusion goes
            negation = _span(combined, (same[0].neg,) + same[0].words)
            if negation is None:
                continue
            combined = _cut(combined, negation)
            said.append(f"dropped \u2018{same[0].neg} {' '.join(same[0].words)}\u2019 ({note.dim})")
            continue
        old_words = combined[where_old[0]:where_old[1]]
        combined = _cut(combined, where_old, new_words)
        rest = _cut(rest, where_new)
        said.append(f"\u2018{new_words}\u2019 in place of \u2018{old_words}\u2019 ({note.dim})")
    if {w.lower() for w in rest.split()} - _FILLER:
        combined = f"{combined} {rest}"
        said.append(f"added \u2018{rest}\u2019")
    return combined, "; ".join(said)


def _exclude(base: str, phrase: str, parse: Parse) -> tuple[str, str]:
    return f"{base} excluding {phrase}", f"added \u2018excluding {phrase}\u2019"


def _sort(base: str, phrase: str, parse: Parse) -> tuple[str, str]:
    return f"{base} sorted by {phrase}", f"added \u2018sorted by {phrase}\u2019"


def _add_group(base: str, phrase: str, parse: Parse) -> tuple[str, str]:
    return f"{base} by {phrase}", f"added \u2018by {phrase}\u2019"


def _regroup(base: str, phrase: str, parse: Parse) -> tuple[str, str]:
    """One row per the phrase instead of the previous grouping (or in addition, if there was none)."""
    groups = [n for n in _notes(parse(base)[1]) if n.kind == "group"]
    if not groups:
        return f"{base} per {phrase}", f"added \u2018per {phrase}\u2019"
    combined, replaced = base, []
    for group in groups:
        words = group.words[0]
        lead = "" if re.match(r"(?i)(per|by|each|every)\b", words) else r"(?:per|by|for\s+each|for\s+every|each)\s+(?:the\s+)?"
        match = re.compile(r"(?i)(?<!\w)" + lead + re.escape(words) + r"(?!\w)").search(combined)
        if match is None:
            raise NotUnderstood(f"\u2018{words}\u2019 could not be replaced by \u2018per {phrase}\u2019.", words=[phrase])
        replaced.append(match.group(0))
        combined = _cut(combined, match.span(), "" if replaced[1:] else f"per {phrase}")
    return combined, f"\u2018per {phrase}\u2019 in place of \u2018{' '.join(replaced)}\u2019"


def _chart(base: str, phrase: str | None, parse: Parse) -> tuple[str, str]:
    """A chart is drawn from an answer with one row per something: regroup, or keep a grouping."""
    if phrase:
        combined, how = _regroup(base, phrase, parse)
        return combined, how + " (charted as it has one row per " + phrase + ")"
    if not any(n.kind == "group" for n in _notes(parse(base)[1])):
        raise NotUnderstood("A chart needs one row per something, e.g. \u201cas a chart by month\u201d.", words=[])
    return base, "the same reading, charted"


_COMBINE: dict[str, Callable[[str, str | None, Parse], tuple[str, str]]] = {
    "set": _set, "exclude": _exclude, "sort": _sort, "add_group": _add_group, "regroup": _regroup, "chart": _chart}
