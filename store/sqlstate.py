"""What a database error may say outside the database: its SQLSTATE, the class name and a fixed
message chosen here, never the server's own text.

The server's messages carry values from rows (`date field value out of range: 2000-68150-01`
puts a monthly rate into the text; `invalid input syntax for type integer: "..."` a stored
string), and replacing quoted parts is not enough. So the users and the LLM get only what this
module says about the SQLSTATE, which is enough to repair a statement.
"""

from __future__ import annotations

# PostgreSQL's SQLSTATE classes (Appendix A of its manual).
CLASS_NAMES = {
    "00": "successful_completion", "01": "warning", "02": "no_data", "03": "sql_statement_not_yet_complete",
    "08": "connection_exception", "09": "triggered_action_exception", "0A": "feature_not_supported",
    "0B": "invalid_transaction_initiation", "0F": "locator_exception", "0L": "invalid_grantor",
    "0P": "invalid_role_specification", "0Z": "diagnostics_exception", "20": "case_not_found",
    "21": "cardinality_violation", "22": "data_exception", "23": "integrity_constraint_violation",
    "24": "invalid_cursor_state", "25": "invalid_transaction_state", "26": "invalid_sql_statement_name",
    "27": "triggered_data_change_violation", "28": "invalid_authorization_specification",
    "2B": "dependent_privilege_descriptors_still_exist", "2D": "invalid_transaction_termination",
    "2F": "sql_routine_exception", "34": "invalid_cursor_name", "38": "external_routine_exception",
    "39": "external_routine_invocation_exception", "3B": "savepoint_exception", "3D": "invalid_catalog_name",
    "3F": "invalid_schema_name", "40": "transaction_rollback", "42": "syntax_error_or_access_rule_violation",
    "44": "with_check_option_violation", "53": "insufficient_resources", "54": "program_limit_exceeded",
    "55": "object_not_in_prerequisite_state", "57": "operator_intervention", "58": "system_error",
    "72": "snapshot_too_old", "F0": "config_file_error", "HV": "fdw_error", "P0": "plpgsql_error",
    "XX": "internal_error",
}

# Fixed messages for the errors an LLM-written SELECT meets; they name no value and no object.
MESSAGES = {
    "21000": "a subquery used as a single value returned more than one row",
    "22001": "a text value is too long for the type it is cast to",
    "22003": "a number went out of the range of its type",
    "22004": "a NULL value is not allowed here",
    "22007": "a text value is not a valid date or time",
    "22008": "a date or time computation went out of range",
    "22012": "a division by zero happened; wrap the divisor in NULLIF so a zero divisor gives NULL",
    "22023": "a function got an argument value it does not accept",
    "2201B": "a regular expression is invalid",
    "22P02": "a text value could not be converted to the type it is cast to",
    "22P05": "a text value contains a character the conversion does not accept",
    "42501": "the statement uses something the query role may not use",
    "42601": "the statement has a syntax error",
    "42602": "the statement uses an invalid name",
    "42702": "a column name is ambiguous; qualify it with its table alias",
    "42703": "the statement names a column that does not exist",
    "42725": "a function call is ambiguous; cast its arguments",
    "42803": "a column must appear in GROUP BY or be used in an aggregate function",
    "42804": "values of incompatible types are combined or compared; cast one of them",
    "42809": "an object is used in a way its kind does not allow",
    "42846": "a value cannot be cast to the requested type",
    "42883": "a function or operator does not exist for these argument types; check the types or add casts",
    "42P01": "the statement names a relation that does not exist",
    "42P10": "an ORDER BY, GROUP BY or DISTINCT ON refers to a column in a way not allowed here",
    "42P18": "the type of a value cannot be determined; add a cast",
    "42P20": "a window function is used where it is not allowed",
    "53100": "the query needed more temporary disk space than allowed",
    "53200": "the query needed more memory than allowed",
    "54000": "the query exceeds a limit of the database",
    "54001": "the statement is too complex",
    "57014": "the query was cancelled",
}
CLASS_MESSAGES = {
    "22": "a value could not be converted, or a computation went out of range",
    "42": "the statement refers to something that does not exist or is not allowed",
    "53": "the query needed more resources than allowed",
    "54": "the query exceeds a limit of the database",
}


def describe_sqlstate(sqlstate: str | None) -> dict:
    """The outside view of a database error: SQLSTATE, class, class name and a fixed message.

    >>> describe_sqlstate("22008")["reason"]
    'a date or time computation went out of range'
    >>> describe_sqlstate("2200X")
    {'sqlstate': '2200X', 'class': '22', 'class_name': 'data_exception', 'reason': 'a value could not be converted, or a computation went out of range'}
    """
    state = sqlstate if isinstance(sqlstate, str) and len(sqlstate) == 5 and sqlstate.isalnum() else ""
    klass = state[:2]
    name = CLASS_NAMES.get(klass, "unknown")
    reason = MESSAGES.get(state) or CLASS_MESSAGES.get(klass) or f"the database refused the statement ({name})"
    return {"sqlstate": state, "class": klass, "class_name": name, "reason": reason}
