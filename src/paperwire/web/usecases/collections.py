"""The use cases of collections, feedback and recommendations, for the pages, the API
and the feeds alike: saving papers to a reader's collections (notes, order), creating,
renaming, sharing and deleting them, exporting and importing libraries, "not interested"
and "seen", profiles (seeded from an author or a library; reset, delete) and their
recommendations with reasons.

Every collection is reached through its owner's id (the store matches it in the same
statement): another reader's id answers 404, as an id that does not exist does, so
private collections cannot even be probed."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import json
import secrets
from dataclasses import dataclass, field, replace
from typing import Literal

from paperwire.deployment.imports import upload_limits
from paperwire.errors import UserError
from paperwire.ingest import ParseError, parse_any
from paperwire.ingest.common import RecordError
from paperwire.ingest.export import EXPORT_FORMATS, write
from paperwire.ingest.fetch import ArxivQuery, FetchError, fetch_arxiv_api
from paperwire.ingest.load import cleaned
from paperwire.models import FeedEntry, Paper, User, normalise_arxiv_id
from paperwire.recommend.corpus import Corpus, CorpusNotReadyError, cached_corpus
from paperwire.recommend.model import Recommendation
from paperwire.recommend.profile import profile_recommendations
from paperwire.store.collections import SIGNALS, Collection, CollectionItem, Feedback, Signal
from paperwire.web.security import hash_token, new_token
from paperwire.web.services import Services
from paperwire.web.usecases.feed import mark_voted

MAX_NAME = 100
# Ids past this are refused before they reach the store (both engines take 63 bits).
MAX_ID = 2**53
MAX_NOTE = 2000
MAX_DESCRIPTION = 2000
MAX_LIBRARY_BYTES = 5 * 1024 * 1024
MAX_LIBRARY_ENTRIES = 5000
# Unknown arXiv ids in a pasted list are fetched from arXiv, at most this many per import.
MAX_FETCHED_IDS = 100
MAX_RECOMMENDATIONS = 100
AUTHOR_SEED_PAPERS = 200
REASONS = ("", "topic", "paper")
SHARE_PREFIX = "sh_"
FEED_PREFIX = "fd_"
ExportFormat = Literal["bibtex", "csl-json", "jsonl"]
MEDIA_TYPES: dict[str, tuple[str, str]] = {
    "bibtex": ("application/x-bibtex; charset=utf-8", "bib"),
    "csl-json": ("application/vnd.citationstyles.csl+json; charset=utf-8", "json"),
    "jsonl": ("application/x-ndjson; charset=utf-8", "jsonl"),
}


def _changed(services: Services) -> None:
    services.pages.clear()


def check_name(name: str) -> str:
    """A collection name: 1 to MAX_NAME characters, spaces trimmed, no control characters."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME or any(ord(c) < 32 for c in name):
        raise UserError(f"a collection name is 1 to {MAX_NAME} printable characters")
    return name


def check_description(text: str) -> str:
    """A collection's description: at most MAX_DESCRIPTION characters, spaces at the ends
    trimmed, line breaks kept (paragraphs), no other control characters; '' for none."""
    text = text.replace("\r\n", "\n").strip()
    if len(text) > MAX_DESCRIPTION or any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise UserError(
            f"description: at most {MAX_DESCRIPTION} printable characters (line breaks allowed)"
        )
    return text


# -- collections --------------------------------------------------------------------


def collections(services: Services, reader: User) -> list[Collection]:
    """The reader's collections (the "Reading list" made on first use)."""
    return services.store.collections_of(reader.id, services.clock())


def reading_list_of(services: Services, reader: User) -> Collection:
    """The reader's Reading list: their first collection, where Save puts a paper and
    whose recommendations /for-you shows when they have no profile."""
    return collections(services, reader)[0]


def owned(services: Services, reader: User, collection_id: int) -> Collection:
    """One of the reader's collections; 404 for any other id (theirs or nobody's)."""
    found = services.store.get_collection(reader.id, collection_id)
    if found is None:
        raise UserError(f"you have no collection {collection_id}", 404)
    return found


def default_profile(services: Services, reader: User) -> Collection:
    """The profile a reader's recommendations come from unless they choose: their first
    profile, else their first collection (the Reading list)."""
    mine = collections(services, reader)
    return next((c for c in mine if c.is_profile), mine[0])


