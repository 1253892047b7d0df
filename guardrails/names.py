"""The view's name and how PostgreSQL folds identifiers: shared by parsing and name resolution."""

from __future__ import annotations

from sqlglot import exp

VIEW_NAME = "pfa_merged"
VIEW_SCHEMA = "nlq"


def normalized(identifier: exp.Identifier | str | None) -> str | None:
    """The name PostgreSQL resolves: unquoted identifiers fold to lower case, quoted ones don't.

    >>> normalized(exp.to_identifier("PFA_MERGED")), normalized(exp.to_identifier("PFA_MERGED", quoted=True))
    ('pfa_merged', 'PFA_MERGED')
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return identifier.lower()
    if not isinstance(identifier, exp.Identifier):
        return None
    return identifier.this if identifier.quoted else identifier.this.lower()
