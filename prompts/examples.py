"""The verified-examples block of a SQL prompt: its own template, put in front of the question.

Kept apart from the main templates so that any SQL prompt can carry it: the block goes at the
start of the user message, and the system message (the schema and rules) stays the same from
question to question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from importlib import resources

import jinja2

from prompts.render import Prompt

TEMPLATE = "_examples.j2"


@cache
def _template() -> jinja2.Template:
    folder = resources.files("prompts") / "templates"
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), undefined=jinja2.StrictUndefined,
                                     autoescape=False)
    return environment.get_template(TEMPLATE)


def with_examples(prompt: Prompt, examples: Sequence) -> Prompt:
    """`prompt` with the examples (objects with `question` and `sql`) before its user message;
    unchanged when there are none.

    >>> from types import SimpleNamespace as E
    >>> p = with_examples(Prompt("sql", "rules", "Question: cranes?"), [E(question="cranes", sql="SELECT 1")])
    >>> print(p.user)  # doctest: +NORMALIZE_WHITESPACE
    Verified examples from this organization (an administrator approved each statement for its
    question; follow them where the new question asks the same thing):
    <BLANKLINE>
    Example 1
    Question: cranes
    SQL: SELECT 1
    <BLANKLINE>
    Question: cranes?
    """
    if not examples:
        return prompt
    block = _template().render(examples=list(examples)).strip()
    return replace(prompt, user=f"{block}\n\n{prompt.user}")
