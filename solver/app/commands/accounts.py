"""``leadroute accounts load``: replace the store's known accounts (for ingest's matching)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Known customer accounts in the store (lead-to-account matching).",
                        no_args_is_help=True)
    app.add_typer(group, name="accounts")

    @group.command("load")
    def load(
        accounts: Path = typer.Option(..., "--accounts", help="Accounts CSV (contract: "
                                      "accounts)."),
        db: str | None = typer.Option(None, "--db", help="Store URL (sqlite:///path.db or "
                                      "postgresql://...); default $LEADROUTE_DB_URL."),
    ) -> None:
        """Replace the store's account list (all rows validated before any is written)."""
        from solver.app.service import Store, StoreSettings, db_url_from_env
        from solver.app.service._accounts import replace_accounts

        store = Store(StoreSettings(url=db_url_from_env(db)))
        written = replace_accounts(store, accounts)
        typer.echo(f"{written} accounts written to the {store.engine.dialect.name} store")
