"""PEMS grid filters (`MULTIADDON_FILTERS`): how the client writes them and how a grid reads them.

An HxGN EAM grid takes its filter as numbered rows, each a condition (alias, operator, value)
with a `JOINER` (AND / OR, joining the row to the next one) and optional `LPAREN` / `RPAREN`.
The client only ever sends a disjunction of conjunctions, each conjunction in parentheses, which
is how a key condition such as `stamp > s OR (stamp = s AND id > last)` is written. The simulator
parses any such list (AND binds tighter than OR, as in SQL) into a tree it can evaluate and, like a
database's index range scan, into the lowest sort key a matching row can have.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

Condition = tuple[str, str, str]  # (alias, operator, value)

OPERATORS: dict[str, Callable] = {"=": operator.eq, "!=": operator.ne, "<>": operator.ne, "<": operator.lt,
                                  "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class GridFilterError(ValueError):
    """The filter rows do not form a valid expression."""


def render(groups: list[list[Condition]]) -> dict:
    """`(a AND b) OR (c AND d) ...` as a `MULTIADDON_FILTERS` block.

    >>> rows = render([[("pfs_id", ">", "P-9")]])["MULTIADDON_FILTER"]
    >>> [(r["JOINER"], r["LPAREN"], r["ADDON_FILTER"]["OPERATOR"]) for r in rows]
    [('AND', '', '>')]
    """
    grouped = len(groups) > 1
    items = []
    for g, conjunction in enumerate(groups):
        for i, (alias, op, value) in enumerate(conjunction):
            last = i == len(conjunction) - 1
            items.append({
                "SEQNUM": len(items) + 1,
                "JOINER": "OR" if last and g < len(groups) - 1 else "AND",
                "LPAREN": "(" if grouped and i == 0 else "",
                "RPAREN": ")" if grouped and last else "",
                "ADDON_FILTER": {"ALIAS_NAME": alias, "OPERATOR": op, "VALUE": value},
            })
    return {"MULTIADDON_FILTER": items}


def conjoin(groups: list[list[Condition]], extra: list[list[Condition]]) -> list[list[Condition]]:
    """`groups AND extra`, both disjunctions of conjunctions, as one disjunction of conjunctions."""
    return [g + e for g in groups for e in extra] if extra else groups


@dataclass(frozen=True)
class Node:
    """`op` is "and" / "or" with `children`, or "cond" with `condition`."""

    op: str
    children: tuple[Node, ...] = ()
    condition: Condition | None = None


def parse(block) -> Node:
    """A `MULTIADDON_FILTERS` block (or None) as an expression tree; an empty filter is `and()`."""
    items = (block or {}).get("MULTIADDON_FILTER", [])
    if not isinstance(items, list):
        raise GridFilterError("MULTIADDON_FILTER must be a list")
    tokens: list = []
    for item in sorted(items, key=lambda it: int(it.get("SEQNUM", 0))):
        f = item["ADDON_FILTER"]
        op = str(f["OPERATOR"])
        if op not in OPERATORS:
            raise GridFilterError(f"operator {op[:10]!r} is not supported")
        tokens.extend("(" * _parens(item.get("LPAREN"), "("))
        tokens.append(Node("cond", condition=(str(f["ALIAS_NAME"]), op, str(f["VALUE"]))))
        tokens.extend(")" * _parens(item.get("RPAREN"), ")"))
        joiner = str(item.get("JOINER", "AND")).upper()
        if joiner not in ("AND", "OR"):
            raise GridFilterError(f"joiner {joiner[:10]!r} is not AND or OR")
        tokens.append(joiner)
    if tokens:
        tokens.pop()  # the last row's joiner joins nothing
    parser = _Parser(tokens)
    tree = parser.expression() if tokens else Node("and")
    if parser.position != len(tokens):
        raise GridFilterError("unbalanced parentheses in the filter")
    return tree


def _parens(value, char: str) -> int:
    if value is True:
        return 1
    if value in (None, False, "", "false", "N"):
        return 0
    text = str(value)
    if text in ("true", "Y"):
        return 1
    if set(text) != {char}:
        raise GridFilterError(f"{'LPAREN' if char == '(' else 'RPAREN'} must be '{char}' (or several), true or empty")
    return len(text)


class _Parser:
    def __init__(self, tokens: list) -> None:
        self.tokens, self.position = tokens, 0

    def _peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def expression(self) -> Node:
        terms = [self.term()]
        while self._peek() == "OR":
            self.position += 1
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else Node("or", tuple(terms))

    def term(self) -> Node:
        factors = [self.factor()]
        while self._peek() == "AND":
            self.position += 1
            factors.append(self.factor())
        return factors[0] if len(factors) == 1 else Node("and", tuple(factors))

    def factor(self) -> Node:
        token = self._peek()
        self.position += 1
        if token == "(":
            inner = self.expression()
            if self._peek() != ")":
                raise GridFilterError("unbalanced parentheses in the filter")
            self.position += 1
            return inner
        if isinstance(token, Node):
            return token
        raise GridFilterError("a joiner or parenthesis is out of place in the filter")


def conditions(node: Node) -> list[Condition]:
    """Every condition of the tree, in order."""
    if node.op == "cond":
        return [node.condition]
    return [c for child in node.children for c in conditions(child)]


def compile_tree(node: Node, fields: dict[str, tuple[Callable, Callable]]) -> Callable:
    """A predicate over rows. `fields[alias]` is (getter(row) -> value, convert(filter text) -> value)."""
    if node.op == "cond":
        alias, op, text = node.condition
        if alias not in fields:
            raise GridFilterError(f"cannot filter on {alias[:40]!r}")
        get, convert = fields[alias]
        value, compare = convert(text), OPERATORS[op]
        return lambda row: compare(get(row), value)
    parts = [compile_tree(child, fields) for child in node.children]
    if node.op == "and":
        return lambda row: all(p(row) for p in parts)
    return lambda row: any(p(row) for p in parts)


def lower_bound(node: Node, alias: str, convert: Callable) -> tuple[object, bool] | None:
    """The lowest value of `alias` a matching row can have, as (value, inclusive); None: no bound."""
    if node.op == "cond":
        name, op, text = node.condition
        if name == alias and op in (">", ">=", "="):
            return convert(text), op != ">"
        return None
    bounds = [lower_bound(child, alias, convert) for child in node.children]
    if node.op == "and":
        known = [b for b in bounds if b is not None]
        return max(known, key=lambda b: (b[0], not b[1])) if known else None
    if not bounds or any(b is None for b in bounds):
        return None
    return min(bounds, key=lambda b: (b[0], not b[1]))
