"""Every service test runs on SQLite and on PostgreSQL (skipped, with the reason, when no
server answers)."""

from service_support import store, store_url  # noqa: F401
