"""Errors the ``models`` package raises on purpose.

``models`` sits below the app layer and must not import ``solver`` (where the project's
``LeadrouteError`` hierarchy lives), so it defines two ``ValueError`` subclasses of its
own. The app layer translates them: ``leadroute fit`` / ``leadroute data`` print one line
and exit with code 2, and ``solver.app.scoring`` wraps them into ``solver``'s
``ModelError`` for ``leadroute route --model``. Plain ``ValueError``/``TypeError`` callers
keep working because both are ``ValueError``s.
"""

from __future__ import annotations


class ModelError(ValueError):
    """An affinity model file is missing, corrupt, stale or incompatible with the data."""


class DataError(ValueError):
    """A table given to the affinity model is unusable. ``source``/``row``/``column``
    locate the problem; ``row`` is 1-based over data rows (header excluded) or ``None``."""

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
