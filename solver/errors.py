"""Every exception leadroute raises on purpose, in one hierarchy.

    LeadrouteError
    ├── InputError (ValueError)    bad table content: names the source, row and column
    │   ├── EvaluationError        bad input to an off-policy estimator (models.policy_eval)
    │   └── RefusedLeadError       one lead of a service batch refused: its position in the batch
    ├── PolicyError (ValueError)   bad policy file or policy object
    │   └── PartitionError         the batch does not decompose along the partition key
    ├── ModelError (ValueError)    affinity model missing, stale or incompatible
    ├── SolverError                an engine failed in a way the caller must see
    │   └── ScalingOverflowError   scores or efforts too large for 64-bit scaling
    ├── PartitionsFailed           some partitions of a partitioned run failed
    ├── SparkUnavailable           PySpark or Java is missing
    └── StoreError                 the service's state store refused or contradicts a request
        ├── BatchBusyError         another batch holds the routing lock
        └── NotFoundError          a named lead, rep or batch does not exist

Every error message is one line a user can act on; the CLI prints it and exits 2, the
HTTP API answers 404 (``NotFoundError``), 409 (another ``StoreError``) or 422 (the
rest). ``models`` calls ``InputError`` by its historical name ``DataError`` (the same
class).

Two exceptions live outside this tree on purpose, because they are HTTP control flow,
not errors a caller handles: the service API's ``RepeatedId`` is raised and turned into
a 409 response within one module, and the console's ``NotSignedIn`` is a Starlette
``HTTPException`` carrying a redirect to the login page.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "BatchBusyError",
    "EvaluationError",
    "InputError",
    "LeadrouteError",
    "ModelError",
    "NotFoundError",
    "PartitionError",
    "PartitionsFailed",
    "PolicyError",
    "RefusedLeadError",
    "ScalingOverflowError",
    "SolverError",
    "SparkUnavailable",
    "StoreError",
]


class LeadrouteError(Exception):
    """Base class of every error leadroute raises on purpose."""


class InputError(LeadrouteError, ValueError):
    """A table failed validation. ``source``/``row``/``column`` locate the problem.

    ``row`` is the 1-based data row as a spreadsheet user counts it (header excluded),
    or ``None`` when the problem concerns the whole column or file.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message  # without the location (a caller may relocate it)
        self.source = source
        self.row = row
        self.column = column
        where = [source]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join(where)}: {message}")


class EvaluationError(InputError):
    """Bad input to an off-policy estimator (names the field and the first bad row)."""


class RefusedLeadError(InputError):
    """One pending lead's own data was refused while routing a service batch (by the
    leads loader, the scorer or a rule reading a lead column): ``position`` is its index
    in the batch; message, source, row and column are the refusal's own."""

    def __init__(self, position: int, error: InputError) -> None:
        super().__init__(error.message, source=error.source, row=error.row,
                         column=error.column)
        self.position = position


class PolicyError(LeadrouteError, ValueError):
    """The routing policy is invalid (unknown key, bad value, contradictory rule)."""


class PartitionError(PolicyError):
    """The batch does not decompose along the requested key (a coupling term or a rep,
    pin, owner or account that spans partitions)."""


class ModelError(LeadrouteError, ValueError):
    """An affinity model could not be loaded or does not fit the data."""


class SolverError(LeadrouteError):
    """An engine failed (not a timeout: timeouts return a result with a status)."""


class ScalingOverflowError(SolverError):
    """Scores or efforts too large for 64-bit integer scaling (the largest is the culprit).
    ``quantity`` says which, so a caller can set the largest one aside and go on."""

    def __init__(self, message: str, *, quantity: Literal["score", "effort"]) -> None:
        super().__init__(message)
        self.quantity = quantity


class PartitionsFailed(LeadrouteError):
    """Some partitions failed; nothing was written."""


class SparkUnavailable(LeadrouteError):
    """PySpark or Java is missing (``pip install leadroute[spark]``; Java 17)."""


class StoreError(LeadrouteError):
    """The state store is unreachable, or its content contradicts a request."""


class BatchBusyError(StoreError):
    """Another batch holds the routing lock (the caller may wait and retry)."""


class NotFoundError(StoreError):
    """A lead, rep or batch the caller named does not exist."""
