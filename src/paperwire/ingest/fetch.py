"""Online sources: the arXiv API and arXiv's OAI-PMH interface.

The HTTP client is injected (tests hand in an ``httpx.Client`` whose transport replays
recorded responses; the parsing is the real code). Requests go only to arXiv's own hosts,
at most one every 3 seconds as arXiv asks, and 503 ``Retry-After`` answers are waited
out. Progress is saved in the store after every page, so an interrupted harvest resumes
where it stopped."""

from __future__ import annotations

import hashlib
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from defusedxml.ElementTree import ParseError as XmlSyntaxError

from paperwire.ingest import arxiv_atom, oai_pmh
from paperwire.ingest.common import Parsed, ParseError
from paperwire.ingest.load import ImportReport, load
from paperwire.store.base import Store

ARXIV_HOSTS = frozenset({"arxiv.org", "export.arxiv.org", "www.arxiv.org", "oaipmh.arxiv.org"})
API_URL = "https://export.arxiv.org/api/query"
OAI_URL = "https://oaipmh.arxiv.org/oai"
MIN_INTERVAL_S = 3.0
MAX_RETRIES = 5
# A host that cannot be connected to (no network, DNS failing, a port closed, a route
# missing) is tried once more after CONNECT_RETRY_S, then reported: the five paced
# retries of a busy server (3+6+12+24 s) made `sources run` without a network take 46 s.
CONNECT_TIMEOUT_S = 3.0
CONNECT_RETRIES = 1
CONNECT_RETRY_S = 1.0
MAX_RESPONSE_BYTES = 200 * 1024 * 1024
# How much of a compressed body is inflated at a time (read_capped).
DECODE_STEP = 1024 * 1024
USER_AGENT = "paperwire/0.1 (self-hosted paper discovery; +https://pypi.org/project/paperwire/)"


class FetchError(Exception):
    """An online source could not be read; the message names the URL."""


HF_BASE_URL = "https://huggingface.co"


def _host_entry(url: str) -> str:
    """How a configured base URL enters a host allow-list: its host name, with its port
    when it is not the scheme's usual one ("127.0.0.1:8765")."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return host if parts.port in (None, 80, 443) else f"{host}:{parts.port}"


@dataclass(frozen=True, slots=True)
class Upstreams:
    """Where the online sources are: the Hugging Face site, the arXiv API and arXiv's
    OAI-PMH interface (settings hf_base_url, arxiv_api_url, arxiv_oai_url), so an
    operator can point a source at a mirror or a recorded server. A base URL the
    operator sets is configuration, not input: each source's host allow-list follows it
    (its host, and its port when it names one), and URLs readers give are still
    checked against that list."""

    hf_base_url: str = HF_BASE_URL
    arxiv_api_url: str = API_URL
    arxiv_oai_url: str = OAI_URL

    @property
    def hf_daily_url(self) -> str:
        """The daily-papers API under the Hugging Face base URL."""
        return self.hf_base_url.rstrip("/") + "/api/daily_papers"

    @property
    def arxiv_hosts(self) -> frozenset[str]:
        """arXiv's own hosts and those of the configured arXiv URLs."""
        return ARXIV_HOSTS | {_host_entry(self.arxiv_api_url), _host_entry(self.arxiv_oai_url)}

    @property
    def hf_hosts(self) -> frozenset[str]:
        """The Hugging Face host (and the configured one's)."""
        return frozenset({"huggingface.co", _host_entry(self.hf_base_url)})


def upstreams_of(settings: Any) -> Upstreams:
    """The Upstreams a Settings object configures."""
    return Upstreams(settings.hf_base_url, settings.arxiv_api_url, settings.arxiv_oai_url)


