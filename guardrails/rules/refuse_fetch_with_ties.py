"""No FETCH ... WITH TIES or PERCENT: the row cap cannot bound them, so they would be replaced by
`LIMIT n` and silently answer another question. Refused with a hint instead."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from guardrails.errors import ForbiddenConstruct, GuardrailError
from guardrails.statement import Statement


def refuse_fetch_with_ties(statement: Statement) -> Iterator[GuardrailError]:
    for fetch in statement.of(exp.Fetch):
        options = fetch.args.get("limit_options")
        if options is not None and (options.args.get("with_ties") or options.args.get("percent")):
            yield ForbiddenConstruct("FETCH ... WITH TIES and FETCH ... PERCENT are not allowed; use LIMIT n "
                                     "(with an ORDER BY that breaks ties)")
