"""String-building functions cannot build huge values.

`replace(replace(data::text, 'a', data::text), ...)` squares a value's length at each level, from
a plan the EXPLAIN budget sees as nearly free, in memory `work_mem` does not bound. So: `replace`
replaces with literals only (its growth is then a known factor, bounded along every nesting
path), and string-building functions (`replace`, `concat`, `concat_ws`, `||`, `string_agg`)
nest only a few levels deep. Concatenation alone grows with the statement's size, which
`limit_complexity` bounds.
"""

from __future__ import annotations

from collections.abc import Iterator
from math import ceil

from sqlglot import exp

from guardrails.errors import GuardrailError, UnboundedGrowth
from guardrails.statement import Statement

GROWTH_FUNCTIONS = (exp.Replace, exp.Concat, exp.ConcatWs, exp.DPipe, exp.GroupConcat)
MAX_GROWTH_DEPTH = 3
MAX_GROWTH_FACTOR = 16
MAX_REPLACEMENT_CHARS = 64


def _string_literal(node: exp.Expression | None) -> str | None:
    return node.this if isinstance(node, exp.Literal) and node.is_string else None


def _replace_factor(node: exp.Replace) -> tuple[int, GuardrailError | None]:
    pattern = _string_literal(node.args.get("expression"))
    replacement = _string_literal(node.args.get("replacement")) if node.args.get("replacement") is not None else ""
    if pattern is None or replacement is None:
        return 1, UnboundedGrowth("replace() takes literal strings as the text to find and its replacement")
    if len(replacement) > MAX_REPLACEMENT_CHARS:
        return 1, UnboundedGrowth(f"a replacement text is limited to {MAX_REPLACEMENT_CHARS} characters")
    if not pattern:
        return 1, None  # an empty pattern replaces nothing
    return max(1, ceil(len(replacement) / len(pattern))), None


def bound_growth(statement: Statement) -> Iterator[GuardrailError]:
    for node in statement.nodes:
        if not isinstance(node, GROWTH_FUNCTIONS):
            continue
        if isinstance(node, exp.Replace):
            _, problem = _replace_factor(node)
            if problem is not None:
                yield problem
        if isinstance(node.parent, type(node)) and not isinstance(node, exp.Replace):
            continue  # a || b || c is one concatenation; its outermost node speaks for it
        depth, factor = 0, 1
        current: exp.Expression | None = node
        previous: exp.Expression | None = None
        while current is not None:
            if isinstance(current, GROWTH_FUNCTIONS) and not (
                    previous is not None and type(previous) is type(current) and not isinstance(current, exp.Replace)):
                depth += 1
            if isinstance(current, exp.Replace):
                factor *= _replace_factor(current)[0]
            previous, current = current, current.parent
        if depth > MAX_GROWTH_DEPTH:
            yield UnboundedGrowth(f"string functions are nested {depth} deep; the limit is {MAX_GROWTH_DEPTH}")
        if factor > MAX_GROWTH_FACTOR:
            yield UnboundedGrowth(f"nested replace() calls could grow a value {factor}-fold; the limit is "
                                  f"{MAX_GROWTH_FACTOR}")
