"""Service errors, in the project's one hierarchy (``LeadrouteError``)."""

from __future__ import annotations

from solver._errors import LeadrouteError


class StoreError(LeadrouteError):
    """The state store is unreachable, or its content contradicts a request."""


class BatchBusyError(StoreError):
    """Another batch holds the routing lock (the caller may wait and retry)."""


class NotFoundError(StoreError):
    """A lead, rep or batch the caller named does not exist."""
