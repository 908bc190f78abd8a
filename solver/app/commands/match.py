"""``leadroute match``: leads and accounts to the contract's matches table."""

from __future__ import annotations

from pathlib import Path

import typer

from solver.app._io import write_csv_atomic


def register(app: typer.Typer) -> None:
    @app.command()
    def match(
        leads: Path = typer.Option(..., "--leads", help="Leads CSV (email, company, "
                                   "website, country; any may be blank)."),
        accounts: Path = typer.Option(..., "--accounts", help="Accounts CSV (contract: "
                                      "accounts)."),
        out: Path = typer.Option(..., "--out", help="Where to write the matches CSV."),
        min_confidence: float = typer.Option(
            0.8, "--min-confidence", min=0.0, max=1.0,
            help="A lead gets an account only at or above this confidence."),
        quiet: bool = typer.Option(False, "--quiet", help="No summary on stdout."),
    ) -> None:
        """Match leads to known accounts and flag duplicates; one row per lead."""
        from solver.app.matching import matching_module  # the `match` extra, checked

        matching = matching_module()
        table = matching.match_leads(leads, accounts, min_confidence=min_confidence)
        write_csv_atomic(table, out)
        if not quiet:
            matched = int(table["account_id"].notna().sum())
            duplicates = int(table["duplicate_of"].notna().sum())
            typer.echo(f"matched {matched}/{len(table)} leads to accounts, "
                       f"{duplicates} duplicates; written to {out}")
