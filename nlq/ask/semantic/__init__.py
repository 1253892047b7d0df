"""A deterministic semantic parser for questions about PFA records: it answers right or declines.

tokens (words, numbers, dates) -> lexicon items (fixed words and the organization's stored values)
-> grammar (conditions, groups, aggregates, ordering) -> one SELECT built as a sqlglot tree.
Every content word must be accounted for; otherwise `NotUnderstood` quotes the words left over.
"""

from __future__ import annotations

from datetime import date

from nlq.ask.providers import NotUnderstood
from nlq.ask.semantic.grammar import read_question
from nlq.ask.semantic.lexicon import Vocabulary

__all__ = ["NotUnderstood", "Vocabulary", "parse_question"]


def parse_question(question: str, vocabulary: dict[str, list[str]] | Vocabulary,
                   today: date | None = None) -> tuple[str, str]:
    """(sql, explanation) for a question, or NotUnderstood naming the words it could not read."""
    vocab = vocabulary if isinstance(vocabulary, Vocabulary) else Vocabulary.build(vocabulary)
    query, notes = read_question(question, vocab, today or date.today())
    explanation = "Offline reading of the question: " + ("; ".join(notes) if notes else "all records") + "."
    return query.statement(), explanation
