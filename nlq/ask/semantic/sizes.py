"""Sizes in class names ('Generator 500kVA', 'Crawler Crane 250T', 'Transit Mixer 9m3') and the
ways people write them ('500kva', '500 kVA', '250 tonne', '9 m3'), so a size names its class.

A size is a number and a unit, compared after the unit is brought to one spelling; a size that two
classes share names neither unless a word of one of them follows it ('5m3 loader').
"""

from __future__ import annotations

import re

from nlq.ask.semantic.tokens import Token, root, tokenize

UNITS = {"t": "t", "ton": "t", "tons": "t", "tonne": "t", "tonnes": "t", "tonner": "t", "tn": "t",
         "kva": "kva", "kw": "kw", "cfm": "cfm", "m3": "m3", "cbm": "m3", "m": "m", "metre": "m", "meter": "m",
         "metres": "m", "meters": "m", "mtr": "m", "a": "a", "amp": "a", "amps": "a", "seat": "seat",
         "seats": "seat", "seater": "seat"}
_FUSED = re.compile(r"(\d+(?:\.\d+)?)([a-z][a-z0-9]*)")
_MILLIONS = re.compile(r"(\d+)\s?m")  # '42m' is read as 42 million by the tokenizer; as a size it is metres

Size = tuple[str, str]


def _number(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text.lstrip("0") or "0"


def size_at(tokens: list[Token], i: int) -> tuple[int, Size] | None:
    """The size written at tokens[i] and how many tokens it takes, or None."""
    t = tokens[i]
    if t.kind == "word" and (m := _FUSED.fullmatch(t.text)) and m.group(2) in UNITS:
        return 1, (_number(m.group(1)), UNITS[m.group(2)])
    if t.kind == "num" and _MILLIONS.fullmatch(t.surface.lower()):
        return 1, (_number(t.surface.lower().rstrip("m").strip()), "m")
    if t.kind == "num" and not t.money and not t.percent:
        if i + 1 < len(tokens) and tokens[i + 1].kind == "word" and tokens[i + 1].text in UNITS:
            return 2, (_number(t.text.replace(",", "")), UNITS[tokens[i + 1].text])
    return None


def value_size(value: str) -> tuple[Size, set[str]] | None:
    """The size in a stored value and the roots of its other words ('Crawler Crane 250T' ->
    (('250', 't'), {'crawl', 'crane'})), or None when it names no size."""
    tokens = [t for t in tokenize(value) if t.kind != "punct"]
    for i in range(len(tokens)):
        found = size_at(tokens, i)
        if found:
            n, size = found
            return size, {root(t.text) for k, t in enumerate(tokens) if not i <= k < i + n}
    return None


def match_size(tokens: list[Token], i: int, sizes: dict[Size, dict[tuple[str, str], set[str]]]
               ) -> tuple[int, list[tuple[str, str]]] | None:
    """(tokens taken, the one value) for a size at tokens[i] and the words of its value that follow
    it; None when no value has the size, or several do and no following word tells them apart."""
    found = size_at(tokens, i)
    if not found or found[1] not in sizes:
        return None
    n, size = found
    candidates = dict(sizes[size])
    j = i + n
    while j < len(tokens) and tokens[j].kind == "word":
        word = root(tokens[j].text)
        narrowed = {e: words for e, words in candidates.items() if word in words}
        if not narrowed:
            break
        candidates, j = narrowed, j + 1
    if len(candidates) != 1:
        return None
    return j - i, list(candidates)
