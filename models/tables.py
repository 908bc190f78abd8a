"""The history table for the affinity model: the contract's validated loader."""

from __future__ import annotations

from solver.contract_tables import load_history as read_history

__all__ = ["read_history"]