def check_arxiv_url(url: str, hosts: frozenset[str] = ARXIV_HOSTS) -> str:
    """Refuse any URL that is not https/http on one of arXiv's hosts (no SSRF); a caller
    that reads another upstream (the Hugging Face source) names its own hosts. A port
    other than 80/443 is allowed only where the list names it with the host (a base URL
    the operator configured, see :class:`Upstreams`); credentials never."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        raise FetchError(f"{url[:200]}: the port is not a number") from None
    if parts.scheme not in {"https", "http"} or (
        host not in hosts and f"{host}:{port}" not in hosts
    ):
        whose = "arXiv's own hosts" if hosts == ARXIV_HOSTS else "these hosts"
        raise FetchError(f"{url[:200]}: only {whose} are fetched ({', '.join(sorted(hosts))})")
    if (port not in (None, 80, 443) and f"{host}:{port}" not in hosts) or (
        parts.username or parts.password
    ):
        raise FetchError(f"{url[:200]}: ports and credentials are not allowed in fetched URLs")
    return url


def read_capped(response: httpx.Response, url: str) -> bytes:
    """A response's body, refused once past MAX_RESPONSE_BYTES decoded: a compressed bomb
    stops at the cap instead of being unpacked whole into memory first, as
    `response.content` did. gzip and deflate are inflated here, DECODE_STEP bytes at a time
    (httpx inflates a whole network chunk at once: 64 KB of gzip can be 64 MB); other
    encodings through httpx's decoders. A body that fails to decode is a FetchError."""
    chunks: list[bytes] = []
    size = 0

    def keep(piece: bytes) -> None:
        nonlocal size
        size += len(piece)
        if size > MAX_RESPONSE_BYTES:
            raise FetchError(
                f"{url[:200]}: response larger than {MAX_RESPONSE_BYTES:,} bytes (decoded); refused"
            )
        chunks.append(piece)

    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    try:
        if encoding in {"gzip", "x-gzip", "deflate"}:
            inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # a gzip or zlib header
            for raw in response.iter_raw():
                data = raw
                while data:
                    keep(inflater.decompress(data, DECODE_STEP))
                    data = inflater.unconsumed_tail
            keep(inflater.flush())
        else:
            for piece in response.iter_bytes():
                keep(piece)
    except (httpx.HTTPError, zlib.error) as exc:
        raise FetchError(f"{url[:200]}: {exc}") from exc
    return b"".join(chunks)


@dataclass
class PoliteClient:
    """An HTTP client that keeps arXiv's pace and retries what arXiv asks to retry."""

    client: httpx.Client
    min_interval: float = MIN_INTERVAL_S
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    max_retries: int = MAX_RETRIES  # a reader waiting on a page gets one attempt
    # Where the sources are (settings hf_base_url, arxiv_api_url, arxiv_oai_url).
    upstreams: Upstreams = field(default_factory=Upstreams)
    connect_retries: int = CONNECT_RETRIES
    # Waits for the host's next slot, shared by every thread and process (paperwire.pacing);
    # without one, only this client's own requests are paced.
    pace: Callable[[str], None] | None = None
    _last: float | None = field(default=None, init=False)

    def get(
        self,
        url: str,
        params: dict[str, str] | None = None,
        hosts: frozenset[str] | None = None,
    ) -> bytes:
        """GET an arXiv URL (or one of `hosts`); returns the body. Redirects are followed
        only within those hosts. A host that cannot be connected to fails fast (see
        CONNECT_RETRIES); a server that answers busy is waited out (max_retries)."""
        hosts = hosts if hosts is not None else self.upstreams.arxiv_hosts
        unreachable = 0
        for attempt in range(self.max_retries):
            check_arxiv_url(url, hosts)
            if unreachable == 0:  # a request that never connected took no slot upstream
                if self.pace is not None:
                    self.pace(urlsplit(url).hostname or "")
                else:
                    self._wait()
            try:
                request = self.client.build_request(
                    "GET", url, params=params, headers={"User-Agent": USER_AGENT}
                )
                response = self.client.send(request, stream=True, follow_redirects=False)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError) as exc:
                unreachable += 1
                if unreachable > self.connect_retries or attempt == self.max_retries - 1:
                    host = urlsplit(url).hostname
                    raise FetchError(
                        f"{url}: cannot connect to {host} ({exc or type(exc).__name__}; "
                        f"{unreachable} attempts); is the network up?"
                    ) from exc
                self.sleep(CONNECT_RETRY_S)
                continue
            except httpx.HTTPError as exc:
                if attempt == self.max_retries - 1:
                    raise FetchError(f"{url}: {exc}") from exc
                self.sleep(self.min_interval * 2**attempt)
                continue
            try:  # closed on every way out: the body is read only when wanted
                if response.is_redirect:
                    url = str(response.next_request.url) if response.next_request else url
                    params = None
                    continue
                if response.status_code in {429, 500, 502, 503, 504}:
                    if attempt == self.max_retries - 1:  # no point waiting for a retry not made
                        break
                    retry_after = response.headers.get("Retry-After", "")
                    delay = (
                        float(retry_after)
                        if retry_after.isascii() and retry_after.isdecimal()
                        else self.min_interval * 2**attempt
                    )
                    self.sleep(min(delay, 600.0))
                    continue
                if response.status_code >= 400:
                    raise FetchError(f"{response.request.url}: HTTP {response.status_code}")
                return read_capped(response, url)
            finally:
                response.close()
        raise FetchError(f"{url}: still failing after {self.max_retries} attempts")

    def _wait(self) -> None:
        now = self.clock()
        if self._last is not None and now - self._last < self.min_interval:
            self.sleep(self.min_interval - (now - self._last))
        self._last = self.clock()


