"""Lead-to-account matching: one tiny hand-built case per kind of lead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("rapidfuzz", reason="needs the 'match' extra")

from models.matching import (  # noqa: E402
    AccountMatcher,
    MatchMethod,
    email_key,
    is_free_mail,
    match_leads,
    name_key,
    parse_host,
)

ACCOUNTS = pd.DataFrame({
    "account_id": ["A1", "A2", "A3", "A4", "A5", "A6"],
    "name": ["Acme Corp", "Acme GmbH", "Novalink Analytics Inc.",
             "International Business Machines", "Blue River Dental LLC", "Globex"],
    "domain": ["acme.com", "acme.de", "", "ibm.com", "blueriverdental.com", "globex.io"],
    "website": ["", "", "https://www.novalink.io/", "", "", ""],
    "country": ["US", "DE", "US", "US", "US", "GB"],
    "parent_account_id": ["", "A1", "", "", "", ""],
})


@pytest.fixture(scope="module")
def matcher() -> AccountMatcher:
    return AccountMatcher().fit(ACCOUNTS)


def one(matcher: AccountMatcher, **lead: str) -> tuple[str | None, float, MatchMethod, str]:
    found = matcher.match_one("L1", **lead)
    return found.account_id, found.confidence, found.method, found.reason


def test_corporate_mail_on_the_domain(matcher: AccountMatcher) -> None:
    account, confidence, method, reason = one(matcher, email="jo@acme.com")
    assert (account, method) == ("A1", MatchMethod.EMAIL_DOMAIN)
    assert confidence >= 0.95 and "acme.com" in reason


def test_corporate_mail_on_a_subdomain(matcher: AccountMatcher) -> None:
    account, _, method, reason = one(matcher, email="jo@emea.sales.ACME.com")
    assert (account, method) == ("A1", MatchMethod.EMAIL_DOMAIN)
    assert "subdomain of acme.com" in reason


def test_subsidiary_on_its_own_country_domain(matcher: AccountMatcher) -> None:
    assert one(matcher, email="kai@acme.de")[0] == "A2"


def test_brand_on_another_country_domain_goes_to_the_parent(matcher: AccountMatcher) -> None:
    account, confidence, method, reason = one(matcher, email="zoe@acme.fr")
    assert (account, method) == ("A1", MatchMethod.EMAIL_BRAND)
    assert 0.8 <= confidence < 0.95 and "parent account" in reason


def test_brand_with_a_conflicting_company_name_stays_unmatched(
        matcher: AccountMatcher) -> None:
    account, confidence, method, reason = one(matcher, email="zoe@acme.fr",
                                              company="Zorblat Industries SARL")
    assert account is None and method is MatchMethod.NONE
    assert confidence < 0.8 and "another company" in reason


def test_free_mail_is_never_matched_by_domain(matcher: AccountMatcher) -> None:
    account, _, _, reason = one(matcher, email="someone@gmail.com")
    assert account is None and "free-mail" in reason
    assert is_free_mail("yahoo.co.uk") and is_free_mail("comcast.net")
    assert not is_free_mail("acme.com")


def test_free_mail_with_a_company_name_matches_by_name(matcher: AccountMatcher) -> None:
    account, _, method, _ = one(matcher, email="x@hotmail.com", company="ACME CORP.")
    assert (account, method) == ("A1", MatchMethod.COMPANY_NAME)


@pytest.mark.parametrize("company, expected", [
    ("Novalink Analytics", "A3"),          # legal suffix
    ("NOVALINK ANALYTICS, INC", "A3"),     # case and punctuation
    ("Novalink-Analytics Inc", "A3"),
    ("IBM", "A4"),                         # initials
    ("Intl. Business Machines Corp", "A4"),  # abbreviation
])
def test_company_name_variants(matcher: AccountMatcher, company: str, expected: str) -> None:
    assert one(matcher, company=company)[0] == expected


@pytest.mark.parametrize(("company", "country", "expected"), [
    ("Novalink Analytcs", "US", "A3"),     # small typo, the account's country agrees
    ("Glbex Ltd", "GB", "A6"),             # small typo in a one-word name
    ("Novalink Analytcs", "", None),       # the typo alone: maybe another company
    ("Glbex Ltd", "DE", None),             # another country does not confirm it
])
def test_a_typo_needs_the_country_to_agree(matcher: AccountMatcher, company: str,
                                           country: str, expected: str | None) -> None:
    account, confidence, _, reason = one(matcher, company=company, country=country)
    assert account == expected
    if expected is None:
        assert confidence < 0.8 and "nothing else confirms it" in reason



@pytest.mark.parametrize("website", [
    "novalink.io", "www.novalink.io", "https://novalink.io/about?x=1", "HTTP://WWW.NOVALINK.IO",
    "http://novalink.io:8080/", "//novalink.io/path",
])
def test_websites_in_any_url_form(matcher: AccountMatcher, website: str) -> None:
    account, _, method, _ = one(matcher, website=website)
    assert (account, method) == ("A3", MatchMethod.WEBSITE)


@pytest.mark.parametrize("company", [
    "Novalink Dental", "Blue River Analytics", "Acme Plumbing Supplies", "Globex Mining",
    "River Dental",
])
def test_non_customers_sharing_words_stay_unmatched(matcher: AccountMatcher,
                                                     company: str) -> None:
    account, _, method, _ = one(matcher, company=company, email="a@example-firm.com")
    assert account is None and method is MatchMethod.NONE


def test_name_match_from_an_unknown_corporate_domain_is_less_sure(
        matcher: AccountMatcher) -> None:
    sure = one(matcher, company="Globex")[1]
    unsure = one(matcher, company="Globex", email="a@globex-mining.com")[1]
    assert unsure < sure


def test_country_picks_among_accounts_with_one_domain() -> None:
    accounts = pd.DataFrame({"account_id": ["P", "C"], "name": ["Acme", "Acme Deutschland"],
                             "domain": ["acme.com", "acme.com"], "country": ["US", "DE"],
                             "parent_account_id": ["", "P"]})
    matcher = AccountMatcher().fit(accounts)
    assert matcher.match_one("x", email="a@acme.com", country="de").account_id == "C"
    assert matcher.match_one("x", email="a@acme.com").account_id == "P"


def test_below_the_threshold_the_reason_names_the_candidate() -> None:
    strict = AccountMatcher(min_confidence=0.99).fit(ACCOUNTS)
    found = strict.match_one("x", company="Novalink Analytics")
    assert found.account_id is None and "Novalink Analytics Inc." in found.reason


def test_hosts_and_names_normalise() -> None:
    host = parse_host("https://Shop.EU.Acme.co.uk:443/x")
    assert host is not None and (host.registered, host.brand) == ("acme.co.uk", "acme")
    assert parse_host("localhost") is None
    assert name_key("The ACME Group, Inc.").text == name_key("acme").text  # type: ignore[union-attr]


def test_tldextract_never_uses_the_network(tmp_path: Path) -> None:
    """A fresh interpreter with sockets refused and an empty home: the bundled suffix
    list is used, nothing is downloaded or cached."""
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network access')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from models.matching import parse_host\n"
        "host = parse_host('https://www.example.com.au/x')\n"
        "assert host is not None and host.suffix == 'com.au', host\n"
    )
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("a, b", [
    ("John.Doe@Gmail.com", "johndoe@gmail.com"),
    ("j.o.h.n.doe+news@googlemail.com", "johndoe@gmail.com"),
    ("Jo+crm@Acme.com", "jo@acme.com"),
])
def test_email_keys(a: str, b: str) -> None:
    assert email_key(a) == email_key(b)


def test_dots_matter_outside_gmail() -> None:
    assert email_key("jo.doe@acme.com") != email_key("jodoe@acme.com")


def test_duplicates_within_the_batch() -> None:
    leads = pd.DataFrame({
        "lead_id": ["L1", "L2", "L3", "L4", "L5", "L6"],
        "email": ["Ann.B@gmail.com", "annb+x@gmail.com", "jo@acme.com", "", "jo2@acme.com",
                  "sam@acme.com"],
        "company": ["", "", "", "Acme", "", ""],
        "name": ["Ann B", "Ann B", "Jo Doe", "Jo Doe", "Jo Doe", "Sam Lee"],
    })
    table = match_leads(leads, ACCOUNTS).set_index("lead_id")
    assert table["duplicate_of"].fillna("").to_dict() == {
        "L1": "", "L2": "L1", "L3": "", "L4": "L3",  # same name at the same account
        "L5": "",  # two different work addresses: two people
        "L6": "",
    }
    assert "duplicate of L1 (same email)" in table.loc["L2", "reason"]


def test_the_same_name_without_an_account_is_not_a_duplicate() -> None:
    """Two people named alike with no matched account (found by a service property: an
    unmatched lead's account is NaN, which must not count as one shared account)."""
    leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3"], "email": ["a@gmail.com", "", ""],
                          "company": ["Acme", "", ""], "name": ["Ann Lee"] * 3})
    table = match_leads(leads, ACCOUNTS)
    assert table["duplicate_of"].isna().all()


def test_earlier_means_created_at_first() -> None:
    leads = pd.DataFrame({"lead_id": ["L1", "L2"], "email": ["a@acme.com", "A@acme.com"],
                          "created_at": ["2024-01-02", "2024-01-01"]})
    table = match_leads(leads, ACCOUNTS).set_index("lead_id")
    assert table.loc["L1", "duplicate_of"] == "L2"


def test_a_given_account_id_is_kept() -> None:
    leads = pd.DataFrame({"lead_id": ["L1"], "email": ["a@acme.com"], "account_id": ["A5"]})
    row = match_leads(leads, ACCOUNTS).iloc[0]
    assert (row["account_id"], row["method"]) == ("A5", "given")
