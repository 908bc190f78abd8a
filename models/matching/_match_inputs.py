"""Validated inputs of the matcher: the contract's ``accounts`` table, and the match
columns of ``leads`` (``email``, ``company``, ``website``, ``country``; any may be absent).

Every problem names the source, the 1-based data row and the column (``InputError``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from models.matching._domains import email_domain, parse_host
from solver.contract_tables import TableSource, load_leads, read_raw
from solver.errors import InputError

LEAD_MATCH_COLUMNS: Final = ("email", "company", "website", "country")
ACCOUNT_COLUMNS: Final = ("account_id", "name", "domain", "website", "country",
                          "parent_account_id")


def _text(frame: pd.DataFrame, column: str) -> list[str]:
    """A column as stripped text, blanks (None, NaN, "") as ""."""
    if column not in frame.columns:
        return [""] * len(frame)
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA
            else str(v).strip() for v in frame[column].tolist()]


def _check_emails(values: list[str], label: str) -> None:
    for row, value in enumerate(values, start=1):
        if not value:
            continue
        local, _, _ = value.rpartition("@")
        domain = email_domain(value)
        if not local or domain is None or parse_host(domain) is None or " " in value:
            raise InputError(f"not an email address: {value!r}", source=label, row=row,
                             column="email")


def _check_hosts(values: list[str], label: str, column: str) -> None:
    for row, value in enumerate(values, start=1):
        if value and parse_host(value) is None:
            raise InputError(f"not a web domain: {value!r}", source=label, row=row,
                             column=column)


def _header_only(source: TableSource) -> bool:
    """A batch with a header and no leads: valid (a scheduled run with nothing new)."""
    if isinstance(source, pd.DataFrame):
        return source.empty and "lead_id" in source.columns
    path = Path(source)
    if not path.is_file():
        return False
    try:
        head = pd.read_csv(path, dtype=str, nrows=1)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError):
        return False  # the contract loader says what is wrong
    return head.empty and "lead_id" in [str(c).strip() for c in head.columns]


def load_match_leads(source: TableSource) -> pd.DataFrame:
    """The contract's leads table (``load_leads``) with the match columns as text."""
    if _header_only(source):
        return pd.DataFrame({c: pd.Series(dtype=object)
                             for c in ("lead_id", "account_id", *LEAD_MATCH_COLUMNS)})
    leads = load_leads(source)
    label = "leads table" if isinstance(source, pd.DataFrame) else str(source)
    for column in LEAD_MATCH_COLUMNS:
        leads[column] = _text(leads, column)
    _check_emails(list(leads["email"]), label)
    _check_hosts(list(leads["website"]), label, "website")
    return leads


def load_accounts(source: TableSource) -> pd.DataFrame:
    """Validated accounts: ids unique, names present, domains parse, parents known and
    without cycles. Other columns are kept as attributes."""
    raw, label = read_raw(source, "accounts")
    for column in ("account_id", "name"):
        if column not in raw.columns:
            raise InputError("required column is missing", source=label, column=column)
    out = raw.copy()
    for column in ACCOUNT_COLUMNS:
        out[column] = _text(raw, column)
    seen: set[str] = set()
    for row, (account, name) in enumerate(zip(out["account_id"], out["name"], strict=True), 1):
        if not account:
            raise InputError("empty id", source=label, row=row, column="account_id")
        if account in seen:
            raise InputError(f"duplicate id '{account}'", source=label, row=row,
                             column="account_id")
        seen.add(account)
        if not name:
            raise InputError("missing value", source=label, row=row, column="name")
    for column in ("domain", "website"):
        _check_hosts(list(out[column]), label, column)
    _check_parents(out, label)
    return out.reset_index(drop=True)


def _check_parents(accounts: pd.DataFrame, label: str) -> None:
    parent_of = dict(zip(accounts["account_id"], accounts["parent_account_id"], strict=True))
    for row, (account, parent) in enumerate(parent_of.items(), start=1):
        if not parent:
            continue
        if parent not in parent_of:
            raise InputError(f"unknown parent account '{parent}' (not in the accounts table)",
                             source=label, row=row, column="parent_account_id")
        walked, current = {account}, parent
        while current:
            if current in walked:
                raise InputError(f"parent accounts form a cycle through '{account}'",
                                 source=label, row=row, column="parent_account_id")
            walked.add(current)
            current = parent_of[current]
