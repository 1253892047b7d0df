"""The view's name and how PostgreSQL folds identifiers: shared by parsing and name resolution."""

from __future__ import annotations

from sqlglot import exp

VIEW_NAME = "pfa_merged"
VIEW_SCHEMA = "nlq"

# PostgreSQL folds only ASCII letters of unquoted identifiers (in a multi-byte encoding such as
# UTF8); Python's str.lower() also folds e.g. the Kelvin sign U+212A to "k", which would make
# two names PostgreSQL keeps apart look equal.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(name: str) -> str:
    """`name` as PostgreSQL folds an unquoted identifier: ASCII letters only.

    >>> fold("PFA_Merged"), fold("pg_stat_chec\u212apointer") == "pg_stat_checkpointer"
    ('pfa_merged', False)
    """
    return name.translate(_ASCII_LOWER)


def normalized(identifier: exp.Identifier | str | None) -> str | None:
    """The name PostgreSQL resolves: unquoted identifiers fold to lower case, quoted ones don't.

    >>> normalized(exp.to_identifier("PFA_MERGED")), normalized(exp.to_identifier("PFA_MERGED", quoted=True))
    ('pfa_merged', 'PFA_MERGED')
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return fold(identifier)
    if not isinstance(identifier, exp.Identifier):
        return None
    return identifier.this if identifier.quoted else fold(identifier.this)