def _state_name(kind: str, params: dict[str, str]) -> str:
    digest = hashlib.sha256(urlencode(sorted(params.items())).encode()).hexdigest()[:16]
    return f"fetch:{kind}:{digest}"


@dataclass
class ArxivQuery:
    """An arXiv API search: free query, category, submission date range."""

    query: str | None = None
    category: str | None = None
    submitted_from: date | None = None
    submitted_until: date | None = None
    id_list: list[str] = field(default_factory=list)

    def search_query(self) -> str:
        """arXiv's search_query syntax for these conditions."""
        parts = []
        if self.query:
            parts.append(f"all:{self.query}" if ":" not in self.query else self.query)
        if self.category:
            parts.append(f"cat:{self.category}")
        if self.submitted_from or self.submitted_until:
            start = (self.submitted_from or date(1991, 1, 1)).strftime("%Y%m%d0000")
            end = (self.submitted_until or date.today()).strftime("%Y%m%d2359")
            parts.append(f"submittedDate:[{start} TO {end}]")
        return " AND ".join(parts)


def fetch_arxiv_api(
    http: PoliteClient,
    store: Store,
    query: ArxivQuery,
    page_size: int = 200,
    max_results: int | None = None,
    on_batch: Callable[[int], object] | None = None,
) -> ImportReport:
    """Page through an arXiv API query into the store, resuming a query that was
    interrupted (the next start offset is saved after every page)."""
    params = {"sortBy": "submittedDate", "sortOrder": "ascending"}
    if query.search_query():
        params["search_query"] = query.search_query()
    if query.id_list:
        params["id_list"] = ",".join(query.id_list)
    state = _state_name("api", params)
    start = int(store.get_state(state) or 0)
    report = ImportReport()
    while True:
        size = page_size if max_results is None else min(page_size, max_results - start)
        if size <= 0:
            break
        api_url = http.upstreams.arxiv_api_url
        body = http.get(api_url, {**params, "start": str(start), "max_results": str(size)})
        try:
            items = list(arxiv_atom.parse(body, f"{api_url}?start={start}"))
        except ParseError as exc:
            raise FetchError(f"{exc}; run again to resume") from exc
        errors = [i for i in items if arxiv_atom.is_error(i)]
        if errors:
            raise FetchError(str(errors[0]))
        load(store, items, on_batch=on_batch, report=report)
        try:
            info = arxiv_atom.page_info(body)
        except XmlSyntaxError as exc:
            # Whatever parsed is kept; the offset is not advanced, so a rerun fetches
            # this page again.
            raise FetchError(
                f"{api_url} (start={start}): page cut off ({exc}); run again to resume"
            ) from exc
        start += len(items)  # arXiv's offsets count entries, broken ones included
        store.set_state(state, str(start))
        if not items or start >= info.total:
            break
    store.set_state(state, None)
    return report


@dataclass
class OaiHarvest:
    """An OAI-PMH ListRecords harvest: a set, a datestamp range, a metadata format."""

    set: str | None = None
    from_: date | None = None
    until: date | None = None
    prefix: str = "arXiv"

    def params(self) -> dict[str, str]:
        """The first request's parameters."""
        params = {"verb": "ListRecords", "metadataPrefix": self.prefix}
        if self.set:
            params["set"] = self.set
        if self.from_:
            params["from"] = self.from_.isoformat()
        if self.until:
            params["until"] = self.until.isoformat()
        return params


