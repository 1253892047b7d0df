"""Question text -> typed tokens: words (with a plural-free stem), numbers, money, percentages, ISO dates.

Number words become numbers ("silo three" -> silo 3, "two weeks" -> 2 weeks) so that stored values
and amounts match however they are written. Hyphens and slashes split words ("project-paid" is
"project paid"), the same way stored values are split, so both sides compare alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12,
}
SCALES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}
_TOKEN = re.compile(
    r"(?P<iso>\d{4}-\d{2}-\d{2})"
    r"|(?P<times>\d+(?:\.\d+)?x)(?![a-z0-9])"  # '1.5x': a multiple, one word
    r"|(?P<num>(?:(?P<cur>[$€£])\s?)?(?P<digits>\d[\d,]*(?:\.\d+)?)(?:\s?(?P<scale>k|mn|m|bn|thousand|million|billion)\b)?"
    r"(?:\s?(?P<pct>%|percent\b|per cent\b))?(?![a-z0-9]))"
    r"|(?P<ord>\d{1,2})(?:st|nd|rd|th)\b"
    r"|(?P<word>[a-z0-9]+(?:'[a-z]+)?)"
    r"|(?P<sym>[%&+=<>])"
    r"|(?P<punct>[,;?])")
_SPLIT = re.compile(r"/|(?<![0-9])-|-(?![0-9])")  # hyphens between digits stay: 2026-03-01


@dataclass
class Token:
    """One token; `text` is what is compared (digits for numbers), `surface` what the user wrote."""

    kind: str  # word | num | iso | punct
    text: str
    surface: str
    start: int
    end: int
    value: float | None = None
    money: bool = False
    percent: bool = False

    @property
    def stem(self) -> str:
        return stem(self.text)


_IRREGULAR = {"buses": "bus", "busses": "bus", "gases": "gas", "lenses": "lens"}


def stem(word: str) -> str:
    """The word without a plural ending: 'cranes' -> 'crane', 'batteries' -> 'battery'.

    >>> [stem(w) for w in ("cranes", "classes", "batteries", "gas", "status", "boxes", "buses")]
    ['crane', 'class', 'battery', 'gas', 'status', 'box', 'bus']
    """
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) <= 3 or not word.isalpha() or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def root(word: str) -> str:
    """A coarser form for matching stored values: 'welder', 'welding' -> 'weld'."""
    word = stem(word)
    for ending in ("ing", "ers", "er", "ed"):
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[:-len(ending)]
    return word


def tokenize(text: str) -> list[Token]:
    """Tokens of a question or a stored value (lower-cased; '’' read as an apostrophe)."""
    lowered = _SPLIT.sub(" ", text.lower().replace("’", "'"))
    tokens: list[Token] = []
    for m in _TOKEN.finditer(lowered):
        surface = text[m.start():m.end()]
        if m.group("iso"):
            tokens.append(Token("iso", m.group("iso"), surface, m.start(), m.end()))
        elif m.group("num"):
            value = float(m.group("digits").replace(",", "")) * SCALES.get(m.group("scale") or "", 1)
            text_value = _number_text(value)
            tokens.append(Token("num", text_value, surface, m.start(), m.end(), value,
                                money=bool(m.group("cur") or m.group("scale")), percent=bool(m.group("pct"))))
        elif m.group("times"):
            tokens.append(Token("word", m.group("times"), surface, m.start(), m.end()))
        elif m.group("ord"):
            tokens.append(Token("num", str(int(m.group("ord"))), surface, m.start(), m.end(), float(m.group("ord"))))
        elif m.group("sym"):  # '%', '&', '+', '<', '>' carry meaning: never silently dropped
            tokens.append(Token("word", m.group("sym"), surface, m.start(), m.end()))
        elif m.group("word"):
            word = m.group("word")
            if word.endswith("'s"):
                word = word[:-2]
            if word in NUMBER_WORDS:
                tokens.append(Token("num", str(NUMBER_WORDS[word]), surface, m.start(), m.end(),
                                    float(NUMBER_WORDS[word])))
            else:
                tokens.append(Token("word", word, surface, m.start(), m.end()))
        else:
            tokens.append(Token("punct", m.group("punct"), surface, m.start(), m.end()))
    return _join_number_words(tokens)


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _join_number_words(tokens: list[Token]) -> list[Token]:
    """'twenty five' -> 25, 'a hundred' -> 100; 'five hundred' -> 500."""
    out: list[Token] = []
    for token in tokens:
        prev = out[-1] if out else None
        if prev is not None and prev.kind == token.kind == "num" and prev.surface.isalpha() and token.surface.isalpha():
            if prev.value is not None and token.value is not None and prev.value >= 20 and prev.value % 10 == 0 \
                    and token.value < 10:
                value = prev.value + token.value
            elif token.value == 100 and prev.value is not None and prev.value < 10:
                value = prev.value * 100
            else:
                out.append(token)
                continue
            out[-1] = Token("num", _number_text(value), prev.surface + " " + token.surface, prev.start, token.end, value)
        elif prev is not None and prev.text == "a" and token.kind == "num" and token.text in ("100", "12"):
            out[-1] = Token("num", token.text, prev.surface + " " + token.surface, prev.start, token.end, token.value)
        else:
            out.append(token)
    return out
