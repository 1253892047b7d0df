"""The guardrail rules, run in this order by `guardrails.check`.

Each rule is a pure function of a parsed `Statement` that yields the violations it finds (as
`GuardrailError` instances) and never changes the tree.
"""

from guardrails.rules.allow_casts import allow_casts
from guardrails.rules.allow_functions import allow_functions
from guardrails.rules.allow_known_nodes import allow_known_nodes
from guardrails.rules.bound_growth import bound_growth
from guardrails.rules.bound_inlined_size import bound_inlined_size
from guardrails.rules.limit_complexity import limit_complexity
from guardrails.rules.refuse_cross_organization import refuse_cross_organization
from guardrails.rules.refuse_fetch_with_ties import refuse_fetch_with_ties
from guardrails.rules.refuse_recursive_cte import refuse_recursive_cte
from guardrails.rules.refuse_shadowing import refuse_shadowing
from guardrails.rules.refuse_tautologies import refuse_tautologies
from guardrails.rules.require_query import require_query
from guardrails.rules.resolve_columns import refuse_star_over_merged_joins, resolve_columns
from guardrails.rules.restrict_relations import restrict_relations

RULES = (
    require_query,
    limit_complexity,
    allow_known_nodes,
    allow_functions,
    allow_casts,
    restrict_relations,
    resolve_columns,
    refuse_star_over_merged_joins,
    bound_inlined_size,
    bound_growth,
    refuse_shadowing,
    refuse_recursive_cte,
    refuse_fetch_with_ties,
    refuse_cross_organization,
    refuse_tautologies,
)

__all__ = ["RULES"]
