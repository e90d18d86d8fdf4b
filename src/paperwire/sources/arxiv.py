"""The arXiv source: each chosen category harvested by OAI-PMH for one datestamp day
(``set`` and ``from``/``until``), with the harvest `paperwire harvest oai` runs
(ingest.fetch.harvest_oai: arXiv's pace, Retry-After waited out, the resumption token
saved after every page so a killed harvest resumes). OAI-PMH announces the size of the
whole list (``completeListSize``): fewer records than that is a short list."""

from __future__ import annotations

from datetime import date

from paperwire.ingest.common import ParseError
from paperwire.ingest.fetch import FetchError, OaiHarvest, PoliteClient, harvest_oai
from paperwire.ingest.load import ImportReport
from paperwire.ingest.oai_pmh import PageState
from paperwire.sources.harvest import DayHarvest
from paperwire.store.base import Store


def oai_set(category: str) -> str:
    """arXiv's OAI-PMH set of a category: cs.LG -> cs:cs:LG, stat.ML -> stat:stat:ML,
    hep-th -> physics:hep-th, physics.optics -> physics:physics:optics."""
    archive, _, sub = category.partition(".")
    if not sub:
        return f"physics:{archive}" if archive not in {"cs", "math", "stat"} else archive
    group = "physics" if archive in {"astro-ph", "cond-mat", "nlin", "physics"} else archive
    if group == "physics" and archive != "physics":
        return f"physics:{archive}"
    return f"{group}:{archive}:{sub}"


def harvest_day(
    http: PoliteClient, store: Store, categories: tuple[str, ...], day: date
) -> DayHarvest:
    """Harvest every category for one day and store the records; the day's papers are
    those whose keys the store's change feed shows after the harvest began."""
    result = DayHarvest()
    stated_total = 0
    announced = False
    seq_before = store.current_seq()
    for category in categories:
        sizes: list[int] = []

        def note(page: PageState, sizes: list[int] = sizes) -> None:
            if page.complete_size is not None:
                sizes.append(page.complete_size)

        report = ImportReport()
        try:
            report = harvest_oai(
                http, store, OaiHarvest(set=oai_set(category), from_=day, until=day), on_page=note
            )
        except FetchError as exc:
            if "run again to resume" not in str(exc) and "OAI-PMH error" not in str(exc):
                raise
            result.garbled = str(exc)
        except ParseError as exc:
            result.garbled = str(exc)
        result.report.add(report)
        result.records += report.read
        if sizes:
            announced = True
            stated_total += max(sizes)
        else:
            stated_total += report.read
    result.stated = stated_total if announced else None
    changes = store.changes((seq_before, 1 << 62), 1 << 62, 100_000)
    result.papers = [paper for _, paper in changes.papers]
    return result
