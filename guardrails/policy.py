"""The guardrails' policy in words a model can follow: the functions, casts and refusals, read from
the allowlist and the rule set themselves, so a prompt that lists them cannot drift from them.

    >>> "date_trunc" in allowed_functions() and "generate_series" not in allowed_functions()
    True
    >>> "text" in allowed_casts() and "regclass" not in allowed_casts()
    True
"""

from __future__ import annotations

from functools import cache

import sqlglot
from sqlglot import exp

from guardrails import errors
from guardrails.allowlist import ALLOWED_CAST_TYPES, ALLOWED_FUNCTION_NAMES, ALLOWED_FUNCTIONS, ALLOWED_NODES
from guardrails.names import fold

# How PostgreSQL spells the calls that sqlglot types as each allowed node (sqlglot also accepts
# other dialects' spellings, such as group_concat or median, that PostgreSQL would refuse).
# Empty: a node that is syntax rather than a named call (CASE, CAST, EXISTS, ARRAY[...]) or one
# PostgreSQL has no function for. Every allowed node must have an entry (a test checks).
POSTGRES_SPELLINGS: dict[str, tuple[str, ...]] = {
    "Count": ("count",), "Sum": ("sum",), "Avg": ("avg",), "Min": ("min",), "Max": ("max",),
    "Stddev": ("stddev",), "StddevPop": ("stddev_pop",), "StddevSamp": ("stddev_samp",),
    "Variance": ("variance", "var_samp"), "VariancePop": ("var_pop",),
    "PercentileCont": ("percentile_cont",), "PercentileDisc": ("percentile_disc",), "Median": (),
    "Mode": ("mode",), "LogicalAnd": ("bool_and",), "LogicalOr": ("bool_or",), "GroupConcat": ("string_agg",),
    "Round": ("round",), "Abs": ("abs",), "Ceil": ("ceil", "ceiling"), "Floor": ("floor",), "Sqrt": ("sqrt",),
    "Ln": ("ln",), "Log": ("log", "log10"), "Exp": ("exp",), "Pow": ("power",), "Sign": ("sign",),
    "Trunc": ("trunc",), "IntDiv": ("div",), "Greatest": ("greatest",), "Least": ("least",),
    "Coalesce": ("coalesce",), "Nullif": ("nullif",), "Case": (), "If": (), "Cast": (), "Extract": ("extract",),
    "Exists": (), "Array": (), "Lower": ("lower",), "Upper": ("upper",), "Length": ("length", "char_length"),
    "Substring": ("substring", "substr"), "Trim": ("trim", "btrim", "ltrim", "rtrim"), "Concat": ("concat",),
    "ConcatWs": ("concat_ws",), "Initcap": ("initcap",), "Left": ("left",), "Right": ("right",),
    "Replace": ("replace",), "Reverse": ("reverse",), "StrPosition": ("strpos", "position"),
    "SplitPart": ("split_part",), "StartsWith": ("starts_with",), "CurrentDate": ("current_date",),
    "CurrentTimestamp": ("current_timestamp", "now"), "TimestampTrunc": ("date_trunc",),
    "DateTrunc": ("date_trunc",), "TimeToStr": ("to_char",), "StrToDate": ("to_date",),
    "StrToTime": ("to_timestamp",), "JustifyDays": ("justify_days",), "JustifyHours": ("justify_hours",),
    "JustifyInterval": ("justify_interval",), "RowNumber": ("row_number",), "Rank": ("rank",),
    "DenseRank": ("dense_rank",), "Ntile": ("ntile",), "Lag": ("lag",), "Lead": ("lead",),
    "FirstValue": ("first_value",), "LastValue": ("last_value",), "NthValue": ("nth_value",),
    "PercentRank": ("percent_rank",), "CumeDist": ("cume_dist",),
}

# Refusals that are the service's business, not something a statement's author can avoid.
_NOT_FOR_AUTHORS = (errors.GuardrailError, errors.ParseFailure, errors.InvalidOrganization)


