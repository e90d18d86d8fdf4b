"""Readers' records and their confirmation (issue 25), the store's side of the trust
rule of models.merge_papers.

A reader's records (a submission typed in or uploaded, a library import) come in through
:meth:`TrustTables.link_reader_records` only: each record either links to the stored
paper it names, which it never changes, or is stored as a new, unconfirmed paper; the
links (the reader's submission, the items of their collection) are written in the same
transaction, so a request that fails writes nothing. An unconfirmed paper is seen only as
store.visibility says, until a trusted source brings the same paper (its record then
wins, models._confirm) or a curator confirms it (:meth:`TrustTables.confirm_paper`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from paperwire.models import Paper, User, as_reader_record, normalise_title
from paperwire.store.collections import add_items_in, owns_collection
from paperwire.store.papers import PaperTables, find_row, match_rows
from paperwire.store.rows import row_to_paper
from paperwire.store.sqlconn import Conn, Row, iso
from paperwire.store.visibility import visible


@dataclass(frozen=True, slots=True)
class ReaderLink:
    """What became of one record a reader sent."""

    record: Paper
    paper_id: int | None  # the stored paper it links to (None: not linked)
    key: str | None
    stored: bool = False  # a new, unconfirmed paper was made of it
    listed: bool = False  # newly listed on the day's feed as the reader's submission
    # It names a paper another reader sent that no curator or trusted source has
    # confirmed yet: not linked (linking would show that reader's record to this one).
    pending: bool = False


def _nameable(record: Paper) -> bool:
    return bool(record.arxiv_id or record.doi or normalise_title(record.title))


class TrustTables(PaperTables):
    """Part of every Store: readers' records in, curators' confirmation, the queue."""

    def link_reader_records(
        self,
        reader: User,
        records: list[Paper],
        now: datetime,
        *,
        list_on: date | None = None,
        collection_id: int | None = None,
    ) -> list[ReaderLink] | None:
        """Link each record to the stored paper it names (by arXiv id, DOI or normalised
        title: store.papers.match_rows), storing the others as new unconfirmed papers
        (no upvote count: models.as_reader_record); then list the linked papers on the
        feed of `list_on` as the reader's submissions, and/or add them to the reader's
        collection `collection_id`. One transaction: all of it or nothing. None when the
        reader owns no such collection (nothing written)."""
        with self.write() as conn:
            if collection_id is not None and not owns_collection(
                conn, reader.id, collection_id, self.dialect.lock_rows
            ):
                return None
            self._serialise_paper_writes(conn)
            rows = match_rows(conn, records)
            # A record with nothing to find it by again (no id, a title of punctuation
            # only) is not kept: it could be linked to nothing.
            new = [i for i, row in enumerate(rows) if row is None and _nameable(records[i])]
            # Papers past this id are the ones this transaction stores (writers are
            # serialised: no other can insert meanwhile).
            last_id = int(conn.execute("SELECT coalesce(max(id), 0) FROM papers").fetchone()[0])
            if new:
                self._upsert_in(conn, [as_reader_record(records[i]) for i in new])
                for i, row in zip(new, match_rows(conn, [records[i] for i in new]), strict=True):
                    rows[i] = row
            links = [
                self._link(conn, reader, record, row, last_id)
                for record, row in zip(records, rows, strict=True)
            ]
            ids = [link.paper_id for link in links if link.paper_id is not None]
            if list_on is not None:
                links = [self._list(conn, link, reader, list_on, now) for link in links]
            if collection_id is not None:
                add_items_in(conn, collection_id, ids, now)
        return links

    @staticmethod
    def _link(conn: Conn, reader: User, record: Paper, row: Row | None, last_id: int) -> ReaderLink:
        """The link of one record to the paper `row` (stored by this transaction when its
        id is past `last_id`)."""
        if row is None:  # a record with nothing to name it by (no title, no id)
            return ReaderLink(record, None, None)
        stored = int(row["id"]) > last_id
        if not row["confirmed"] and not stored:
            condition, params = visible(reader)
            seen = conn.execute(
                f"SELECT 1 FROM papers p WHERE p.id = ? AND {condition}", (row["id"], *params)
            ).fetchone()
            if seen is None:
                return ReaderLink(record, None, None, pending=True)
        return ReaderLink(record, int(row["id"]), str(row["key"]), stored=stored)

    @staticmethod
    def _list(conn: Conn, link: ReaderLink, reader: User, day: date, now: datetime) -> ReaderLink:
        if link.paper_id is None:
            return link
        created = conn.execute(
            "INSERT INTO submissions (paper_id, day, user_id, submitted_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (paper_id) DO NOTHING RETURNING id",
            (link.paper_id, day.isoformat(), reader.id, iso(now)),
        ).fetchone()
        return ReaderLink(
            link.record, link.paper_id, link.key, link.stored, listed=created is not None
        )

    def confirm_paper(self, key: str) -> Paper | None:
        """A curator's confirmation: the paper (by key, former key or arXiv id) joins the
        public lists, search and feeds (the indexes pick it up from the change feed).
        Returns it as confirmed (confirming twice changes nothing); None when unknown."""
        with self.write() as conn:
            row = find_row(conn, key)
            if row is None:
                return None
            if not row["confirmed"]:
                seq = self._next_seq(conn)
                conn.execute(
                    "UPDATE papers SET confirmed = 1, seq = ?, modified_at = ? WHERE id = ?",
                    (seq, iso(datetime.now(UTC)), row["id"]),
                )
            paper = row_to_paper(row)
        paper.confirmed = True
        return paper

    def unconfirmed_papers(self, limit: int = 100) -> list[Paper]:
        """Papers awaiting confirmation, newest first (the curators' queue)."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT * FROM papers WHERE confirmed = 0 ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [row_to_paper(row) for row in rows]