def profile_tabs(services: Services, reader: User) -> list[Collection]:
    """The tabs of /for-you: the reader's profiles, else the Reading list alone."""
    mine = collections(services, reader)
    return [c for c in mine if c.is_profile] or mine[:1]


def recommended_entries(
    services: Services, recs: list[Recommendation]
) -> list[tuple[FeedEntry, Recommendation]]:
    """Each recommendation with its paper's feed entry, in order; one whose paper is gone
    since the corpus was built (a large store's corpus is rebuilt in the background) is
    left out, not an error."""
    papers = services.store.get_papers([r.paper_id for r in recs])
    kept = [r for r in recs if r.paper_id in papers]
    entries = services.store.entries([papers[r.paper_id] for r in kept])
    return list(zip(entries, kept, strict=True))


def saved_item(services: Services, reader: User, collection_id: int, key: str) -> CollectionItem:
    """The item a paper is in one of the reader's collections (after saving it)."""
    paper_id = _paper_id(services, reader, key)
    for item in items(services, owned(services, reader, collection_id)):
        if item.paper_id == paper_id:
            return item
    raise UserError(f"{key[:80]!r} is not in collection {collection_id}", 404)


def saved_in(services: Services, reader: User, collection_id: int, key: str) -> Collection | None:
    """The reader's collection `collection_id` if it holds the paper (what the paper
    page names after a save), else None: an id of another reader's, or a save since
    undone, names nothing."""
    try:
        saved_item(services, reader, collection_id, key)
    except UserError:
        return None
    return owned(services, reader, collection_id)


def items(services: Services, collection: Collection) -> list[CollectionItem]:
    """A collection's papers in order (the caller holds the collection: owner or link)."""
    return services.store.collection_items(collection.id)


def create(services: Services, reader: User, name: str, profile: bool = False) -> Collection:
    """A new collection (a recommendation profile if asked)."""
    try:
        made = services.store.create_collection(
            reader.id, check_name(name), services.clock(), is_profile=profile
        )
    except ValueError as exc:
        raise UserError(str(exc), 409) from exc
    return made


def update(
    services: Services,
    reader: User,
    collection_id: int,
    name: str | None = None,
    profile: bool | None = None,
    description: str | None = None,
) -> Collection:
    """Rename a collection, describe it, or make it a profile or not."""
    owned(services, reader, collection_id)
    try:
        services.store.update_collection(
            reader.id,
            collection_id,
            name=check_name(name) if name is not None else None,
            is_profile=profile,
            description=check_description(description) if description is not None else None,
        )
    except ValueError as exc:
        raise UserError(str(exc), 409) from exc
    return owned(services, reader, collection_id)


def delete(services: Services, reader: User, collection_id: int) -> None:
    """Delete a collection (its papers stay in the store)."""
    if not services.store.delete_collection(reader.id, collection_id):
        raise UserError(f"you have no collection {collection_id}", 404)
    _changed(services)


def reset(services: Services, reader: User, collection_id: int) -> None:
    """Empty a profile: its recommendations start again from nothing."""
    if not services.store.clear_collection(reader.id, collection_id):
        raise UserError(f"you have no collection {collection_id}", 404)
    services.store.update_collection(reader.id, collection_id, seed="")


def _paper_id(services: Services, reader: User, key: str) -> int:
    """A paper's id, if the reader may see it (an unconfirmed paper of another reader's
    answers as an unknown one: store.visibility)."""
    paper_id = services.store.find_paper_id(key, reader) if len(key) <= 300 else None
    if paper_id is None:
        raise UserError(f"no paper {key[:200]!r} here", 404)
    return paper_id


def save(services: Services, reader: User, collection_id: int | None, key: str) -> Collection:
    """Save a paper to a collection (None: the Reading list); saving twice keeps one."""
    if collection_id is None:
        collection_id = reading_list_of(services, reader).id
    paper_id = _paper_id(services, reader, key)
    if services.store.add_items(reader.id, collection_id, [paper_id], services.clock()) is None:
        raise UserError(f"you have no collection {collection_id}", 404)
    _changed(services)
    return owned(services, reader, collection_id)


