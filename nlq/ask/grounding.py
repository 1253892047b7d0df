"""Value grounding: literals an LLM compared with text columns, resolved against the caller's own
vocabulary, in the service (the LLM never sees a value).

After the guardrails allow a statement, every string literal compared with a grounded column
(`=`, `<>`, `IN (...)`, `LIKE` / `ILIKE`, also through `lower()` / `upper()` and through CTEs
and derived tables that pass the column on) is matched (`nlq/ask/matching.py`). One confident
match rewrites the literal in the sqlglot tree and the result goes through the guardrails again;
anything else becomes a clarification with choices, and nothing runs.

Patterns: one that matches some stored value is left alone. One that matches none is grounded on
its core text (the pattern without its leading and trailing `%`): first as a singular / number
word form that some value contains (`'%cranes%'` -> `'%crane%'`), then as a whole value (the
pattern's wildcards kept around it). A pattern with wildcards inside it is left alone. Inside an
OR (a model hedging with several spellings), a literal with no confident match is left alone
rather than asked about: another branch may be the one that matches.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from sqlglot import exp

from guardrails import Verdict
from guardrails.errors import GuardrailError
from guardrails.names import normalized
from guardrails.statement import parse_statement
from nlq.ask.matching import MAX_CHOICES, Match, fold, match_value, nearest
from nlq.ask.vocabulary import GROUNDED_COLUMNS, Vocabulary
from nlq.errors import InvalidRequest
from nlq.guard import guard
from store.fields import VIEW_COLUMNS

MAX_BINDINGS = 10
log = logging.getLogger(__name__)
_TEXT_TYPES = {exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR}
_STOP = (exp.Where, exp.Having, exp.Join, exp.Select, exp.Subquery, exp.Qualify)


@dataclass(frozen=True)
class Binding:
    """The user's answer to a clarification: the literal `source` compared with `column` means
    the stored value `target`."""

    column: str
    source: str
    target: str

    def as_dict(self) -> dict:
        return {"column": self.column, "from": self.source, "to": self.target}


@dataclass
class Grounding:
    """What grounding did to one statement: `rewrites` (column, from, to, how), `clarify` (column,
    from, choices, reason), and the statement to run when nothing needs asking."""

    verdict: Verdict
    sql: str  # the statement before scoping, as the explanation describes it
    rewrites: list[dict] = field(default_factory=list)
    clarify: list[dict] = field(default_factory=list)

    def lines(self) -> str:
        """One plain sentence per rewrite, for the explanation."""
        return " ".join(f"'{r['from']}' matched {r['column']} '{r['to']}' ({r['how']})." for r in self.rewrites)

    def audit(self, bindings: list[Binding]) -> dict:
        return {"rewrites": self.rewrites, "clarify": self.clarify, "bindings": [b.as_dict() for b in bindings]}


def check_bindings(bindings: list[Binding], vocabulary: Vocabulary) -> None:
    """Refuse bindings to a column that is not grounded or to a value the caller's organization
    does not store (422): a binding can only pick one of the caller's own values."""
    if len(bindings) > MAX_BINDINGS:
        raise InvalidRequest(f"At most {MAX_BINDINGS} bindings per question.")
    for binding in bindings:
        values = vocabulary.values(binding.column) if binding.column in GROUNDED_COLUMNS else None
        if values is None:
            raise InvalidRequest(f"Column {binding.column!r} takes no bindings; grounded columns are "
                                 f"{', '.join(GROUNDED_COLUMNS)}.")
        if binding.target not in values:
            raise InvalidRequest(f"{binding.target!r} is not a stored value of {binding.column}.")


