"""A labelled lead-to-account matching set: accounts (parents, country subsidiaries) and
leads of every kind the matcher must handle, with the true account and the true first lead
of each duplicate person.

    .venv/bin/python benchmarks/match_set.py --accounts 3000 --leads 6000 --out match-set

writes ``accounts.csv``, ``leads.csv`` (the ``match`` command's inputs) and ``truth.csv``
(``lead_id, kind, account_id, duplicate_of``). Brands are made-up words, so a name shared
with a customer is shared on purpose (the ``non_customer`` and ``brand_conflict`` kinds).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

SYLLABLES: Final = ("ba", "ce", "di", "fo", "gu", "ka", "le", "mi", "no", "pu", "ra", "se",
                    "ti", "vo", "xa", "ze", "lo", "tra", "vin", "cor", "nex", "zen", "qua",
                    "bri", "dro", "fel", "gri", "hol", "jax", "kin", "lum", "mor", "nov",
                    "ox", "pel", "quo", "ryn", "sol", "tav", "ulm", "vex", "wyn", "yor",
                    "zar", "ast", "bel", "cal", "dun", "eri", "fin")
INDUSTRIES: Final = ("Analytics", "Logistics", "Systems", "Foods", "Partners", "Software",
                     "Dental", "Capital", "Energy", "Media", "Robotics", "Health",
                     "Consulting", "Networks", "Motors", "Textiles", "Insurance", "Marine",
                     "Aerospace", "Retail")
LEGAL: Final = ("Inc.", "LLC", "Ltd", "Corp.", "Corporation", "GmbH", "S.A.", "AG", "B.V.",
                "Pty Ltd", "PLC", "Limited", "")
COUNTRIES: Final = {"US": ("com", "USA"), "GB": ("co.uk", "UK"), "DE": ("de", "Deutschland"),
                    "FR": ("fr", "France"), "AU": ("com.au", "Australia"),
                    "JP": ("co.jp", "Japan"), "NL": ("nl", "Nederland"),
                    "ES": ("es", "Espana"), "IT": ("it", "Italia"), "CA": ("ca", "Canada")}
FREE_MAIL: Final = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com",
                    "icloud.com", "gmx.de", "web.de", "orange.fr", "comcast.net",
                    "btinternet.com", "yahoo.co.uk", "libero.it", "proton.me")
FIRST: Final = ("ann", "ben", "cara", "dan", "eva", "finn", "gia", "hugo", "ines", "jon",
                "kim", "leo", "mia", "nils", "omar", "pia", "quin", "rosa", "sam", "tess",
                "uma", "vik", "wes", "xena", "yuri", "zoe")
LAST: Final = ("smith", "berg", "costa", "diaz", "evans", "fox", "garcia", "hale", "ito",
               "jones", "khan", "lopez", "meyer", "nowak", "olsen", "park", "quinn", "rossi",
               "silva", "tan", "ueda", "vogel", "wang", "young", "zhou", "novak", "moreau")
KINDS: Final = ("corporate_email", "subsidiary_domain", "brand_other_country",
                "company_name", "website", "brand_conflict", "freemail", "non_customer")
SHARE: Final = (0.2, 0.06, 0.08, 0.22, 0.12, 0.04, 0.12, 0.16)  # of leads, by kind
MATCHABLE: Final = frozenset(KINDS[:5])


@dataclass
class _World:
    rng: np.random.Generator
    accounts: list[dict[str, str]] = field(default_factory=list)
    brands: set[str] = field(default_factory=set)
    people: set[str] = field(default_factory=set)
    tlds: dict[str, set[str]] = field(default_factory=dict)  # domain label → its suffixes
    subsidiaries: list[dict[str, str]] = field(default_factory=list)
    by_id: dict[str, dict[str, str]] = field(default_factory=dict)

    def brand(self) -> str:
        while True:
            parts = self.rng.choice(SYLLABLES, size=int(self.rng.integers(2, 4)))
            word = "".join(parts)
            if len(word) >= 5 and word not in self.brands:
                self.brands.add(word)
                return word

    def person(self) -> tuple[str, str]:
        while True:
            first, last = str(self.rng.choice(FIRST)), str(self.rng.choice(LAST))
            middle = "".join(self.rng.choice(list("abcdefghjklmnoprstvw"), size=3))
            name = f"{first.title()} {middle.upper()[0]}. {last.title()}{middle[1:]}"
            if name not in self.people:
                self.people.add(name)
                return name, f"{first}.{middle[0]}.{last}{middle[1:]}"

    def pick(self, values: tuple[str, ...]) -> str:
        return str(self.rng.choice(values))


def _accounts(world: _World, n: int) -> None:
    rng = world.rng
    while len(world.accounts) < n:
        brand, country = world.brand(), world.pick(tuple(COUNTRIES))
        industry = world.pick(INDUSTRIES) if rng.random() < 0.7 else ""
        name = " ".join(p for p in (brand.title(), industry, world.pick(LEGAL)) if p)
        parent_id = f"A{len(world.accounts) + 1:06d}"
        tld = COUNTRIES[country][0]
        domain = f"{brand}.{tld}" if rng.random() < 0.8 else (
            f"{brand}{industry.lower()}.{tld}" if industry else f"{brand}-group.{tld}")
        _add_account(world, parent_id, name, domain, country, "", brand)
        if rng.random() < 0.2:  # a family: subsidiaries on their own country domains
            others = [c for c in COUNTRIES if c != country]
            for sub in rng.choice(others, size=int(rng.integers(1, 4)), replace=False):
                sub_tld, word = COUNTRIES[str(sub)]
                sub_name = f"{brand.title()} {word} {world.pick(LEGAL)}".strip()
                _add_account(world, f"A{len(world.accounts) + 1:06d}", sub_name,
                             f"{brand}.{sub_tld}", str(sub), parent_id, brand)


def _add_account(world: _World, account_id: str, name: str, domain: str, country: str,
                 parent: str, brand: str) -> None:
    website = ""
    if world.rng.random() < 0.2:  # some accounts list a website instead of a domain
        domain, website = "", f"https://www.{domain}/"
    world.accounts.append({"account_id": account_id, "name": name, "domain": domain,
                           "website": website, "country": country,
                           "parent_account_id": parent, "_brand": brand})


def _host(account: dict[str, str]) -> str:
    text = account["domain"] or account["website"]
    return text.removeprefix("https://").removeprefix("www.").rstrip("/")


def _typo(world: _World, word: str) -> str:
    i = int(world.rng.integers(1, len(word) - 1))
    how = world.rng.integers(4)
    if how == 3:  # another letter in place of one
        return word[:i] + str(world.rng.choice(list("aeioulnrst"))) + word[i + 1:]
    if how == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]  # swap two letters
    if how == 1:
        return word[:i] + word[i + 1:]  # drop one
    return word[:i] + word[i] + word[i:]  # double one


def name_variant(world: _World, name: str) -> str:
    """The same company as a person types it: case, legal form, punctuation, a typo."""
    words = name.split()
    legal = {w for form in LEGAL for w in form.split()}
    core = [w for w in words if w not in legal] or words
    how = int(world.rng.integers(7))
    if how == 6:  # the short name: the industry word left out ("Acme" for "Acme Foods")
        short = [w for w in core if w not in INDUSTRIES]
        return " ".join(short or core)
    if how == 0:
        return name.upper()
    if how == 1:
        return " ".join(core).lower()
    if how == 2:
        return f"{' '.join(core)}, {world.pick(LEGAL[:-1])}"
    if how == 3:
        return "-".join(core) + " " + world.pick(LEGAL)
    if how == 4:
        return " ".join(["Sys" if w == "Systems" else w for w in core]) + " " + world.pick(LEGAL)
    longest = max(range(len(core)), key=lambda i: len(core[i]))
    core[longest] = _typo(world, core[longest])
    return " ".join(core)


def _free_mail(world: _World, local: str) -> str:
    return f"{local.replace('.', '') if world.rng.random() < 0.5 else local}@" \
           f"{world.pick(FREE_MAIL)}"


def _unused_tld(world: _World, label: str) -> str:
    if not world.tlds:
        for a in world.accounts:
            head, tail = _host(a).split(".", 1)
            world.tlds.setdefault(head, set()).add(tail)
    used = world.tlds.get(label, set())
    free = [tld for tld, _ in COUNTRIES.values() if tld not in used]
    return world.pick(tuple(free)) if free else "io"


@dataclass
class _Lead:
    kind: str
    truth: str
    email: str = ""
    company: str = ""
    website: str = ""
    country: str = ""
    name: str = ""


def _lead(world: _World, kind: str, by_id: dict[str, dict[str, str]]) -> _Lead:
    rng = world.rng
    name, local = world.person()
    account = world.accounts[int(rng.integers(len(world.accounts)))]
    if kind == "subsidiary_domain":
        subs = world.subsidiaries or [a for a in world.accounts if a["parent_account_id"]]
        world.subsidiaries = subs
        account = subs[int(rng.integers(len(subs)))]
    here = account["country"] if rng.random() < 0.6 else ""
    if kind in ("corporate_email", "subsidiary_domain"):
        prefix = world.pick(("eu.", "mail.", "corp.", "")) if rng.random() < 0.3 else ""
        company = name_variant(world, account["name"]) if rng.random() < 0.5 else ""
        return _Lead(kind, account["account_id"], f"{local}@{prefix}{_host(account)}",
                     company, country=here, name=name)
    if kind in ("brand_other_country", "brand_conflict"):
        label = _host(account).split(".", 1)[0]
        root = account
        while root["parent_account_id"]:
            root = by_id[root["parent_account_id"]]
        email = f"{local}@{label}.{_unused_tld(world, label)}"
        if kind == "brand_conflict":
            other = f"{world.brand().title()} {world.pick(INDUSTRIES)} {world.pick(LEGAL)}"
            return _Lead(kind, "", email, other.strip(), name=name)
        brand = root["_brand"].title()
        place = world.pick(tuple(word for _, word in COUNTRIES.values()))
        company = world.pick(("", brand, f"{brand} {place}"))
        return _Lead(kind, root["account_id"], email, company, name=name)
    if kind == "company_name":
        email = _free_mail(world, local) if rng.random() < 0.6 else ""
        return _Lead(kind, account["account_id"], email,
                     name_variant(world, account["name"]), country=here, name=name)
    if kind == "website":
        host = _host(account)
        form = world.pick(("{h}", "www.{h}", "https://{h}/about", "HTTP://WWW.{H}",
                           "http://{h}:8080/x?y=1"))
        email = _free_mail(world, local) if rng.random() < 0.5 else ""
        return _Lead(kind, account["account_id"], email,
                     website=form.format(h=host, H=host.upper()), name=name)
    if kind == "freemail":
        return _Lead(kind, "", _free_mail(world, local), name=name)
    return _non_customer(world, account, local, name, by_id)


def _non_customer(world: _World, account: dict[str, str], local: str, name: str,
                  by_id: dict[str, dict[str, str]]) -> _Lead:
    """A company that is not a customer but shares a word with one (its family's brand
    with another industry, or its industry with another brand)."""
    while account["parent_account_id"]:
        account = by_id[account["parent_account_id"]]
    words = [w for w in account["name"].split() if w in INDUSTRIES]
    industry = words[0] if words else ""
    if world.rng.random() < 0.5:
        other = world.pick(tuple(i for i in INDUSTRIES if i != industry))
        company = f"{account['_brand'].title()} {other}"
    else:
        company = f"{world.brand().title()} {industry or world.pick(INDUSTRIES)}"
    host = company.lower().replace(" ", "-") + "." + world.pick(("com", "de", "co.uk"))
    email = f"{local}@{host}" if world.rng.random() < 0.6 else _free_mail(world, local)
    return _Lead("non_customer", "", email, f"{company} {world.pick(LEGAL)}".strip(),
                 name=name)


def _duplicate(world: _World, original: _Lead) -> _Lead:
    """The same person again: the same address typed differently, or the same name at the
    same company from a personal address."""
    rng = world.rng
    local, _, domain = original.email.partition("@")
    if original.email and rng.random() < 0.6:
        if domain == "gmail.com":
            local = local.replace(".", "") if "." in local else f"{local[:2]}.{local[2:]}"
        how = int(rng.integers(3))
        email = (f"{local}+{world.pick(('news', 'crm', 'x'))}@{domain}" if how == 0
                 else f"{local}@{domain}".upper() if how == 1 else f"{local.title()}@{domain}")
        return _Lead(original.kind, original.truth, email, original.company, original.website,
                     original.country, original.name)
    if not original.truth:
        return _Lead(original.kind, original.truth, original.email.upper(), original.company,
                     original.website, original.country, original.name)
    account = world.by_id[original.truth]
    handle = "".join(c for c in original.name.lower() if c.isalpha())  # names are unique
    email = _free_mail(world, f"{handle}{world.rng.integers(10, 99)}")
    return _Lead(original.kind, original.truth, email, name_variant(world, account["name"]),
                 country=original.country, name=original.name.upper())


def generate(n_accounts: int, n_leads: int, *, seed: int = 0, duplicate_share: float = 0.07
             ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(accounts, leads, truth)``; leads arrive shuffled, ``created_at`` gives the order."""
    world = _World(np.random.default_rng(seed))
    _accounts(world, n_accounts)
    by_id = world.by_id = {a["account_id"]: a for a in world.accounts}
    n_originals = int(round(n_leads * (1 - duplicate_share)))
    kinds = world.rng.choice(KINDS, size=n_originals, p=np.array(SHARE) / sum(SHARE))
    leads = [_lead(world, str(kind), by_id) for kind in kinds]
    firsts = world.rng.choice(n_originals, size=n_leads - n_originals, replace=False)
    leads += [_duplicate(world, leads[int(i)]) for i in firsts]
    duplicate_of = [""] * n_originals + [f"L{int(i) + 1:06d}" for i in firsts]
    ids = [f"L{i + 1:06d}" for i in range(len(leads))]
    start = pd.Timestamp("2024-01-01")
    table = pd.DataFrame({
        "lead_id": ids,
        "email": [lead.email for lead in leads], "company": [lead.company for lead in leads],
        "website": [lead.website for lead in leads],
        "country": [lead.country for lead in leads], "name": [lead.name for lead in leads],
        "created_at": [(start + pd.Timedelta(minutes=i)).isoformat() for i in range(len(ids))],
    })
    truth = pd.DataFrame({"lead_id": ids, "kind": [lead.kind for lead in leads],
                          "account_id": [lead.truth for lead in leads],
                          "duplicate_of": duplicate_of})
    order = world.rng.permutation(len(ids))
    accounts = pd.DataFrame(world.accounts).drop(columns="_brand")
    return accounts, table.iloc[order].reset_index(drop=True), truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=3000)
    parser.add_argument("--leads", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    accounts, leads, truth = generate(args.accounts, args.leads, seed=args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    accounts.to_csv(args.out / "accounts.csv", index=False)
    leads.to_csv(args.out / "leads.csv", index=False)
    truth.to_csv(args.out / "truth.csv", index=False)
    print(f"{len(accounts)} accounts, {len(leads)} leads written to {args.out}")


if __name__ == "__main__":
    main()