def remove(services: Services, reader: User, collection_id: int, key: str) -> None:
    """Take a paper out of a collection."""
    owned(services, reader, collection_id)
    if not services.store.remove_item(reader.id, collection_id, _paper_id(services, reader, key)):
        raise UserError(f"{key[:200]!r} is not in collection {collection_id}", 404)
    _changed(services)


def note(services: Services, reader: User, collection_id: int, key: str, text: str) -> None:
    """Set the private note of a saved paper."""
    if len(text) > MAX_NOTE:
        raise UserError(f"a note is at most {MAX_NOTE} characters")
    owned(services, reader, collection_id)
    paper_id = _paper_id(services, reader, key)
    if not services.store.set_note(reader.id, collection_id, paper_id, text):
        raise UserError(f"{key[:200]!r} is not in collection {collection_id}", 404)


def move(services: Services, reader: User, collection_id: int, key: str, step: int) -> None:
    """Move a saved paper up (step -1) or down (+1) one place."""
    owned(services, reader, collection_id)
    order = [item.paper_id for item in services.store.collection_items(collection_id)]
    paper_id = _paper_id(services, reader, key)
    if paper_id not in order:
        raise UserError(f"{key[:200]!r} is not in collection {collection_id}", 404)
    at = order.index(paper_id)
    to = max(0, min(len(order) - 1, at + step))
    order.insert(to, order.pop(at))
    services.store.reorder(reader.id, collection_id, order)


def reorder(services: Services, reader: User, collection_id: int, keys: list[str]) -> None:
    """Put these papers first in this order (the others follow as they were)."""
    owned(services, reader, collection_id)
    ids = [_paper_id(services, reader, key) for key in keys[:MAX_LIBRARY_ENTRIES]]
    services.store.reorder(reader.id, collection_id, ids)


# -- share links and feeds ----------------------------------------------------------


TokenColumn = Literal["share_hash", "feed_hash"]


def _new_token(
    services: Services, reader: User, collection_id: int, column: TokenColumn, prefix: str
) -> str:
    """A new token of one kind for a collection (the earlier one stops working); only its
    hash is kept, so the token is shown this once."""
    owned(services, reader, collection_id)
    token = new_token(prefix)
    services.store.set_collection_token(reader.id, collection_id, column, hash_token(token))
    return token


def _revoke_token(
    services: Services, reader: User, collection_id: int, column: TokenColumn
) -> None:
    owned(services, reader, collection_id)
    services.store.set_collection_token(reader.id, collection_id, column, None)


def share_link_token(services: Services, collection: Collection) -> str | None:
    """The collection's public link token, derived from the site's secret and the
    collection's share nonce (HMAC-SHA256), so the owner sees it again on the
    collection; None when not shared, or shared by a link made before links were
    derived (only its hash is kept: a new link replaces it)."""
    if not collection.shared or not collection.share_nonce:
        return None
    mac = hmac.new(
        services.secret.encode(),
        f"share:{collection.id}:{collection.share_nonce}".encode(),
        hashlib.sha256,
    ).digest()
    return SHARE_PREFIX + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def share(services: Services, reader: User, collection_id: int) -> str:
    """A new public link token for a collection (an earlier link stops working)."""
    found = owned(services, reader, collection_id)
    nonce = secrets.token_urlsafe(16)
    token = share_link_token(services, replace(found, shared=True, share_nonce=nonce)) or ""
    services.store.set_share_link(reader.id, collection_id, hash_token(token), nonce)
    return token


def unshare(services: Services, reader: User, collection_id: int) -> None:
    """Revoke a collection's public link."""
    owned(services, reader, collection_id)
    services.store.set_share_link(reader.id, collection_id, None, None)


def shared(services: Services, token: str) -> Collection:
    """The collection a public link opens; 404 for a revoked or unknown one."""
    found = None
    if token.startswith(SHARE_PREFIX) and len(token) <= 128:
        found = services.store.collection_by_token_hash("share_hash", hash_token(token))
    if found is None:
        raise UserError("this link is not (or no longer) shared", 404)
    return found