def ground(sql: str, verdict: Verdict, vocabulary: Vocabulary, *, org_id: str, max_rows: int,
           bindings: list[Binding] = (), sees_costs: bool = True) -> Grounding:
    """Ground the literals of `sql` (allowed as `verdict`); see the module docstring."""
    try:
        statement = parse_statement(sql, org_id, VIEW_COLUMNS)
    except GuardrailError:
        return Grounding(verdict, sql)
    result = Grounding(verdict, sql)
    changed = False
    asked: set[tuple[str, str]] = set()
    for literal, column, transform, pattern in _compared_literals(statement):
        values = vocabulary.values(column)
        if not values:
            continue
        text, hedged = literal.this, _in_disjunction(literal)
        found = _bound(text, column, bindings, pattern)
        if found is None:
            found = (_match_pattern(text, values, transform, pattern, column) if pattern
                     else _match(text, values, transform, column))
        if found.status == "matched":
            # For a pattern, `value` is the whole new pattern; otherwise the value, cased as compared.
            new = found.value if pattern else _apply(found.value, transform)
            literal.replace(exp.Literal.string(new))
            changed = True
            result.rewrites.append({"column": column, "from": text, "to": new, "how": found.how})
        elif found.status == "clarify" and not hedged and (column, text) not in asked:
            asked.add((column, text))
            result.clarify.append({"column": column, "from": text, "choices": list(found.choices),
                                   "reason": found.reason})
    if result.clarify or not changed:
        return result
    grounded_sql = statement.ast.sql(dialect="postgres")
    checked = guard(grounded_sql, org_id=org_id, max_rows=max_rows, sees_costs=sees_costs)
    if not checked.allowed:  # cannot happen for a literal swap; if it does, run what was checked
        return Grounding(verdict, sql)
    result.verdict, result.sql = checked, grounded_sql
    return result


def _bound(literal: str, column: str, bindings, pattern: str | None) -> Match | None:
    """The user's own choice for this literal, if they made one (a pattern keeps its wildcards)."""
    for binding in bindings:
        if binding.column == column and (binding.source == literal or fold(binding.source) == fold(literal)):
            if binding.target == literal:
                return Match("exact")
            value = binding.target
            if pattern:
                lead, core, trail = _split_pattern(literal)
                value = f"{lead}{_escape(value)}{trail}"
            return Match("matched", value=value, how="your choice")
    return None


def _split_pattern(pattern: str) -> tuple[str, str, str]:
    """The leading wildcards, the core text and the trailing wildcards of a pattern.

    >>> _split_pattern("%crane%"), _split_pattern("Silo%"), _split_pattern("%%")
    (('%', 'crane', '%'), ('', 'Silo', '%'), ('%%', '', ''))
    """
    core = pattern.strip("%")
    lead = pattern[:len(pattern) - len(pattern.lstrip("%"))]
    trail = pattern[len(pattern.rstrip("%")):] if core else ""
    return lead, core, trail


def _apply(value: str, transform: str | None) -> str:
    return value.lower() if transform == "lower" else value.upper() if transform == "upper" else value


def _match(literal: str, values: tuple[str, ...], transform: str | None, column: str) -> Match:
    if transform is not None and literal in {_apply(v, transform) for v in values}:
        return Match("exact")
    return match_value(literal, values, short_names=column == "manufacturer")


def _match_pattern(pattern: str, values: tuple[str, ...], transform: str | None, like: str, column: str) -> Match:
    """A LIKE / ILIKE pattern: `matched` carries the whole new pattern."""
    insensitive = like == "ilike"
    shown = [_apply(v, transform) for v in values]
    if any(_like(pattern, v, insensitive) for v in shown):
        return Match("exact")
    lead, core, trail = _split_pattern(pattern)
    if not core or any(c in core for c in "%_\\"):
        return Match("exact")  # wildcards inside: not a name, leave it
    folded = " ".join(fold(core))
    if insensitive or transform is not None:
        if lead and trail and folded != core.casefold() and any(folded in " ".join(fold(v)) and
                                                                 folded in v.casefold() for v in values):
            return Match("matched", value=f"{lead}{_apply(folded, transform)}{trail}", how="singular/plural")
    found = _match(core, values, transform, column)
    if found.status == "matched":
        return Match("matched", value=f"{lead}{_escape(_apply(found.value, transform))}{trail}", how=found.how)
    if found.status == "exact":  # the core is a value, the pattern around it was the problem: leave it
        return found
    return Match("clarify", choices=found.choices or nearest(core, values)[:MAX_CHOICES], reason=found.reason)


