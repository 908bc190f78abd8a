"""The Maven Analytics "CRM + Sales + Opportunities" export as contract tables.

Source (not in the repo, never copied into it): ``maven-crm/`` under the shared data
folder, found through ``$LEADROUTE_DATA`` (the data folder, or ``maven-crm`` itself) or
``../shared/data`` next to the repository. See its ``SOURCE.txt`` and
``data_dictionary.csv``: a fictitious B2B hardware company, 8,800 opportunities, 35 agents.

``history`` (one row per *closed* opportunity - Won or Lost; open Engaging/Prospecting
rows have no outcome and are dropped):

=================  ==========================================================================
``lead_id``        ``opportunity_id``
``account_id``     ``account`` (the parent, ``subsidiary_of``, is kept as ``parent_account``)
``value``          the product's list ``sales_price`` - known before the deal closes
``effort``         1 (the export has no workload information)
``created_at``     ``engage_date``; ``assigned_at`` is the same day (the agent engaged then)
``rep_id``         ``sales_agent``
``converted``      1 for Won, 0 for Lost
``revenue``        ``close_value`` (0 for Lost); NEVER a feature: it is 0 exactly when the
                   deal was lost, so it leaks the outcome
``propensity``     empty: the export does not say how deals were given to agents
attributes         ``product, series, sector, year_established, account_revenue_musd,
                   employees, office_location``
=================  ==========================================================================

``reps``: ``rep_id`` = agent, ``team`` = manager, ``region`` = regional office;
``start_date`` = first engage date (a proxy: hire dates are not in the export; empty for
the 5 agents with no deals); ``capacity`` = closed deals per month over the export's span,
rounded up (a plausible monthly load, not a fact of the data); ``active`` true; weight 1.

Quirks handled: product ``GTXPro`` in the pipeline vs ``GTX Pro`` in products; sector
typo ``technolgy``; country ``Philipines``; CRLF line endings; accounts' ``revenue``
(annual revenue in $M) renamed so that it cannot be mistaken for the contract's
``revenue``. Agents without any deal remain in ``reps`` (cold-start reps).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd

from solver.errors import InputError as DataError

_FILES: Final = ("sales_pipeline.csv", "accounts.csv", "products.csv", "sales_teams.csv")
_PRODUCT_FIXES: Final = {"GTXPro": "GTX Pro"}
_SECTOR_FIXES: Final = {"technolgy": "technology"}
_COUNTRY_FIXES: Final = {"Philipines": "Philippines"}


@dataclass(frozen=True)
class MavenTables:
    history: pd.DataFrame
    reps: pd.DataFrame


def find_maven_dir(repo_root: str | Path | None = None) -> Path | None:
    """The ``maven-crm`` folder, or ``None`` when it is not available."""
    candidates = []
    env = os.environ.get("LEADROUTE_DATA")
    if env:
        candidates += [Path(env) / "maven-crm", Path(env)]
    root = Path(repo_root) if repo_root is not None else Path(__file__).resolve().parents[1]
    candidates.append(root.parent / "shared" / "data" / "maven-crm")
    for path in candidates:
        if all((path / name).is_file() for name in _FILES):
            return path
    return None


def _read(src: Path, name: str) -> pd.DataFrame:
    path = src / name
    if not path.is_file():
        raise DataError("file not found (is this the maven-crm folder?)", source=str(path))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.columns = [c.strip() for c in frame.columns]
    return frame


def _need(frame: pd.DataFrame, columns: tuple[str, ...], source: str) -> None:
    for column in columns:
        if column not in frame.columns:
            raise DataError("required column is missing", source=source, column=column)


def load_maven_crm(src_dir: str | Path) -> MavenTables:
    """Read the export in ``src_dir`` and return contract ``history`` and ``reps``."""
    src = Path(src_dir)
    pipeline = _read(src, "sales_pipeline.csv")
    accounts = _read(src, "accounts.csv")
    products = _read(src, "products.csv")
    teams = _read(src, "sales_teams.csv")
    _need(pipeline, ("opportunity_id", "sales_agent", "product", "account", "deal_stage",
                     "engage_date", "close_value"), str(src / "sales_pipeline.csv"))
    _need(accounts, ("account", "sector", "year_established", "revenue", "employees",
                     "office_location", "subsidiary_of"), str(src / "accounts.csv"))
    _need(products, ("product", "series", "sales_price"), str(src / "products.csv"))
    _need(teams, ("sales_agent", "manager", "regional_office"), str(src / "sales_teams.csv"))

    closed = pipeline[pipeline["deal_stage"].isin(["Won", "Lost"])].copy()
    closed["product"] = closed["product"].replace(_PRODUCT_FIXES)
    accounts = accounts.assign(
        sector=accounts["sector"].replace(_SECTOR_FIXES),
        office_location=accounts["office_location"].replace(_COUNTRY_FIXES),
    ).rename(columns={"revenue": "account_revenue_musd"})
    merged = closed.merge(products, on="product", how="left", validate="many_to_one")
    unknown = merged["sales_price"].isna()
    if unknown.any():
        raise DataError(f"product {merged.loc[unknown, 'product'].iloc[0]!r} is not in "
                        "products.csv", source=str(src / "sales_pipeline.csv"), column="product")
    merged = merged.merge(accounts, on="account", how="left", validate="many_to_one")
    engaged = pd.to_datetime(merged["engage_date"], errors="coerce")
    if engaged.isna().any():
        row = int(engaged.isna().to_numpy().nonzero()[0][0])
        raise DataError(f"expected an ISO date, got {merged['engage_date'].iloc[row]!r}",
                        source=str(src / "sales_pipeline.csv"), column="engage_date")
    converted = (merged["deal_stage"] == "Won").astype("int64")
    history = pd.DataFrame(
        {
            "lead_id": merged["opportunity_id"],
            "account_id": merged["account"].replace("", None),
            "value": pd.to_numeric(merged["sales_price"]),
            "effort": 1.0,
            "created_at": engaged,
            "product": merged["product"],
            "series": merged["series"],
            "sector": merged["sector"],
            "year_established": pd.to_numeric(merged["year_established"], errors="coerce"),
            "account_revenue_musd": pd.to_numeric(merged["account_revenue_musd"],
                                                  errors="coerce"),
            "employees": pd.to_numeric(merged["employees"], errors="coerce"),
            "office_location": merged["office_location"],
            "parent_account": merged["subsidiary_of"].fillna(""),
            "rep_id": merged["sales_agent"],
            "converted": converted,
            "assigned_at": engaged,
            "revenue": pd.to_numeric(merged["close_value"], errors="coerce").fillna(0.0),
            "propensity": float("nan"),
        }
    )
    history = history.sort_values(["assigned_at", "lead_id"], kind="stable")
    return MavenTables(history.reset_index(drop=True), _reps(teams, history))


def _reps(teams: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    first = history.groupby("rep_id")["assigned_at"].min()
    span_months = max(
        (history["assigned_at"].max() - history["assigned_at"].min()).days / 30.44, 1.0
    )
    deals = history.groupby("rep_id").size()
    agents = teams["sales_agent"]
    extra = sorted(set(history["rep_id"]) - set(agents))
    if extra:
        raise DataError(f"agent {extra[0]!r} has deals but is not in sales_teams.csv",
                        source="sales_teams.csv", column="sales_agent")
    return pd.DataFrame(
        {
            "rep_id": agents,
            "capacity": [float(max(1, math.ceil(deals.get(a, 0) / span_months))) for a in agents],
            "active": True,
            "weight": 1.0,
            "start_date": pd.to_datetime(agents.map(first)).dt.normalize(),
            "team": teams["manager"],
            "region": teams["regional_office"],
        }
    ).reset_index(drop=True)