@dataclass(frozen=True, slots=True)
class SharedView:
    """What a shared link shows anyone: the collection's name, description and papers
    (as cards, the viewer's own upvotes marked). Never the owner's notes, who they are,
    their other collections or signals, nor whether it is a profile."""

    name: str
    description: str
    entries: list[FeedEntry]

    @property
    def paragraphs(self) -> list[str]:
        """The description's paragraphs (`paragraphs`)."""
        return paragraphs(self.description)


def paragraphs(description: str) -> list[str]:
    """A collection description's paragraphs, as its page and its shared page show them:
    a blank line parts two, each is trimmed, an empty one is dropped (a single line break
    stays inside its paragraph)."""
    return [p.strip() for p in description.split("\n\n") if p.strip()]


def shared_view(services: Services, token: str, viewer: User | None) -> SharedView:
    """The page a public link opens (404 for a revoked or unknown link). Papers the
    viewer may not see (an unconfirmed record of another reader's) are left out."""
    found = shared(services, token)
    papers = [item.paper for item in items(services, found)]
    shown = [
        p
        for p in papers
        if p.confirmed
        or (viewer is not None and services.store.find_paper_id(p.key, viewer) is not None)
    ]
    entries = services.store.entries(shown)
    mark_voted(services, entries, viewer)
    return SharedView(found.name, found.description, entries)


def new_feed(services: Services, reader: User, collection_id: int) -> str:
    """A new private Atom feed token for a profile (an earlier one stops working)."""
    return _new_token(services, reader, collection_id, "feed_hash", FEED_PREFIX)


def revoke_feed(services: Services, reader: User, collection_id: int) -> None:
    """Stop a profile's Atom feed."""
    _revoke_token(services, reader, collection_id, "feed_hash")


def feed_profile(services: Services, token: str) -> tuple[User, Collection]:
    """The reader and profile a feed token opens; 404 for a revoked or unknown one."""
    found = None
    if token.startswith(FEED_PREFIX) and len(token) <= 128:
        found = services.store.collection_by_token_hash("feed_hash", hash_token(token))
    owner = services.store.get_user(found.user_id) if found else None
    if found is None or owner is None:
        raise UserError("this feed is not (or no longer) available", 404)
    return owner, found


# -- export and import ----------------------------------------------------------------


def export(services: Services, collection: Collection, fmt: str) -> str:
    """A collection's papers in order as BibTeX, CSL JSON or JSON lines."""
    if fmt not in EXPORT_FORMATS:
        raise UserError(f"format {fmt[:40]!r} is not one of {', '.join(EXPORT_FORMATS)}")
    out = io.StringIO()
    write((item.paper for item in items(services, collection)), out, fmt)
    return out.getvalue()


@dataclass
class LibraryReport:
    """What an import did with each entry of a library."""

    collection: Collection
    linked: list[str] = field(default_factory=list)  # found in the store
    # New records, stored now: from arXiv (an id list), or the reader's own records,
    # unconfirmed (out of the public lists until confirmed).
    imported: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # entries that could not be read


REPORT_NAMES_KEPT = 20  # names of each kind an import report carries past its redirect


@dataclass(frozen=True)
class ShownReport:
    """An import's report as the collection page shows it after the redirect: how many
    were linked, imported and not read, with the first REPORT_NAMES_KEPT names of each
    (a cookie carries it: a few KB at most)."""

    counts: tuple[int, int, int]
    linked: list[str]
    imported: list[str]
    failed: list[str]