def _admitted(name: str) -> bool:
    """Whether `allow_functions` accepts a call of `name`, judged on the node sqlglot parses it into
    (a name on the untyped list that sqlglot has since learned to type, such as `cbrt`, is refused
    unless its node is allowed too)."""
    for arguments in ("x", "x, y", "x, y, z", "x, y, z, w"):
        try:
            tree = sqlglot.parse_one(f"SELECT {name}({arguments})", read="postgres")
        except sqlglot.errors.ParseError:
            continue
        call = tree.expressions[0] if isinstance(tree, exp.Select) and tree.expressions else None
        if call is None:
            return False
        # Every node of the call (sqlglot may write one as several: div(x, y) is CAST(x DIV y ...)).
        return all(_node_admitted(node) for node in call.walk())
    return False


def _node_admitted(node: exp.Expression) -> bool:
    """`allow_known_nodes` and `allow_functions` together, for one node."""
    if isinstance(node, exp.Anonymous):
        return fold(node.name) in ALLOWED_FUNCTION_NAMES
    if isinstance(node, exp.Func):
        return type(node) in ALLOWED_FUNCTIONS or type(node) in ALLOWED_NODES
    return type(node) in ALLOWED_NODES


@cache
def allowed_functions() -> tuple[str, ...]:
    """Every function name a statement may call, as PostgreSQL spells it, sorted.

    The typed nodes on the allowlist by their PostgreSQL spellings, plus the untyped calls the
    allowlist names, each kept only if `allow_functions` accepts it; anything else is refused.
    """
    names = set(ALLOWED_FUNCTION_NAMES)
    for node in ALLOWED_FUNCTIONS:
        names.update(POSTGRES_SPELLINGS[node.__name__])
    return tuple(sorted(name for name in names if _admitted(name)))


@cache
def allowed_casts() -> tuple[str, ...]:
    """The types a cast may target, as PostgreSQL spells them (`decimal` is shown as `numeric`)."""
    shown = {exp.DataType(this=t).sql(dialect="postgres").lower() for t in ALLOWED_CAST_TYPES}
    return tuple(sorted("numeric" if name == "decimal" else name for name in shown))


def refusal_classes() -> tuple[type[errors.GuardrailError], ...]:
    """Every reason a rule can refuse a statement for (one class per stable code)."""
    found = [value for value in vars(errors).values()
             if isinstance(value, type) and issubclass(value, errors.GuardrailError)
             and value not in _NOT_FOR_AUTHORS]
    return tuple(sorted(found, key=lambda cls: cls.code))


@cache
def refusals() -> tuple[tuple[str, str], ...]:
    """(code, rule) for every refusal, the rule being the first sentence of the error's docstring.

    >>> dict(refusals())["recursive_cte"]
    'Recursive CTEs are not allowed.'
    """
    found = []
    for cls in refusal_classes():
        sentence = " ".join((cls.__doc__ or "").split()).split(". ")[0].rstrip(".")
        aside = sentence.rfind(" (")
        if sentence.endswith(")") and aside > 0 and len(sentence) - aside > 60:
            sentence = sentence[:aside]  # a long trailing aside explains the rule to its readers here
        found.append((cls.code, sentence + "."))
    return tuple(found)


# What models most often try that the rules refuse, each with a statement that shows it. Only
# those whose statement `check` really refuses are listed (`refused_examples`), so the list can
# never claim a refusal the guardrails do not make.
COMMON_ATTEMPTS: tuple[tuple[str, str], ...] = (
    ("regular expressions (~, ~*, SIMILAR TO, regexp_*): use LIKE / ILIKE",
     "SELECT id FROM pfa_merged WHERE class ~* 'crane'"),
    ("generate_series and other set-returning functions", "SELECT generate_series(1, 12)"),
    ("VALUES lists", "SELECT x FROM (VALUES (1), (2)) AS v(x)"),
    ("WITH RECURSIVE", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r"),
    ("array_agg, json_agg and other row-packing aggregates", "SELECT array_agg(id) FROM pfa_merged"),
    ("other tables, views or system catalogs", "SELECT relname FROM pg_class"),
)


@cache
def refused_examples() -> tuple[str, ...]:
    """The descriptions of COMMON_ATTEMPTS whose example statement the guardrails refuse."""
    from guardrails.check import check

    columns = ("id", "class", "plan_cost")
    return tuple(text for text, probe in COMMON_ATTEMPTS
                 if not check(probe, org_id="ORG_A", view_columns=columns).allowed)
