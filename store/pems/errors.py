"""Typed PEMS errors: what went wrong decides whether to retry."""

from __future__ import annotations

from store.errors import StoreError


class PemsError(StoreError):
    """PEMS request failed."""

    code = "pems_error"


class PemsUnavailable(PemsError):
    """PEMS did not answer usefully (timeouts, 5xx, 429) even after retries."""

    code = "pems_unavailable"


class PemsOutcomeUnknown(PemsUnavailable):
    """PEMS may have applied the write: an attempt's answer was lost, and a retry was refused."""

    code = "pems_outcome_unknown"


class PemsRejected(PemsError):
    """PEMS refused the request (an ErrorAlert); retrying the same request will not help."""

    code = "pems_rejected"


class PemsConflict(PemsRejected):
    """The record changed in PEMS since it was read (stale recordid)."""

    code = "pems_conflict"


class MalformedRecord(PemsError):
    """A PEMS row could not be read into a PFA record."""

    code = "malformed_record"
