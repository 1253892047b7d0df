"""The verified-examples block of a SQL prompt: its own template, put in front of the question.

Kept apart from the main templates so that any SQL prompt can carry it: the block goes at the
start of the user message, and the system message (the schema and rules) stays the same from
question to question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from prompts.render import Prompt, _environment


def with_examples(prompt: Prompt, examples: Sequence) -> Prompt:
    """`prompt` with the examples (objects with `question` and `sql`) before its user message;
    unchanged when there are none."""
    if not examples:
        return prompt
    block = _environment().get_template("_examples.j2").render(examples=list(examples)).strip()
    return replace(prompt, user=f"{block}\n\n{prompt.user}")
