"""Errors the ``models`` package raises: the project's one hierarchy (``solver._errors``).

``DataError`` is ``solver.InputError`` (a table problem located by source, row and column)
and ``ModelError`` is ``solver.ModelError``; both are ``LeadrouteError`` and ``ValueError``
subclasses, so the CLI prints one line and exits 2 for either. ``models`` may import the
optimisation core (never the app layer).
"""

from __future__ import annotations

from solver._errors import InputError as DataError
from solver._errors import ModelError

__all__ = ["DataError", "ModelError"]
