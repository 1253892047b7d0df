"""Which stored value a literal means: exact, then case, then singular/plural and number words,
then a short name, then close spelling (rapidfuzz). Pure functions over one column's values.

A match is confident only when exactly one value fits at the first step that finds any;
otherwise the caller asks the user. Numbers are identities, never spellings: 'Silo 44' is not
a typo of 'Silo 4'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

MAX_CHOICES = 6
CLOSE = 0.75      # normalized OSA similarity for a close spelling
MARGIN = 0.1      # ... and this much better than the runner-up
PLAUSIBLE = 0.6   # runners-up above this make a close spelling ambiguous
NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}
_TOKEN = re.compile(r"[^\W\d_]+|\d+")


@dataclass(frozen=True)
class Match:
    """`status` is `exact` (leave the literal alone), `matched` (one value: `value`, found by
    `how`) or `clarify` (`choices`, best first; `reason` ambiguous or no_match)."""

    status: str
    value: str | None = None
    how: str | None = None
    choices: tuple[str, ...] = ()
    reason: str | None = None


def singular(token: str) -> str:
    """A plural word's singular, for matching only.

    >>> [singular(w) for w in ("cranes", "boxes", "utilities", "glass", "silos", "bus", "4")]
    ['crane', 'box', 'utility', 'glass', 'silo', 'bus', '4']
    """
    if token.isdigit() or len(token) <= 3:
        return token
    if token.endswith("ies"):
        return token[:-3] + "y"
    if token.endswith(("sses", "xes", "zes", "ches", "shes")):
        return token[:-2]
    if token.endswith("s") and not token.endswith(("ss", "us")):
        return token[:-1]
    return token


def words(text: str) -> tuple[str, ...]:
    """Lower-case words and numbers, letters split from digits, punctuation dropped.

    >>> words("Silo4"), words("Mercedes-Benz"), words("Batch Plant 120m3/h")
    (('silo', '4'), ('mercedes', 'benz'), ('batch', 'plant', '120', 'm', '3', 'h'))
    """
    return tuple(_TOKEN.findall(text.casefold()))


def fold(text: str) -> tuple[str, ...]:
    """`words`, with number words as digits and plurals as singulars.

    >>> fold("silo four"), fold("Cranes"), fold("Silo 4")
    (('silo', '4'), ('crane',), ('silo', '4'))
    """
    return tuple(singular(NUMBER_WORDS.get(w, w)) for w in words(text))


def _numbers(tokens: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(t for t in tokens if t.isdigit())


def match_value(literal: str, values: tuple[str, ...], *, short_names: bool = False) -> Match:
    """The stored value `literal` stands for, among `values` (one column's).

    `short_names`: a single word may stand for a value with that word (or its beginning) anywhere
    in it, as a make is called by its first or family name ('CAT', 'Deere'); otherwise only for
    a value it begins ('Tank' for 'Tank Farm').

    >>> areas = ("Silo 1", "Silo 4", "Tank Farm")
    >>> match_value("Silo 4", areas).status, match_value("silo four", areas).value
    ('exact', 'Silo 4')
    >>> match_value("Silo", areas).choices, match_value("Silo 44", areas).reason
    (('Silo 1', 'Silo 4'), 'no_match')
    >>> match_value("CAT", ("Caterpillar", "Komatsu"), short_names=True).value
    'Caterpillar'
    """
    if literal in values:
        return Match("exact")
    steps = (("case", lambda: [v for v in values if v.casefold() == literal.casefold()]),
             ("number word" if any(w in NUMBER_WORDS for w in words(literal)) else "singular/plural",
              lambda: [v for v in values if fold(v) == fold(literal)]),
             ("short name", lambda: _short(literal, values, short_names)))
    for how, find in steps:
        found = list(dict.fromkeys(find()))
        if len(found) == 1:
            return Match("matched", value=found[0], how=how)
        if found:
            return Match("clarify", choices=tuple(found[:MAX_CHOICES]), reason="ambiguous")
    return _close(literal, values)


def _short(literal: str, values: tuple[str, ...], anywhere: bool) -> list[str]:
    wanted = fold(literal)
    if not wanted or len("".join(wanted)) < 3:
        return []
    found = []
    n, last = len(wanted), wanted[-1]
    for value in values:
        tokens = fold(value)
        if len(tokens) < n or tokens == wanted:
            continue
        word = tokens[n - 1]
        if tokens[:n - 1] == wanted[:-1] and ((word == last and len(tokens) > n)
                                              or (word.startswith(last) and len(last) >= 4 and not last.isdigit())):
            found.append(value)  # the value's beginning: 'Tank' -> 'Tank Farm', 'Scaffold' -> 'Scaffolding'
        elif anywhere and n == 1 and len(last) >= 3 and not last.isdigit() and any(t.startswith(last) for t in tokens):
            found.append(value)  # a make by one of its names: 'CAT' -> 'Caterpillar', 'Deere' -> 'John Deere'
    return found


def _close(literal: str, values: tuple[str, ...]) -> Match:
    """Close spelling among values with the same numbers; else the nearest values as choices."""
    wanted = fold(literal)
    text = " ".join(wanted)
    same_numbers = {v: " ".join(fold(v)) for v in values if _numbers(fold(v)) == _numbers(wanted)}
    if len(text.replace(" ", "")) >= 4 and same_numbers:
        scored = sorted(((OSA.normalized_similarity(text, folded), v) for v, folded in same_numbers.items()),
                        key=lambda s: -s[0])
        best, value = scored[0]
        runner_up = scored[1][0] if len(scored) > 1 else 0.0
        if best >= CLOSE and best - runner_up >= MARGIN and runner_up < PLAUSIBLE + MARGIN:
            return Match("matched", value=value, how="close spelling")
        plausible = [v for s, v in scored if s >= PLAUSIBLE]
        if len(plausible) > 1:
            return Match("clarify", choices=tuple(plausible[:MAX_CHOICES]), reason="ambiguous")
    return Match("clarify", choices=nearest(literal, values), reason="no_match")


def nearest(literal: str, values: tuple[str, ...]) -> tuple[str, ...]:
    """The values most like `literal`, best first (what to offer when nothing fits)."""
    folded = {v: " ".join(fold(v)) for v in values}
    ranked = process.extract(" ".join(fold(literal)), folded, scorer=fuzz.WRatio, limit=MAX_CHOICES)
    return tuple(key for _, _, key in ranked)
