"""The Hugging Face Daily Papers source: ``GET https://huggingface.co/api/daily_papers
?date=YYYY-MM-DD`` lists the papers submitted to that day's page, read with the parser
`paperwire import` uses (ingest.hf_daily). Only this source may reach huggingface.co: the
client's host allow-list is widened for these requests alone.

A response that is not one whole JSON array (cut off, garbled, an HTML error page) is
garbled: whatever records parsed are kept, and the day is not complete."""

from __future__ import annotations

from datetime import UTC, date, datetime

import orjson

from paperwire.ingest.common import ParseError, RecordError, RecordWarning
from paperwire.ingest.fetch import PoliteClient
from paperwire.ingest.hf_daily import DailyItem, parse_items
from paperwire.ingest.load import load
from paperwire.sources.harvest import DayHarvest
from paperwire.store.base import Store

HF_HOSTS = frozenset({"huggingface.co"})
DAILY_URL = "https://huggingface.co/api/daily_papers"  # under the default hf_base_url
PAGE_LIMIT = 100  # the most the API lists per request
SOURCE_NAME = "huggingface"


def harvest_day(http: PoliteClient, store: Store, day: date) -> DayHarvest:
    """Read one day's list and store its papers (FetchError when upstream cannot be
    reached after the client's retries)."""
    url = http.upstreams.hf_daily_url  # setting hf_base_url
    where = f"{url}?date={day.isoformat()}"
    read_at = datetime.now(UTC)
    body = http.get(
        url, {"date": day.isoformat(), "limit": str(PAGE_LIMIT)}, http.upstreams.hf_hosts
    )
    result = DayHarvest()
    try:
        whole = orjson.loads(body)
        if not isinstance(whole, list):
            result.garbled = f"{where}: expected a JSON array, got {type(whole).__name__}"
    except orjson.JSONDecodeError as exc:
        result.garbled = f"{where}: not a whole JSON array ({exc})"
    papers = result.papers
    try:
        for item in parse_items(body, where):
            if isinstance(item, DailyItem):
                paper = item.to_paper(read_at)
                papers.append(paper)
                result.submitters[paper.key] = item.submitted_by
            elif isinstance(item, RecordWarning):
                result.report.warn(item)
            elif isinstance(item, RecordError):
                result.report.note(item)
    except ParseError as exc:
        result.garbled = result.garbled or str(exc)
    result.records = len(papers) + result.report.error_count
    load(store, papers, report=result.report)
    return result
