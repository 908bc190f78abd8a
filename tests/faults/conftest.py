"""The fault suite reuses the service tests' stores: SQLite and PostgreSQL (skipped, with the
reason, when no server answers)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))

from service_support import store, store_url  # noqa: E402, F401
