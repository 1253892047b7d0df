"""Positive lists: the node types, functions and cast types a statement may contain.

Anything not listed here is refused, including nodes a future sqlglot adds. Names are
resolved against the installed sqlglot at import; a name it does not know is skipped (and a
test lists the ones that resolved, so a sqlglot upgrade that renames one is noticed).
"""

from __future__ import annotations

from sqlglot import exp


def _classes(names: tuple[str, ...]) -> frozenset[type]:
    return frozenset(getattr(exp, n) for n in names if isinstance(getattr(exp, n, None), type))


# Structure, operators and literals (not function calls).
NODE_NAMES = (
    "Select", "Union", "Intersect", "Except", "From", "Join", "Where", "Group", "Having", "Order",
    "Ordered", "Limit", "Offset", "Fetch", "LimitOptions", "With", "CTE", "Subquery", "Lateral", "Table",
    "TableAlias", "Alias", "Column", "Identifier", "Star", "Literal", "Boolean", "Null", "Paren", "Tuple",
    "In", "Between", "Distinct", "Window", "WindowSpec", "Filter", "WithinGroup", "Interval", "Var",
    "DataType", "DataTypeParam", "And", "Or", "Not", "Neg", "EQ", "NEQ", "GT", "GTE", "LT", "LTE", "Is",
    "NullSafeEQ", "NullSafeNEQ", "Like", "ILike", "Escape", "Add", "Sub", "Mul", "Div", "Mod", "DPipe",
    "JSONExtract", "JSONExtractScalar", "JSONBExtract", "JSONBExtractScalar", "JSONPath", "JSONPathRoot",
    "JSONPathKey", "JSONPathSubscript", "JSONBContainsTopKey", "ArrayContainsAll", "Any", "All",
    "Rollup", "Cube", "GroupingSets", "RawString",
)
ALLOWED_NODES = _classes(NODE_NAMES)

# Function nodes sqlglot types for us: aggregates, math, strings, dates, conditionals, windows.
FUNCTION_NAMES = (
    "Count", "Sum", "Avg", "Min", "Max", "Stddev", "StddevPop", "StddevSamp", "Variance", "VariancePop",
    "PercentileCont", "PercentileDisc", "Median", "Mode", "LogicalAnd", "LogicalOr", "GroupConcat",
    "Round", "Abs", "Ceil", "Floor", "Sqrt", "Ln", "Log", "Exp", "Pow", "Sign", "Trunc", "IntDiv",
    "Greatest", "Least", "Coalesce", "Nullif", "Case", "If", "Cast", "Extract", "Exists", "Array",
    "Lower", "Upper", "Length", "Substring", "Trim", "Concat", "ConcatWs", "Initcap", "Left", "Right",
    "Replace", "Reverse", "StrPosition", "SplitPart", "StartsWith",
    "CurrentDate", "CurrentTimestamp", "TimestampTrunc", "DateTrunc", "TimeToStr",
    "StrToDate", "StrToTime", "JustifyDays", "JustifyHours", "JustifyInterval",
    "RowNumber", "Rank", "DenseRank", "Ntile", "Lag", "Lead", "FirstValue", "LastValue", "NthValue",
    "PercentRank", "CumeDist",
)
ALLOWED_FUNCTIONS = _classes(FUNCTION_NAMES)

# Functions sqlglot leaves untyped (exp.Anonymous), by the lower-case name PostgreSQL calls.
ALLOWED_FUNCTION_NAMES = frozenset({
    "age", "date_part", "make_date", "make_interval", "to_number", "btrim", "ltrim", "rtrim", "strpos",
    "char_length", "character_length", "div", "width_bucket", "cbrt", "log10", "ceiling", "degrees",
    "radians", "jsonb_typeof", "jsonb_extract_path_text", "isfinite", "scale", "every", "bool_and",
    "bool_or", "date", "var_samp", "var_pop", "stddev_samp", "stddev_pop", "corr", "regr_slope",
    "covar_pop", "covar_samp", "num_nulls", "num_nonnulls", "nullif", "to_date", "to_char",
    "date_trunc", "round", "trunc", "justify_days",
})

# Types a cast may target.
CAST_TYPE_NAMES = (
    "TEXT", "VARCHAR", "CHAR", "NCHAR", "NVARCHAR", "BPCHAR", "INT", "BIGINT", "SMALLINT", "DECIMAL",
    "DOUBLE", "FLOAT", "DATE", "TIMESTAMP", "TIMESTAMPTZ", "TIME", "INTERVAL", "BOOLEAN",
)
ALLOWED_CAST_TYPES = frozenset(
    t for t in (getattr(exp.DataType.Type, n, None) for n in CAST_TYPE_NAMES) if t is not None
)

# Parents under which a bare keyword (exp.Var) is a unit or option, not a name to resolve.
VAR_PARENT_NAMES = ("Extract", "Interval", "TimestampTrunc", "DateTrunc", "Limit", "Fetch", "DateDiff")
VAR_PARENTS = _classes(VAR_PARENT_NAMES)

# Bare words PostgreSQL evaluates as functions although sqlglot reads them as column names
# (`SELECT user` returns the role name): fingerprints, never analytic needs.
SQL_VALUE_KEYWORDS = frozenset({
    "user", "current_user", "current_role", "session_user", "system_user", "current_schema",
    "current_catalog",
})
