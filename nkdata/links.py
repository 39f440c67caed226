"""Whether a source link is canonical: the one place that knows which hosts are mirrors, proxies or webmail.

A link shown to readers as a source should be the canonical one (doi.org, PubMed/PMC, the publisher or the
conference, ClinicalTrials.gov or another registry, the sponsor's own site). The page actually read may be a
mirror; it is kept as provenance (``read_at``), never as the source. Validation warns (it does not fail) on a
source_url this module flags, for the studies and the registry alike.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

# Hosts (or host suffixes) of registry mirrors, trial-listing sites, reprint aggregators and copies of papers.
MIRROR_HOSTS: tuple[str, ...] = (
    "meddatax.com",
    "trials.co",
    "crick.ai",
    "medpath.com",
    "findatrial",
    "preview-www.nature.com",
    "clinicaltrialexchange.com",
    "ctv.veeva.com",
    "inclinicaltrials.com",
    "ignite-sd.com",
    "clinicaltrialcompass.org",
    "clinconnect.io",
    "trials.starfile.org",
    "trialfinderdata.org",
    "medifind.com",
    "clincosm.com",
    "wilddata.cn",
    "booksci.cn",
    "zendy.io",
    "medluna.com",
    "knowcancer.com",
    "getwellsoon.ai",
    "21docs.com",
)
# Translation proxies and webmail: a page seen through them is never the source itself.
PROXY_HOSTS: tuple[str, ...] = ("translate.goog", "translate.google.com", "proxy.weglot.com", "translatoruser-int.com")
WEBMAIL_PREFIXES: tuple[str, ...] = ("webmail.", "mail.", "outlook.")


def _matches(host: str, pattern: str) -> bool:
    """A host equals the pattern or is a subdomain of it; a bare word (no dot) matches anywhere in the host."""
    if "." not in pattern:
        return pattern in host
    return host == pattern or host.endswith("." + pattern)


def non_canonical_reason(url: str) -> str | None:
    """Why ``url`` is not a canonical source link (raw IP, proxy, webmail, mirror), or None when it may be."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return "it is not a well-formed URL"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return f"{host} is a raw IP address" + (" over plain http" if parts.scheme == "http" else "")
    if any(_matches(host, p) for p in PROXY_HOSTS):
        return f"{host} is a translation proxy"
    if host.startswith(WEBMAIL_PREFIXES):
        return f"{host} is a webmail host"
    if any(_matches(host, p) for p in MIRROR_HOSTS):
        return f"{host} is a mirror or listing site, not the canonical record"
    if _is_search_page(parts.path, parts.query):
        return f"{host}{parts.path} is a search-results page, not a page of the publication"
    return None


def _is_search_page(path: str, query: str) -> bool:
    """A site's search results (``/search?q=...``): what it lists changes, and it is not the record itself."""
    segments = [s.lower() for s in path.split("/") if s]
    return bool(query) and any(s in {"search", "results", "find"} for s in segments)