def report_cookie(report: LibraryReport) -> str:
    """The report as the short JSON (base64url) the redirect's cookie carries."""
    lists = (report.linked, report.imported, report.failed)
    text = json.dumps(
        {
            "counts": [len(x) for x in lists],
            "names": [[name[:120] for name in x[:REPORT_NAMES_KEPT]] for x in lists],
        },
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(text.encode()).decode()  # a cookie-safe value


def shown_report(text: str) -> ShownReport | None:
    """The report a cookie carries, or None for anything else (the cookie is the
    reader's own: a malformed one is ignored, never an error)."""
    try:
        data = json.loads(base64.urlsafe_b64decode(text.encode()))
        counts = tuple(int(n) for n in data["counts"])
        names = [[str(name)[:120] for name in x][:REPORT_NAMES_KEPT] for x in data["names"]]
    except (ValueError, TypeError, KeyError, binascii.Error):
        return None
    if len(counts) != 3 or len(names) != 3:
        return None
    linked, imported, failed = names
    return ShownReport((counts[0], counts[1], counts[2]), linked, imported, failed)


def _id_list(text: str) -> list[str] | None:
    """The arXiv ids of a pasted list (one id or URL a line; blank and # lines skipped),
    or None when some line is not one (then the text is a library file)."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    ids = [normalise_arxiv_id(line) for line in lines]
    if not ids or any(found is None for found in ids):
        return None
    return [found for found in ids if found]


def _records(services: Services, data: bytes, name: str, report: LibraryReport) -> list[Paper]:
    """Every record of a library, read whole before anything is stored: a library
    refused part-way (over the upload limits, unreadable) changes nothing."""
    try:
        parsed = parse_any(data, name, limits=upload_limits(services.settings))
        records: list[Paper] = []
        for item in parsed:
            if isinstance(item, Paper):
                records.append(item)
                if len(records) > MAX_LIBRARY_ENTRIES:
                    raise UserError(
                        f"{name}: more than {MAX_LIBRARY_ENTRIES} entries; split the library",
                        413,
                    )
            elif isinstance(item, RecordError) and len(report.failed) < 100:
                report.failed.append(str(item))
    except ParseError as exc:
        raise UserError(f"{exc}", 400) from exc
    return records


def import_library(
    services: Services, reader: User, collection_id: int, data: bytes, name: str
) -> LibraryReport:
    """Add a library to a collection: BibTeX, CSL JSON (Zotero, Better BibTeX) or a list
    of arXiv ids/URLs. Papers already stored (by arXiv id, DOI or normalised title) are
    linked, never changed; the others are kept as the reader's unconfirmed records
    (unknown arXiv ids of a list are fetched from arXiv instead, at most
    MAX_FETCHED_IDS); the report lists which was which.
    Inputs over MAX_LIBRARY_BYTES or MAX_LIBRARY_ENTRIES, or of another format, are
    refused whole and nothing is changed."""
    collection = owned(services, reader, collection_id)
    if len(data) > MAX_LIBRARY_BYTES:
        raise UserError(f"{name}: larger than {MAX_LIBRARY_BYTES // (1024 * 1024)} MB", 413)
    if not data.strip():
        raise UserError(f"{name}: empty; nothing to import")
    report = LibraryReport(collection)
    text = data.decode("utf-8", errors="replace") if b"\0" not in data[:4096] else ""
    ids = _id_list(text) if text else None
    if ids is not None:
        if len(ids) > MAX_LIBRARY_ENTRIES:
            raise UserError(f"{name}: more than {MAX_LIBRARY_ENTRIES} ids", 413)
        paper_ids = _fetched_ids(services, reader, list(dict.fromkeys(ids)), report)
        services.store.add_items(reader.id, collection_id, paper_ids, services.clock())
    else:
        _link_records(
            services, reader, collection_id, _records(services, data, name, report), report
        )
    services.store.update_collection(reader.id, collection_id, seed=f"import:{name[:80]}")
    _changed(services)
    report.collection = owned(services, reader, collection_id)
    return report


def _fetched_ids(
    services: Services, reader: User, ids: list[str], report: LibraryReport
) -> list[int]:
    """The papers of a list of arXiv ids: those the reader can see here are linked; the
    others (unknown here, or known only as another reader sent them) are fetched from
    arXiv, at most MAX_FETCHED_IDS (arXiv's record is a trusted source's: it replaces a
    reader's and confirms the paper). Nothing a reader typed is stored on this path."""
    store = services.store
    known = [store.find_paper_id(arxiv_id, reader) for arxiv_id in ids]
    missing = [arxiv_id for arxiv_id, found in zip(ids, known, strict=True) if found is None]
    wanted = missing[:MAX_FETCHED_IDS]
    for arxiv_id in missing[MAX_FETCHED_IDS:]:
        report.failed.append(f"{arxiv_id}: not fetched (over {MAX_FETCHED_IDS} per import)")
    if wanted:
        try:
            with services.outbound.claim(reader.id):  # bounded, as every call from a page
                fetch_arxiv_api(
                    services.arxiv, store, ArxivQuery(id_list=wanted), max_results=len(wanted)
                )
        except FetchError as exc:
            raise UserError(f"arXiv could not be reached: {exc}", 502) from exc
    fetched = set(wanted)
    paper_ids: list[int] = []
    for arxiv_id, found in zip(ids, known, strict=True):
        if found is not None:
            paper_ids.append(found)
            report.linked.append(arxiv_id)
        elif arxiv_id in fetched and (got := store.find_paper_id(arxiv_id, reader)) is not None:
            paper_ids.append(got)
            report.imported.append(arxiv_id)
        elif arxiv_id in fetched:
            report.failed.append(f"{arxiv_id}: not found on arXiv")
    return paper_ids


def _link_records(
    services: Services,
    reader: User,
    collection_id: int,
    records: list[Paper],
    report: LibraryReport,
) -> None:
    """Add a library's records to the collection as the reader's records, in one
    transaction (Store.link_reader_records): each links to the stored paper it names,
    never changing it, or is kept as a new paper that stays out of the public lists
    until a trusted source or a curator confirms it."""
    links = services.store.link_reader_records(
        reader, [cleaned(r) for r in records], services.clock(), collection_id=collection_id
    )
    if links is None:
        raise UserError(f"you have no collection {collection_id}", 404)
    for link in links:
        record = link.record
        label = record.arxiv_id or record.doi or record.title
        if link.pending:
            report.failed.append(f"{label}: awaiting a curator's confirmation")
        elif link.paper_id is None:
            report.failed.append(f"{label}: no title or id to keep it by")
        elif link.stored:
            report.imported.append(label)
        else:
            report.linked.append(label)


# -- feedback -------------------------------------------------------------------------


def give_feedback(
    services: Services, reader: User, key: str, signal: str, reason: str = ""
) -> None:
    """Record "not interested" (reason: '', 'topic' or 'paper') or "seen"."""
    if signal not in SIGNALS:
        raise UserError(f"signal {signal[:40]!r} is not one of {', '.join(SIGNALS)}", 422)
    if reason not in REASONS:
        raise UserError(f"reason {reason[:40]!r} is not one of topic, paper", 422)
    checked: Signal = "seen" if signal == "seen" else "not_interested"
    services.store.set_feedback(
        reader.id, _paper_id(services, reader, key), checked, reason, services.clock()
    )
    _changed(services)


def undo_feedback(services: Services, reader: User, key: str, signal: str) -> None:
    """Take a signal back."""
    if signal not in SIGNALS:
        raise UserError(f"signal {signal[:40]!r} is not one of {', '.join(SIGNALS)}", 422)
    checked: Signal = "seen" if signal == "seen" else "not_interested"
    if not services.store.remove_feedback(reader.id, _paper_id(services, reader, key), checked):
        raise UserError(f"no {signal} on {key[:200]!r} to undo", 404)
    _changed(services)


def feedback(services: Services, reader: User) -> list[Feedback]:
    """The reader's signals, newest first (the account page lists them, undoable)."""
    return services.store.feedback_of(reader.id)


# -- profiles and recommendations ---------------------------------------------------


def seed_from_author(services: Services, reader: User, author: str) -> Collection:
    """A new profile "Papers by NAME" holding the stored papers by that author."""
    author = " ".join(author.split())
    if not author or len(author) > 200:
        raise UserError("an author name is 1 to 200 characters")
    ids = services.store.papers_by_author(author, AUTHOR_SEED_PAPERS)
    if not ids:
        raise UserError(f"no stored paper has an author named {author!r}", 404)
    made = create(services, reader, f"Papers by {author}"[:MAX_NAME], profile=True)
    services.store.add_items(reader.id, made.id, ids, services.clock())
    services.store.update_collection(reader.id, made.id, seed=f"author:{author}")
    return owned(services, reader, made.id)


def recommendations(
    services: Services,
    reader: User,
    collection: Collection,
    limit: int,
    show_seen: bool = False,
) -> list[Recommendation]:
    """The best papers for a profile (any of the reader's collections; the Reading list
    also takes the reader's upvotes), explained; never one in the profile or dismissed,
    nor one seen unless `show_seen`. Showing marks nothing seen (issue 27: a reload
    used to empty the list); opening or dismissing a paper does (`open_recommended`)."""
    if collection.user_id != reader.id:
        raise UserError(f"you have no collection {collection.id}", 404)
    limit = max(1, min(limit, MAX_RECOMMENDATIONS))
    store = services.store
    return profile_recommendations(
        store, _corpus(services), reader.id, collection.id, limit, show_seen=show_seen
    )


def _corpus(services: Services) -> Corpus:
    """The candidates of the model search reads; UserError(503) while a first build
    another request started is not ready in time (recommend.corpus.cached_corpus)."""
    try:
        return cached_corpus(services.store, services.deployment.meaning_model())
    except CorpusNotReadyError as exc:
        raise UserError(str(exc), 503) from exc


OPENED = "opened"  # the reason of a "seen" mark made by opening a paper from /for-you


@dataclass(frozen=True, slots=True)
class DayPick:
    """One paper of a profile's list for the day, and whether the reader has opened it
    from the list (`seen`)."""

    rec: Recommendation
    seen: bool


def day_recommendations(
    services: Services, reader: User, collection: Collection, limit: int
) -> list[DayPick]:
    """The profile's list for today: on the reader's first visit of the day the best
    `limit` unseen papers are kept (store.keep_day_list), and every visit that day shows
    that list in that order — a reload, an opened paper or a paper saved elsewhere
    changes nothing. A paper leaves it only when the reader dismisses it ("not
    interested") or adds it to this profile; papers opened stay, marked seen, and make
    way for others the next day."""
    if collection.user_id != reader.id:
        raise UserError(f"you have no collection {collection.id}", 404)
    store = services.store
    today = services.clock().date()
    kept = store.day_list(reader.id, collection.id, today)
    if kept is None:
        fresh = recommendations(services, reader, collection, limit)
        kept = store.keep_day_list(reader.id, collection.id, today, [r.paper_id for r in fresh])
    if not kept:
        return []
    recs = profile_recommendations(
        store,
        _corpus(services),
        reader.id,
        collection.id,
        len(kept),
        among_ids=kept,
        show_seen=True,
    )
    place = {pid: i for i, pid in enumerate(kept)}
    recs.sort(key=lambda r: place[r.paper_id])
    opened = {f.paper_id for f in store.feedback_of(reader.id) if f.reason == OPENED}
    return [DayPick(r, r.paper_id in opened) for r in recs]


def for_you_list(
    services: Services, reader: User, collection: Collection, limit: int, show_seen: bool = False
) -> list[tuple[FeedEntry, Recommendation, bool]]:
    """What /for-you lists for a profile: each paper's entry, its recommendation, and
    whether the reader opened it from today's list. Today's list (day_recommendations);
    with `show_seen`, every recommendation, the seen ones included, live (not kept, and
    none marked opened)."""
    if show_seen:
        recs = recommendations(services, reader, collection, limit, show_seen=True)
        picks = [DayPick(r, False) for r in recs]
    else:
        picks = day_recommendations(services, reader, collection, limit)
    opened = {p.rec.paper_id for p in picks if p.seen}
    entries = recommended_entries(services, [p.rec for p in picks])
    return [(entry, rec, rec.paper_id in opened) for entry, rec in entries]


def open_recommended(services: Services, reader: User, key: str) -> str:
    """The reader opens a paper from their /for-you list: it is marked seen (it stays on
    today's list, and is not recommended again after today) and its key is returned for
    the redirect. Only a paper on one of the reader's kept lists is marked, so a link
    made elsewhere cannot mark arbitrary papers seen."""
    paper_id = _paper_id(services, reader, key)
    if services.store.on_day_list(reader.id, paper_id):
        # Only this reader's pages change, and those are never cached (web.responses):
        # the page cache is left alone, as a click is frequent.
        services.store.mark_seen(reader.id, [paper_id], OPENED, services.clock())
    return key


def reading_list(services: Services, reader: User) -> tuple[Collection, list[FeedEntry]]:
    """The reader's Reading list (reading_list_of) and its papers as feed entries, in
    the collection's order."""
    first = reading_list_of(services, reader)
    entries = services.store.entries([item.paper for item in items(services, first)])
    mark_voted(services, entries, reader)
    return first, entries
