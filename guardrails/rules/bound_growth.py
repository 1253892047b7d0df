"""String-building functions cannot build huge values, and patterns cannot run unbounded.

`replace(replace(data::text, 'a', data::text), ...)` squares a value's length at each level; a
chain of CTEs each concatenating the previous one's column a hundred times multiplies it per
level; both from a plan the EXPLAIN budget sees as nearly free, in memory `work_mem` does not
bound (the planner alone, inlining the CTEs, can exhaust the machine), and a LIKE over such a
value ignores cancellation for minutes. So:

- `replace` replaces with literals only, and its growth factor is bounded along every path;
- string-building functions (`replace`, `concat`, `concat_ws`, `||`, `string_agg`) nest at most
  a few levels deep, `concat` takes a bounded number of arguments, and a value a CTE or derived
  table built with them is never built on again (the growth would restart at each level);
- `string_agg` aggregates plain values: no built text and not the whole record (`data`);
- LIKE / ILIKE patterns are short literals, over stored values (not aggregates, subqueries or a
  value a CTE or derived table built), which PostgreSQL cannot interrupt while it matches;
- `string_agg` has a short literal separator and never aggregates the whole record, however the
  column was renamed on the way;
- `ARRAY(subquery)` (one value holding every row of a subquery) is refused.

Concatenation within one expression grows with the statement's size, which `limit_complexity`
bounds.
"""

from __future__ import annotations

from collections.abc import Iterator
from math import ceil

from sqlglot import exp

from guardrails.errors import GuardrailError, UnboundedGrowth
from guardrails.resolve import GROWTH_FUNCTIONS
from guardrails.statement import Statement

MAX_GROWTH_DEPTH = 3
MAX_GROWTH_FACTOR = 16
MAX_REPLACEMENT_CHARS = 64
MAX_CONCAT_ARGUMENTS = 32
MAX_PATTERN_CHARS = 200
MAX_PATTERN_WILDCARDS = 8
MAX_SEPARATOR_CHARS = 16
MAX_PATTERN_SUBJECT_WEIGHT = 32
RECORD_COLUMN = "data"


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


def _nesting(node: exp.Expression) -> tuple[int, int]:
    """Depth of string-building functions from `node` up to the root, and the replace factor."""
    depth, factor = 0, 1
    current: exp.Expression | None = node
    previous: exp.Expression | None = None
    while current is not None:
        if isinstance(current, GROWTH_FUNCTIONS) and not (
                previous is not None and type(previous) is type(current) and not isinstance(current, exp.Replace)):
            depth += 1  # a || b || c is one concatenation, not three nested ones
        if isinstance(current, exp.Replace):
            factor *= _replace_factor(current)[0]
        previous, current = current, current.parent
    return depth, factor


def _check_growth_function(statement: Statement, node: exp.Expression) -> Iterator[GuardrailError]:
    resolver = statement.resolver
    if isinstance(node, exp.Replace):
        _, problem = _replace_factor(node)
        if problem is not None:
            yield problem
    if isinstance(node, (exp.Concat, exp.ConcatWs)) and len(node.expressions) > MAX_CONCAT_ARGUMENTS:
        yield UnboundedGrowth(f"concat() takes at most {MAX_CONCAT_ARGUMENTS} arguments")
    if isinstance(node, exp.GroupConcat):
        argument = node.this
        if isinstance(argument, exp.Distinct) and argument.expressions:
            argument = argument.expressions[0]
        if resolver.builds_text(argument):
            yield UnboundedGrowth("string_agg() aggregates plain values, not text built by string functions")
        if RECORD_COLUMN in resolver.base_columns(argument) or any(
                isinstance(c.args.get("this"), exp.Star) for c in _columns(argument)):
            yield UnboundedGrowth("string_agg() cannot aggregate the whole record (data); name the fields")
        separator = node.args.get("separator")
        text = _string_literal(separator) if separator is not None else ""
        if text is None or len(text) > MAX_SEPARATOR_CHARS:
            yield UnboundedGrowth(f"the separator of string_agg() is a literal of at most {MAX_SEPARATOR_CHARS} "
                                  "characters")
    if isinstance(node.parent, type(node)) and not isinstance(node, exp.Replace):
        return  # the outermost node of a chain of the same function speaks for it
    if resolver.uses_grown(node):
        yield UnboundedGrowth("a value built by string functions in a CTE or subquery cannot be built on again")
    depth, factor = _nesting(node)
    if depth > MAX_GROWTH_DEPTH:
        yield UnboundedGrowth(f"string functions are nested {depth} deep; the limit is {MAX_GROWTH_DEPTH}")
    if factor > MAX_GROWTH_FACTOR:
        yield UnboundedGrowth(f"nested replace() calls could grow a value {factor}-fold; the limit is "
                              f"{MAX_GROWTH_FACTOR}")


def _columns(node: exp.Expression) -> list[exp.Column]:
    return [node] if isinstance(node, exp.Column) else list(node.find_all(exp.Column))


def _patterns(node: exp.Expression) -> list[exp.Expression] | None:
    """The literal patterns of a LIKE (one, or a list under ANY / ALL); None if any is not a literal."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, (exp.Any, exp.All)):
        inner = node.this
        while isinstance(inner, exp.Paren):
            inner = inner.this
        items = inner.expressions if isinstance(inner, (exp.Array, exp.Tuple)) else None
        return list(items) if items and all(_string_literal(i) is not None for i in items) else None
    return [node] if _string_literal(node) is not None else None


def _check_pattern(statement: Statement, node: exp.Like | exp.ILike) -> Iterator[GuardrailError]:
    patterns = _patterns(node.expression)
    if patterns is None:
        yield UnboundedGrowth("LIKE and ILIKE patterns must be literal strings")
        return
    for pattern in patterns:
        text = pattern.this
        if len(text) > MAX_PATTERN_CHARS or text.count("%") + text.count("_") > MAX_PATTERN_WILDCARDS:
            yield UnboundedGrowth(f"a LIKE pattern is limited to {MAX_PATTERN_CHARS} characters and "
                                  f"{MAX_PATTERN_WILDCARDS} wildcards")
    subject = node.this
    if statement.resolver.uses_grown(subject):
        yield UnboundedGrowth("LIKE and ILIKE cannot read text a CTE or subquery built with string functions")
    elif (subject.find(exp.AggFunc, exp.Query) is not None or isinstance(subject, (exp.AggFunc, exp.Query))
          or statement.resolver.weight(subject) > MAX_PATTERN_SUBJECT_WEIGHT):
        yield UnboundedGrowth("LIKE and ILIKE apply to stored values (a column, or a simple expression of "
                              "columns), not to aggregates or subqueries")


def bound_growth(statement: Statement) -> Iterator[GuardrailError]:
    for node in statement.nodes:
        if isinstance(node, GROWTH_FUNCTIONS):
            yield from _check_growth_function(statement, node)
        elif isinstance(node, (exp.Like, exp.ILike)):
            yield from _check_pattern(statement, node)
        elif isinstance(node, exp.Array) and any(isinstance(e, exp.Query) for e in node.expressions):
            yield UnboundedGrowth("ARRAY(subquery) puts every row of a subquery into one value; aggregate instead")