def _like(pattern: str, value: str, insensitive: bool) -> bool:
    r"""PostgreSQL's LIKE (backslash escapes) on one value.

    >>> _like("%crane%", "Crawler Crane 250T", True), _like("%crane%", "Crawler Crane 250T", False)
    (True, False)
    >>> _like("Silo\\_4", "Silo_4", False), _like("Silo\\_4", "Silo 4", False)
    (True, False)
    """
    regex, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            regex.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        regex.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        i += 1
    return re.fullmatch("".join(regex), value, re.DOTALL | (re.IGNORECASE if insensitive else 0)) is not None


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _compared_literals(statement):
    """(literal, view column, transform, pattern kind) for each string literal compared with a
    grounded column: `pattern` is 'like' / 'ilike' for patterns, else None."""
    resolver = statement.resolver
    for node in list(statement.ast.walk()):
        if isinstance(node, (exp.EQ, exp.NEQ)):
            pairs = [(node.this, node.expression), (node.expression, node.this)]
            for side, other in pairs:
                if _is_text(other):
                    traced = _trace(resolver, side)
                    if traced:
                        yield other, *traced, None
        elif isinstance(node, exp.In) and not node.args.get("query"):
            traced = _trace(resolver, node.this)
            if traced:
                for item in node.expressions:
                    if _is_text(item):
                        yield item, *traced, None
        elif isinstance(node, (exp.Like, exp.ILike)) and _is_text(node.expression):
            traced = _trace(resolver, node.this)
            if traced:
                yield node.expression, *traced, "ilike" if isinstance(node, exp.ILike) else "like"


def _is_text(node) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def _trace(resolver, node, depth: int = 0) -> tuple[str, str | None] | None:
    """The grounded view column `node` reads unchanged but for case (lower/upper), or None."""
    transform = None
    while depth < 16:
        depth += 1
        if isinstance(node, (exp.Paren, exp.Alias)):
            node = node.this
        elif isinstance(node, (exp.Lower, exp.Upper)):
            transform = transform or ("lower" if isinstance(node, exp.Lower) else "upper")
            node = node.this
        elif isinstance(node, exp.Cast) and node.to.this in _TEXT_TYPES:
            node = node.this
        elif isinstance(node, exp.Column) and isinstance(node.this, exp.Identifier):
            inner = resolver.defining_expression(node)
            if inner is not None:
                node = inner
                continue
            if resolver.definition(node) is not None:
                return None  # a CTE column this module cannot follow (a set operation's branch)
            bases = resolver.base_columns(node)
            name = normalized(node.this)
            if bases == frozenset({name}) and name in GROUNDED_COLUMNS:
                return name, transform
            return None
        else:
            return None
    return None


def _in_disjunction(literal: exp.Expression) -> bool:
    node = literal.parent
    while node is not None and not isinstance(node, _STOP):
        if isinstance(node, exp.Or):
            return True
        node = node.parent
    return False


def clarify_message(items: list[dict]) -> str:
    """What to ask the user, naming each literal and why it could not be placed."""
    parts = []
    for item in items:
        why = "matches several stored values" if item["reason"] == "ambiguous" else "matches no stored value"
        parts.append(f"'{item['from']}' {why} of {item['column']}")
    return "Which value did you mean? " + "; ".join(parts) + ". Pick one to run the question with it."


async def ground_answer(vocabularies, provider, sql: str, verdict: Verdict, *, org_id: str, user_id: int,
                        max_rows: int, bindings: list[Binding] = (), sees_costs: bool = True) -> Grounding:
    """`ground` with the caller's vocabulary from the cache. The offline parser writes stored
    values itself (it reads the vocabulary in-process), so its statements are left as they are;
    so is every statement when the vocabulary cannot be read (grounding helps, it never blocks)."""
    if vocabularies is None or getattr(provider, "name", None) == "offline":
        return Grounding(verdict, sql)
    try:
        vocabulary = await vocabularies.for_user(org_id, user_id)
    except Exception:  # noqa: BLE001 - the pool busy or the database gone: answer ungrounded
        log.warning("vocabulary of %s could not be read; answering without grounding", org_id, exc_info=True)
        return Grounding(verdict, sql)
    return ground(sql, verdict, vocabulary, org_id=org_id, max_rows=max_rows, bindings=bindings,
                  sees_costs=sees_costs)
