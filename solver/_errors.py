"""One exception hierarchy for the whole project.

    LeadrouteError
    ├── InputError        bad table content: names the source, row and column
    ├── PolicyError       bad policy file or policy object
    ├── ModelError        affinity model missing, stale or incompatible
    └── SolverError       an engine failed in a way the caller must see

Every error message is one line a user can act on.
"""

from __future__ import annotations


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
        self.source = source
        self.row = row
        self.column = column
        where = [source]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join(where)}: {message}")


class PolicyError(LeadrouteError, ValueError):
    """The routing policy is invalid (unknown key, bad value, contradictory rule)."""


class ModelError(LeadrouteError, ValueError):
    """An affinity model could not be loaded or does not fit the data."""


class SolverError(LeadrouteError):
    """An engine failed (not a timeout: timeouts return a result with a status)."""