def harvest_oai(
    http: PoliteClient,
    store: Store,
    harvest: OaiHarvest,
    base_url: str | None = None,
    on_batch: Callable[[int], object] | None = None,
    on_page: Callable[[oai_pmh.PageState], object] | None = None,
) -> ImportReport:
    """Harvest into the store, following resumption tokens; the token is saved after
    every page, so running the same harvest again resumes after the last stored page.
    `on_page` sees each page's state (its completeListSize: what upstream says it has).
    `base_url`: the client's configured OAI-PMH URL unless given."""
    base_url = base_url or http.upstreams.arxiv_oai_url
    check_arxiv_url(base_url, http.upstreams.arxiv_hosts)
    first = harvest.params()
    state = _state_name("oai", first)
    token = store.get_state(state)
    report = ImportReport()
    while True:
        params = {"verb": "ListRecords", "resumptionToken": token} if token else first
        body = http.get(base_url, params)
        try:
            page = oai_pmh.page_state(body, base_url)
        except ParseError as exc:
            load(store, oai_pmh.parse(body, base_url), on_batch=on_batch, report=report)
            raise FetchError(f"{exc}; run again to resume from the last whole page") from exc
        if on_page is not None:
            on_page(page)
        if page.error_code == "noRecordsMatch":
            break
        if page.error_code:
            raise FetchError(f"{base_url}: OAI-PMH error {page.error_code}: {page.error_message}")
        load(
            store,
            oai_pmh.parse(body, f"{base_url} (token {token or 'first page'})"),
            on_batch=on_batch,
            report=report,
        )
        token = page.token
        store.set_state(state, token)
        if not token:
            break
    return report


def split_url(url: str, hosts: frozenset[str] = ARXIV_HOSTS) -> tuple[str, dict[str, str]]:
    """A user-given arXiv URL as its base and its query parameters."""
    parts = urlsplit(check_arxiv_url(url, hosts))
    return f"{parts.scheme}://{parts.netloc}{parts.path}", dict(parse_qsl(parts.query))


def import_url(
    http: PoliteClient, store: Store, url: str, on_batch: Callable[[int], object] | None = None
) -> ImportReport:
    """Import what an arXiv URL names: an abstract/PDF page (that paper), an API query
    URL (all its pages) or an OAI-PMH ListRecords URL (the whole harvest)."""
    from paperwire.models import normalise_arxiv_id

    hosts = http.upstreams.arxiv_hosts
    check_arxiv_url(url, hosts)
    arxiv_id = normalise_arxiv_id(url)
    if arxiv_id:
        return fetch_arxiv_api(http, store, ArxivQuery(id_list=[arxiv_id]), on_batch=on_batch)
    base, params = split_url(url, hosts)
    if base.rstrip("/").endswith("/api/query"):
        query = ArxivQuery(
            query=params.get("search_query"),
            id_list=[i for i in params.get("id_list", "").split(",") if i],
        )
        limit = params.get("max_results")
        return fetch_arxiv_api(
            http,
            store,
            query,
            max_results=int(limit) if limit and limit.isdecimal() else None,
            on_batch=on_batch,
        )
    if params.get("verb") == "ListRecords":
        harvest = OaiHarvest(
            set=params.get("set"),
            from_=date.fromisoformat(params["from"]) if "from" in params else None,
            until=date.fromisoformat(params["until"]) if "until" in params else None,
            prefix=params.get("metadataPrefix", "arXiv"),
        )
        return harvest_oai(http, store, harvest, base_url=base, on_batch=on_batch)
    raise FetchError(f"{url[:200]}: not an arXiv paper, API query or OAI-PMH ListRecords URL")


__all__ = [
    "ArxivQuery",
    "FetchError",
    "OaiHarvest",
    "Parsed",
    "PoliteClient",
    "Upstreams",
    "check_arxiv_url",
    "fetch_arxiv_api",
    "harvest_oai",
    "import_url",
    "upstreams_of",
]
